from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work

T = TypeVar("T")
_phones = itertools.count(1)


def member(nickname: str = "邻居", role: str = "member") -> int:
    from tuangou.accounts import service as accounts

    phone = f"136{next(_phones):08d}"
    return run_in_transaction(
        lambda s: (
            accounts.create_user(
                s, phone=phone, password="secret123", nickname=nickname, role=role
            ).id
        )
    )


def tx(fn: Callable[[Any], T]) -> T:
    return run_in_transaction(fn)


def read(fn: Callable[[Any], T]) -> T:
    with unit_of_work(readonly=True) as session:
        return fn(session)


def local(day: date, at: time) -> datetime:
    """The stored (naive UTC) time of ``at`` on ``day`` in the deployment's time zone."""
    from tuangou.core.config import get_settings

    zone = ZoneInfo(get_settings().timezone)
    return datetime.combine(day, at, tzinfo=zone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


@contextmanager
def frozen(monkeypatch: pytest.MonkeyPatch, at: datetime) -> Iterator[None]:
    """Stop the clock at ``at`` (a stored naive UTC time)."""
    monkeypatch.setattr(clock, "now", lambda: at)
    try:
        yield
    finally:
        monkeypatch.undo()


def journal_sum(user_id: int) -> int:
    from tests.conftest import scalar

    return int(
        scalar(
            "SELECT COALESCE(SUM(amount), 0) FROM points_entries WHERE account = :a",
            a=f"member:{user_id}",
        )
    )


def task_points(user_id: int) -> int:
    """What the member's weekly tasks and achievements awarded (issue 14), which the
    actions these tests make may complete."""
    from tests.conftest import scalar

    return int(
        scalar(
            "SELECT COALESCE(SUM(points), 0) FROM points_awards WHERE user_id = :u"
            " AND ((reason = 'task' AND key LIKE 'task:%')"
            " OR (reason = 'achievement' AND key LIKE 'achievement:%'))",
            u=user_id,
        )
    )
