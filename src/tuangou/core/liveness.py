"""Is the platform ready to serve: the database answers, its schema is the code's, and a
worker is alive. ``/api/ready`` reports it (``/api/health`` only says the process is up).

A worker proves it is alive by a heartbeat: the wall-clock time of its last round, written
to ``instance_settings`` at most every :data:`BEAT_EVERY` (one small write, shared by every
server process and worker, whichever runs the jobs). It is alive while its last beat is
younger than :data:`ALIVE_WITHIN`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tuangou.core.db import unit_of_work, upsert_insert
from tuangou.core.models import InstanceSetting

HEARTBEAT = "worker_heartbeat"
BEAT_EVERY = 10.0  # seconds
ALIVE_WITHIN = timedelta(seconds=60)

_last_beat = float("-inf")


def beat(*, force: bool = False) -> bool:
    """Record that a worker is alive (at most every BEAT_EVERY seconds in this process)."""
    global _last_beat
    now = time.monotonic()
    if not force and now - _last_beat < BEAT_EVERY:
        return False
    _last_beat = now
    value = datetime.now(UTC).isoformat()
    with unit_of_work() as session:
        session.execute(
            upsert_insert(session)(InstanceSetting)
            .values(name=HEARTBEAT, value=value)
            .on_conflict_do_update(index_elements=["name"], set_={"value": value})
        )
    return True


def last_beat(session: Session) -> datetime | None:
    value = session.scalar(select(InstanceSetting.value).where(InstanceSetting.name == HEARTBEAT))
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Readiness:
    database: bool
    migrations: bool
    worker: bool
    worker_seen: datetime | None
    schema: str | None
    code_schema: str | None

    @property
    def ready(self) -> bool:
        return self.database and self.migrations and self.worker


@cache
def _code_schema() -> str | None:
    from tuangou.core import migrate

    return migrate.head()  # reads the migration scripts: once per process


def check() -> Readiness:
    """Each check on its own: a database that does not answer fails them all."""
    from tuangou.core import migrate

    code_schema = _code_schema()
    try:
        with unit_of_work(readonly=True) as session:
            session.execute(text("SELECT 1"))
            seen = last_beat(session)
        schema = migrate.current()
    except Exception:  # the database is unreachable: not ready, whatever the reason
        return Readiness(False, False, False, None, None, code_schema)
    alive = seen is not None and datetime.now(UTC) - seen <= ALIVE_WITHIN
    return Readiness(True, schema == code_schema, alive, seen, schema, code_schema)
