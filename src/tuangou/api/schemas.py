"""The replies of the API's own routes (the system tag)."""

from __future__ import annotations

from pydantic import Field

from tuangou.core.schemas import Out


class NoopOut(Out):
    ok: bool


class HealthOut(Out):
    status: str
    version: str


class ReadyOut(Out):
    """Whether this deployment can serve: 200 when every check holds, else 503."""

    ready: bool
    database: bool = Field(description="the database answers")
    migrations: bool = Field(description="the database's schema is the code's")
    worker: bool = Field(description="a worker ran its jobs within the last minute")
    worker_seen_at: str | None = Field(description="the last worker heartbeat")
    schema_revision: str | None
    code_revision: str | None
