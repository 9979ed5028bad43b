"""The risk engine's worker job: the graph work (rings, lockstep groups, the same person
behind many accounts, invite farms) over the recent events, every few minutes. Its findings
become review cases, and the members they name are flagged: the per-event check in the
request path reads those flags (``risk.service.assess``).

Several workers run it once per period between them (a compare-and-set on an instance
setting, as the leader credit's daily job does).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.db import run_in_transaction, upsert_insert
from tuangou.core.models import InstanceSetting
from tuangou.risk import service as risk

LAST_RUN = "risk_graph_last_run"  # instance setting: when the graph work last ran (ISO)
EVERY = timedelta(minutes=5)


def _claim(session: Session) -> bool:
    now = clock.now()
    due_before = (now - EVERY).isoformat()
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


def analyse_graph(*, force: bool = False, now: datetime | None = None) -> int:
    """The worker's job: the number of cases it opened (0 when not due)."""
    if not force and not run_in_transaction(_claim):
        return 0
    return len(run_in_transaction(lambda s: risk.analyse(s, now=now)))
