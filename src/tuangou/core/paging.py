"""Keyset paging: an opaque cursor names the last row of a page, and the next page starts
after it (``WHERE (created_at, id) < (:at, :id) ORDER BY created_at DESC, id DESC LIMIT n``).

A page costs the same at row 10 and at row 1,000,000: no OFFSET walks the rows before it,
and an index on the list's filter columns followed by its order columns serves the read
without a sort (migration 0045 adds them). Rows added between two pages never repeat: the
cursor is a position in the order, not a count.

A cursor is the key's values joined by ``|``, base64url without padding: naive UTC
datetimes as ISO text, integers as digits (the feed's cursors keep their old form).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from tuangou.core.errors import CoreErrorCode, InvalidInput

# The longest page any list serves, and the longest cursor a route accepts.
MAX_LIMIT = 200
MAX_CURSOR = 200

Key = datetime | int
T = TypeVar("T")


class InvalidCursor(InvalidInput):
    code: ClassVar[str] = CoreErrorCode.INVALID_CURSOR
    title = "This cursor is not one this list gave"


def encode(*values: Key) -> str:
    """The opaque cursor of a row whose key is ``values``."""
    raw = "|".join(v.isoformat() if isinstance(v, datetime) else str(int(v)) for v in values)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, *kinds: type[Key]) -> tuple[Key, ...]:
    """The key a cursor names, each part of the type in ``kinds``; :class:`InvalidCursor`
    (422) for anything this module did not write."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        if len(parts) != len(kinds):
            raise ValueError("wrong number of parts")
        values: list[Key] = []
        for kind, part in zip(kinds, parts, strict=True):
            if kind is datetime:
                moment = datetime.fromisoformat(part)
                if moment.tzinfo is not None:
                    raise ValueError("not naive UTC")
                values.append(moment)
            else:
                number = int(part)
                if not -(2**63) <= number < 2**63:
                    raise ValueError("out of range")
                values.append(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(field="cursor") from exc
    return tuple(values)


def after(columns: Sequence[Any], values: Sequence[Key], *, descending: bool = True) -> Any:
    """The rows that come after ``values`` in the order of ``columns`` (all descending or all
    ascending), written as ``a <= x AND (a < x OR b < y)`` so an index range serves it."""
    first, rest = columns[0], columns[1:]
    value = values[0]
    if not rest:
        return first < value if descending else first > value
    strictly = first < value if descending else first > value
    tie = first <= value if descending else first >= value
    return and_(tie, or_(strictly, after(rest, values[1:], descending=descending)))


def page(
    session: Session,
    query: Any,
    columns: Sequence[Any],
    cursor: str | None,
    limit: int,
    *,
    descending: bool = True,
) -> tuple[list[Any], str | None]:
    """One page of ``query`` (a ``select`` of one entity) in the order of ``columns`` (mapped
    attributes of that entity, the last one unique), after ``cursor``: the rows and the
    cursor of the next page (None on the last)."""
    if cursor:
        kinds = [_kind(c) for c in columns]
        query = query.where(after(columns, decode(cursor, *kinds), descending=descending))
    order = [c.desc() if descending else c.asc() for c in columns]
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode(*(getattr(last, c.key) for c in columns))


def _kind(column: Any) -> type[Key]:
    return datetime if column.type.python_type is datetime else int
