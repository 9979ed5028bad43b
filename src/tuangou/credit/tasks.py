"""The leader credit's worker job, once per local day: pause the leaders below the
threshold, resume those the credit paused who have recovered. Several workers run it once a
day between them (a compare-and-set on an instance setting)."""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.orm import Session

from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, upsert_insert
from tuangou.core.models import InstanceSetting
from tuangou.credit import service as credit

log = logging.getLogger(__name__)
LAST_RUN = "credit_last_run"  # instance setting: the local date of the last daily run


def _claim_today(session: Session) -> bool:
    """Compare-and-set the day of the last run: True for the one worker that runs today."""
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


def recompute_daily() -> int:
    """The worker's daily job: returns how many leaders it looked at (0 if not due today)."""
    if not run_in_transaction(_claim_today):
        return 0
    leader_ids = run_in_transaction(
        lambda s: [leader.id for leader in communities.list_leaders(s, limit=1_000_000)]
    )
    for leader_id in leader_ids:

        def apply(session: Session, leader_id: int = leader_id) -> str | None:
            return credit.apply_credit(session, leader_id)

        try:
            run_in_transaction(apply)
        except Exception:  # one leader's failure must not stop the others
            log.exception("credit recompute failed for leader %s", leader_id)
    return len(leader_ids)
