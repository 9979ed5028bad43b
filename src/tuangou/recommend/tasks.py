"""The worker's job: train the next model version when the last one is older than the
schedule (``TUANGOU_RECOMMEND_TRAIN_HOURS``, 24 by default; 0: never by the worker), once
between all workers (a compare-and-set on an instance setting, as the risk graph does)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import run_in_transaction, upsert_insert
from tuangou.core.models import InstanceSetting
from tuangou.recommend import service as recommend

LAST_RUN = "recommend_last_train"  # instance setting: when training last started (ISO)


def _claim(hours: int, session: Session) -> bool:
    now = clock.now()
    due_before = (now - timedelta(hours=hours)).isoformat()
    ins = upsert_insert(session)
    session.execute(
        ins(InstanceSetting)
        .values(name=LAST_RUN, value="")
        .on_conflict_do_nothing(index_elements=["name"])
    )
    moved = session.execute(
        update(InstanceSetting)
        .where(InstanceSetting.name == LAST_RUN, InstanceSetting.value < due_before)
        .values(value=now.isoformat())
    ).rowcount  # type: ignore[attr-defined]
    return bool(moved)


def train_due() -> int:
    """1 when a version was trained (good or failed), else 0."""
    hours = get_settings().recommend_train_hours
    if hours <= 0 or not run_in_transaction(lambda s: _claim(hours, s)):
        return 0
    recommend.train()
    return 1
