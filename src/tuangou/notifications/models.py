from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class Notification(Base):
    """A message in a member's inbox, made from an outbox event: one per event and recipient
    (``event_key``, see ``rules.event_key``; a redelivered outbox event is dropped by its id
    too). ``subject`` names what it is about (the product, the wave), as it was then."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[str] = mapped_column(String(36))
    event_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        UniqueConstraint("user_id", "event_key"),
        # The inbox's keyset pages: newest first, by (created_at, id).
        Index("ix_notifications_user_page", "user_id", "created_at", "id"),
    )


class NotifyPreference(Base):
    """A member's choice of channels beside the inbox: ``routes`` maps a kind of message (a
    topic of ``service.TEXTS``) to the channels it also reaches ("sms", "wechat", "email");
    quiet hours (local "HH:MM", start and end) hold text messages back until they end,
    except the pickup-day reminder when ``pickup_at_night``. ``email`` is a staff account's
    address; ``wechat_openid`` the member's mini-program openid. No row: inbox only."""

    __tablename__ = "notify_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    routes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    pickup_at_night: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(200), default=None)
    wechat_openid: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class WechatSubscription(Base):
    """How many one-time WeChat subscription authorisations a member has left for one
    template: each ``wx.requestSubscribeMessage`` accepted adds one, each message sent with
    it takes one (a guarded decrement: never below zero)."""

    __tablename__ = "wechat_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    template_id: Mapped[str] = mapped_column(String(64))
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("user_id", "template_id"),
        CheckConstraint("remaining >= 0", name="remaining_non_negative"),
    )


class ChannelDelivery(Base):
    """One message for one channel: exactly one row per notification and channel, however
    often the event comes. ``consumed``: the WeChat authorisation it took (given back if it
    finally fails). Addresses are read when sending, never stored here."""

    __tablename__ = "channel_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # rules.DELIVERY_STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    consumed: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_id: Mapped[str | None] = mapped_column(String(100), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        Index("ix_channel_deliveries_due", "status", "next_at"),
        Index("ix_channel_deliveries_user", "user_id", "id"),
    )
