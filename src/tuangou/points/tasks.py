"""The points' worker job, once per local day: expire what each member earned in the years
whose points are past their end (one expiry transfer per member and year), and, once a year
from December 1st, tell each member what of their points expires at the year's end."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.orm import Session

from tuangou.core import clock, outbox
from tuangou.core.db import run_in_transaction, upsert_insert
from tuangou.core.models import InstanceSetting
from tuangou.points import service as points

log = logging.getLogger(__name__)
LAST_RUN = "points_expiry_last_run"  # instance setting: the local date of the last run
WARNED = "points_expiry_warned_year"  # instance setting: the year whose warning went out
WARN_FROM_MONTH = 12  # a month before the year's end


def _claim(session: Session, name: str, value: str) -> bool:
    """Compare-and-set an instance setting forward to ``value``: True for the one worker
    that moved it."""
    ins = upsert_insert(session)
    session.execute(
        ins(InstanceSetting)
        .values(name=name, value="")
        .on_conflict_do_nothing(index_elements=["name"])
    )
    moved = session.execute(
        update(InstanceSetting)
        .where(InstanceSetting.name == name, InstanceSetting.value < value)
        .values(value=value)
    ).rowcount  # type: ignore[attr-defined]
    return bool(moved)


def _claim_today(session: Session) -> bool:
    return _claim(session, LAST_RUN, clock.local_date(clock.now()).isoformat())


def warn_expiring() -> int:
    """From December 1st (local), once a year: an inbox message to each member with points
    that expire at the end of this year, saying how many. Returns the members told."""
    today = clock.local_date(clock.now())
    if today.month < WARN_FROM_MONTH:
        return 0
    if not run_in_transaction(lambda s: _claim(s, WARNED, str(today.year))):
        return 0
    told = 0
    for user_id in run_in_transaction(points.members_with_points):

        def one(session: Session, user_id: int = user_id) -> int:
            due = sum(
                e.points
                for e in points.expiring(session, user_id, today=today)
                if e.on.year == today.year
            )
            if due <= 0:
                return 0
            outbox.emit(
                session,
                "points.expiring",
                {
                    "user_ids": [user_id],
                    "points": due,
                    "on": f"{today.year}-12-31",
                    "year": today.year,
                },
            )
            return 1

        try:
            told += run_in_transaction(one)
        except Exception:
            log.exception("points expiry warning failed for member %s", user_id)
    return told


def expire_all() -> int:
    """Expire every member's due points now; returns the points expired."""
    total = 0
    for user_id in run_in_transaction(points.members_with_points):

        def one(session: Session, user_id: int = user_id) -> int:
            return points.expire_member(session, user_id)

        try:
            total += run_in_transaction(one)
        except Exception:  # one member's failure must not stop the others
            log.exception("points expiry failed for member %s", user_id)
    return total


def expire_daily() -> int:
    """The worker's job: :func:`expire_all` once per local day."""
    if not run_in_transaction(_claim_today):
        return 0
    return expire_all() + warn_expiring()
