"""The one lock order (tuangou.core.locks): a path that takes a lock below one it holds is
caught, a lock taken again is fine, and rows guarded by a held lock may come in any order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from tuangou.core import locks
from tuangou.core.config import get_settings
from tuangou.core.locks import LockOrderViolation, Rank


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    monkeypatch.setattr(get_settings(), "check_lock_order", True)
    yield Session()


def test_the_order_of_a_join_and_a_confirmation_passes(session: Session) -> None:
    locks.note(session, Rank.GROUP, 7)  # the team's seat
    locks.note(session, Rank.LIMIT, 42)  # the member's limit
    locks.note(session, Rank.STOCK, 3)  # the campaign's stock, last
    locks.note(session, Rank.GROUP, 7)  # taken again: fine


def test_a_lower_rank_after_a_higher_one_is_refused(session: Session) -> None:
    locks.note(session, Rank.ORDER, 5)
    locks.note(session, Rank.STOCK, 1)
    with pytest.raises(LockOrderViolation, match="LIMIT 9 locked after STOCK 1"):
        locks.note(session, Rank.LIMIT, 9)


def test_rows_of_one_rank_go_in_ascending_id(session: Session) -> None:
    locks.note(session, Rank.ORDER, [4, 2, 9])  # sorted by note itself
    with pytest.raises(LockOrderViolation):
        locks.note(session, Rank.ORDER, 3)


def test_rows_under_a_held_lock_come_in_any_order(session: Session) -> None:
    locks.note(session, Rank.GROUP, 1)
    locks.note(session, Rank.STOCK, 8)
    locks.note(session, Rank.ORDER, [30, 10], under=(Rank.GROUP, 1))
    locks.note(session, Rank.ORDER, 10)  # held now: taking it again is fine
    with pytest.raises(LockOrderViolation, match="not held"):
        locks.note(session, Rank.ORDER, 11, under=(Rank.GROUP, 2))


def test_unchecked_it_records_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "check_lock_order", False)
    session = Session()
    locks.note(session, Rank.STOCK, 1)
    locks.note(session, Rank.PAYMENT, 1)
    assert session.info == {}
