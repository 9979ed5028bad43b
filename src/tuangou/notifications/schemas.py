"""The in-app inbox's replies."""

from __future__ import annotations

from typing import Any

from tuangou.core.schemas import Iso, Out


class NotificationOut(Out):
    id: int
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    created_at: Iso
    read: bool


class InboxOut(Out):
    unread: int
    items: list[NotificationOut]


class MarkedOut(Out):
    """How many notifications were marked read."""

    marked: int
