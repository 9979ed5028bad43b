"""Page sessions in the accounts service: their expiry (pure rules, Hypothesis), the worker's
job that deletes ended ones, and log out on every device. On both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import scalar
from tuangou.accounts import rules, tasks
from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction

IDLE = timedelta(hours=72)
LIFETIME = timedelta(days=30)
T0 = datetime(2026, 1, 1)
HOURS = st.integers(min_value=0, max_value=24 * 40)


@given(HOURS, HOURS)
def test_a_session_lives_for_the_idle_time_after_it_was_seen_and_never_past_its_lifetime(
    seen_after: int, asked_after: int
) -> None:
    seen = T0 + timedelta(hours=seen_after)
    now = seen + timedelta(hours=asked_after)
    alive = rules.session_alive(T0, seen, now, idle=IDLE, lifetime=LIFETIME)
    assert alive == (now - seen < IDLE and now - T0 < LIFETIME)
    expiry = rules.session_expiry(T0, seen, idle=IDLE, lifetime=LIFETIME)
    assert expiry <= T0 + LIFETIME and expiry <= seen + IDLE


@given(st.integers(min_value=0, max_value=3600))
def test_a_renewal_is_written_once_the_interval_is_over(seconds: int) -> None:
    due = rules.session_renewal_due(T0, T0 + timedelta(seconds=seconds))
    assert due == (seconds >= rules.SESSION_RENEW_EVERY.total_seconds())


def _user(phone: str) -> Any:
    return run_in_transaction(
        lambda db: accounts.create_user(db, phone=phone, password=None, nickname="邻居")
    )


def _open(user: object) -> str:
    session_id, _ = run_in_transaction(
        lambda db: accounts.open_page_session(db, user)  # type: ignore[arg-type]
    )
    return session_id


def _alive(session_id: str) -> bool:
    return read(lambda db: accounts.find_page_session(db, session_id)) is not None


def test_the_worker_deletes_ended_sessions_and_keeps_live_ones(db: str) -> None:
    user = _user("13911114441")
    left = _open(user)
    clock.advance(timedelta(days=2))
    used = _open(user)
    assert tasks.forget_expired_sessions() == 0
    clock.advance(timedelta(days=1, minutes=1))  # the first is idle for 3 days and a minute
    assert not _alive(left) and _alive(used)
    assert tasks.forget_expired_sessions() == 1
    assert scalar("SELECT COUNT(*) FROM web_sessions") == 1
    # A renewed session is kept past its first expiry, and deleted once it ends.
    state = read(lambda db: accounts.find_page_session(db, used))
    assert state is not None
    assert run_in_transaction(lambda db: accounts.save_page_session(db, used, state))
    clock.advance(timedelta(days=2, hours=23))
    assert tasks.forget_expired_sessions() == 0 and _alive(used)
    clock.advance(timedelta(hours=1))
    assert tasks.forget_expired_sessions() == 1
    assert scalar("SELECT COUNT(*) FROM web_sessions") == 0


def test_a_renewal_racing_another_is_written_once_and_never_revives_an_ended_session(
    db: str,
) -> None:
    user = _user("13911114442")
    session_id = _open(user)
    clock.advance(rules.SESSION_RENEW_EVERY)
    state = read(lambda db: accounts.find_page_session(db, session_id))
    assert state is not None
    first = run_in_transaction(lambda db: accounts.save_page_session(db, session_id, state))
    second = run_in_transaction(lambda db: accounts.save_page_session(db, session_id, state))
    assert (first, second) == (True, False)
    run_in_transaction(lambda db: accounts.end_page_session(db, session_id))
    late = run_in_transaction(
        lambda db: accounts.save_page_session(db, session_id, state, data={"x": 1})
    )
    assert late is False and not _alive(session_id)
    assert scalar("SELECT COUNT(*) FROM web_sessions") == 0


def test_log_out_everywhere_ends_every_page_session_of_the_user_only(db: str) -> None:
    one, two = _user("13911114443"), _user("13911114444")
    mine = [_open(one), _open(one)]
    theirs = _open(two)
    run_in_transaction(lambda db: accounts.log_out_everywhere(db, one.id))
    assert not any(_alive(s) for s in mine)
    assert _alive(theirs)
