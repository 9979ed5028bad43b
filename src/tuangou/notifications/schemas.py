"""The in-app inbox's replies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tuangou.core.schemas import In, Iso, Out


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
    # The cursor of the next page (newest first), None on the last page.
    next_cursor: str | None = None


class MarkedOut(Out):
    """How many notifications were marked read."""

    marked: int


# ---------------------------------------------------------------- message channels


class NotificationPreferencesIn(In):
    """Which kinds of message also reach which channel ("sms", "wechat"; "email" for staff)
    beside the inbox, and quiet hours ("HH:MM" in the deployment's time zone) when no text
    message is sent, except the pickup-day reminder if ``pickup_at_night``."""

    routes: dict[str, list[str]] = Field(default_factory=dict, max_length=100)
    quiet_start: str = Field(default="22:00", max_length=5)
    quiet_end: str = Field(default="08:00", max_length=5)
    pickup_at_night: bool = False
    email: str | None = Field(default=None, max_length=200)


class KindOut(Out):
    kind: str
    title: str  # in the caller's language


class NotificationPreferencesOut(Out):
    routes: dict[str, list[str]]
    quiet_start: str
    quiet_end: str
    pickup_at_night: bool
    email: str | None
    channels: list[str]  # the channels this account may choose
    kinds: list[KindOut]  # every kind of message, in the inbox's order
    phone: str  # masked: where text messages go
    wechat_bound: bool
    wechat_subscriptions: dict[str, int]  # template id -> authorisations left


class WechatSubscriptionsIn(In):
    """What ``wx.requestSubscribeMessage`` answered in the mini-program: template id ->
    "accept", "reject", "ban" or "filter"; with the member's openid in the mini-program."""

    openid: str = Field(min_length=1, max_length=64)
    results: dict[str, Literal["accept", "reject", "ban", "filter"]] = Field(max_length=20)


class WechatSubscriptionsOut(Out):
    remaining: dict[str, int]  # template id -> authorisations left
