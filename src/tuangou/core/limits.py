"""Attempt limits: how many times one subject (a phone number, an IP address) may do a thing
in a window of time: log in with a wrong password, ask for an SMS code, sign up.

Windows are fixed (an hour starts on the hour, from the epoch), counted in the database so
that every server process and worker shares them. A refusal is :class:`RateLimited` with
``retry_after``: the seconds until the window ends (the API sends it as ``Retry-After``).
Failures are counted in a transaction of their own (:func:`count`), so that a refused
request that rolls back still counts; what counts once done is counted in its own
transaction (:func:`take`). Counts of windows long over are deleted by the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import read, run_in_transaction, upsert_insert
from tuangou.core.errors import RateLimited
from tuangou.core.models import AttemptCount

EPOCH = datetime(2000, 1, 1)
KEEP = timedelta(days=1)  # counts of windows over for longer than this are deleted


@dataclass(frozen=True)
class Limit:
    scope: str  # what is limited, e.g. "login_phone"
    setting: str  # the setting that says how many attempts a window allows
    per: timedelta  # the window
    message: str  # what the refusal says

    @property
    def most(self) -> int:
        return int(getattr(get_settings(), self.setting))


def _window(limit: Limit, now: datetime) -> tuple[datetime, datetime]:
    start = EPOCH + (now - EPOCH) // limit.per * limit.per
    return start, start + limit.per


def check(limit: Limit, subject: str | None, session: Session | None = None) -> None:
    """Raise :class:`RateLimited` if ``subject`` has used up this window (no subject: no
    limit). Read in ``session``, or on its own."""
    if not subject:
        return
    now = clock.now()
    start, end = _window(limit, now)

    def used(s: Session) -> int | None:
        return s.scalar(
            select(AttemptCount.count).where(
                AttemptCount.scope == limit.scope,
                AttemptCount.subject == subject[:64],
                AttemptCount.window_start == start,
            )
        )

    so_far = used(session) if session is not None else read(used)
    if so_far is not None and so_far >= limit.most:
        seconds = max(1, int((end - now).total_seconds() + 0.999))
        raise RateLimited(limit.message, retry_after=seconds)


def _add(session: Session, limit: Limit, subject: str) -> None:
    start, end = _window(limit, clock.now())
    stmt = upsert_insert(session)(AttemptCount).values(
        scope=limit.scope, subject=subject[:64], window_start=start, count=1, ends_at=end
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["scope", "subject", "window_start"],
            set_={"count": AttemptCount.count + 1},
        )
    )


def count(limit: Limit, subject: str | None) -> None:
    """Count one attempt of ``subject`` in a transaction of its own: for failures, whose
    request is refused and rolled back (call it outside any write transaction)."""
    if subject:
        run_in_transaction(lambda session: _add(session, limit, subject))


def take(session: Session, limit: Limit, subject: str | None) -> None:
    """Check, then count, in the caller's transaction: for what counts once it is done (a
    code sent, an account made)."""
    if subject:
        check(limit, subject, session)
        _add(session, limit, subject)


def forget_old() -> int:
    """Delete the counts of windows over for a day (a worker job)."""

    def purge(session: Session) -> int:
        cutoff = clock.now() - KEEP
        return int(
            session.execute(delete(AttemptCount).where(AttemptCount.ends_at < cutoff)).rowcount  # type: ignore[attr-defined]
        )

    return run_in_transaction(purge)
