"""Opaque keyset cursors, shared by every list that pages.

A cursor is the last item's sort key, written as URL-safe base64 of its parts joined by
``|`` (``datetime`` parts in ISO form). The next page starts strictly after it, read with a
``WHERE key > :cursor`` an index range serves, never ``OFFSET``. Pure: no database here."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tuangou.core.errors import InvalidInput

Part = int | str | datetime


class BadCursor(ValueError):
    """A cursor this server did not give (or one of another list)."""


def encode(*parts: Part) -> str:
    """The opaque cursor of a sort key."""
    text = "|".join(p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, *kinds: Callable[[str], Any]) -> tuple[Any, ...]:
    """The sort key of a cursor, each part read by its kind (``int``, ``str`` or
    ``datetime.fromisoformat``); :class:`BadCursor` if it is not one :func:`encode` wrote
    with as many parts."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        if len(parts) != len(kinds):
            raise BadCursor("this cursor is not one the list gave")
        return tuple(kind(part) for kind, part in zip(kinds, parts, strict=True))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor("this cursor is not one the list gave") from exc


def decode_or_422(cursor: str, *kinds: Callable[[str], Any]) -> tuple[Any, ...]:
    """:func:`decode` for a request's ``cursor``: a bad one is the caller's ``invalid_input``."""
    try:
        return decode(cursor, *kinds)
    except BadCursor as exc:
        raise InvalidInput(str(exc), field="cursor") from exc
