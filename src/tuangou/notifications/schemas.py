"""The in-app inbox's replies."""

from __future__ import annotations

from typing import Any

from tuangou.core.schemas import Iso, Out


class TargetOut(Out):
    """What a message is about and links to: an order, a team, an after-sale case (the
    member's own, or one to decide), a commission, a withdrawal, a leader, an application."""

    type: str
    id: int


class NotificationOut(Out):
    id: int
    kind: str
    title: str
    subject: str  # what it is about: the product's campaign, the wave
    body: str
    target: TargetOut | None
    data: dict[str, Any]
    created_at: Iso
    read: bool


class InboxOut(Out):
    unread: int
    items: list[NotificationOut]


class MarkedOut(Out):
    """How many notifications were marked read."""

    marked: int
