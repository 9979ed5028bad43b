"""The one source of "now". Tests move time with :func:`set_offset`.

Nothing else reads the OS clock.

Times are stored as naive UTC datetimes (the same on SQLite and PostgreSQL) and shown in the
deployment's time zone at the edges.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from typing import overload
from zoneinfo import ZoneInfo

_offset = timedelta(seconds=float(os.environ.get("TUANGOU_CLOCK_OFFSET_SECONDS", "0") or 0))


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + _offset


def set_offset(delta: timedelta) -> None:
    global _offset
    _offset = delta


def advance(delta: timedelta) -> None:
    global _offset
    _offset += delta


def offset() -> timedelta:
    return _offset


@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: datetime | None) -> str | None: ...
def iso(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 with its UTC offset (API output); None stays None."""
    return as_utc(value).isoformat() if value else None


def as_utc(value: datetime) -> datetime:
    """A stored naive UTC time, made aware (for API output)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _zone() -> ZoneInfo:
    from tuangou.core.config import get_settings

    return ZoneInfo(get_settings().timezone)


def to_local(value: datetime) -> datetime:
    """A stored UTC time in the deployment's time zone (for display)."""
    return as_utc(value).astimezone(_zone())


def local_date(value: datetime) -> date:
    """The calendar date, in the deployment's time zone, of a stored UTC time."""
    return as_utc(value).astimezone(_zone()).date()


def local_midnight(day: date) -> datetime:
    """The stored (naive UTC) time of the start of ``day`` in the deployment's time zone."""
    return datetime.combine(day, time.min, tzinfo=_zone()).astimezone(UTC).replace(tzinfo=None)
