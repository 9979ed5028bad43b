"""The replies of the API's own routes (the system tag)."""

from __future__ import annotations

from tuangou.core.schemas import Out


class NoopOut(Out):
    ok: bool


class HealthOut(Out):
    status: str
    version: str
