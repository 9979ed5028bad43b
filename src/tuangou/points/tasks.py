"""The points' worker job, once per local day: expire what each member earned in the years
whose points are past their end (one expiry transfer per member and year)."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.db import run_in_transaction, upsert_insert
from tuangou.core.models import InstanceSetting
from tuangou.points import service as points

log = logging.getLogger(__name__)
LAST_RUN = "points_expiry_last_run"  # instance setting: the local date of the last run


def _claim_today(session: Session) -> bool:
    today = clock.local_date(clock.now()).isoformat()
    ins = upsert_insert(session)
    session.execute(
        ins(InstanceSetting)
        .values(name=LAST_RUN, value="")
        .on_conflict_do_nothing(index_elements=["name"])
    )
    moved = session.execute(
        update(InstanceSetting)
        .where(InstanceSetting.name == LAST_RUN, InstanceSetting.value < today)
        .values(value=today)
    ).rowcount  # type: ignore[attr-defined]
    return bool(moved)


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
    return expire_all()
