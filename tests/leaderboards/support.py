"""Seeding for the leaderboard tests, through the services (fast, no HTTP)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from typing import Any

import pytest

from tests.points.helpers import local, read, tx
from tests.pools.support import Person, SeededLeader, seed_leader, seed_members, seed_operator
from tuangou.core import clock
from tuangou.leaderboards import service as boards
from tuangou.leaderboards.rules import ActionKind, Period

_refs = itertools.count(1)

__all__ = [
    "ActionKind",
    "Period",
    "Person",
    "SeededLeader",
    "act",
    "at_local",
    "board",
    "clock_at",
    "community",
    "hold",
    "local",
    "read",
    "tx",
]


def at_local(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return local(day, time(hour, minute))


@contextmanager
def clock_at(monkeypatch: pytest.MonkeyPatch, when: datetime) -> Iterator[None]:
    with monkeypatch.context() as m:
        m.setattr(clock, "now", lambda: when)
        yield


def community(n: int = 4) -> tuple[Person, SeededLeader, list[Person]]:
    """An operator, a leader's community and ``n`` members of it."""
    op = seed_operator()
    leader = seed_leader(op.user_id)
    return op, leader, seed_members(leader, n)


def act(
    community_id: int,
    user: Person | int,
    kind: ActionKind,
    at: datetime,
    *,
    by: int | None = None,
    ref: str | None = None,
) -> int:
    uid = user if isinstance(user, int) else user.user_id
    return tx(
        lambda s: boards.record(
            s,
            community_ids=[community_id],
            user_id=uid,
            kind=kind,
            ref=ref or f"t:{next(_refs)}",
            at=at,
            by_user_id=by,
        )
    )


def board(community_id: int, period: Period, start: date) -> list[tuple[int, int, int]]:
    """(rank, member, score) of each place."""
    found = read(lambda s: boards.board(s, community_id, period, start))
    return [(p.rank, p.user_id, p.score) for p in found.standings]


def hold(operator_id: int, members: list[int], *, confirm: bool = False) -> int:
    """A review case of the risk engine naming ``members`` (flagged: held); confirmed, they
    are blocked and the case's hooks run."""
    from tuangou.risk import service as risk
    from tuangou.risk.models import RiskCase, RiskFlag

    def open_case(s: Any) -> int:
        case = RiskCase(
            kind="dense_ring",
            source="graph",
            status="open",
            fingerprint=f"f{next(_refs)}",
            members=json.dumps(members),
            reasons="[]",
            edges="[]",
            opened_at=clock.now(),
            decided_at=None,
            decided_by=None,
            note=None,
        )
        s.add(case)
        s.flush()
        for m in members:
            s.add(
                RiskFlag(
                    member_id=m, status="flagged", case_id=case.id, summary="t", at=clock.now()
                )
            )
        return int(case.id)

    case_id = tx(open_case)
    if confirm:
        tx(lambda s: risk.decide_case(s, case_id, confirm=True, operator_id=operator_id))
    return case_id
