"""Community events (活动) and their sign-ups (报名)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
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
from tuangou.events.rules import EventStatus, SignupStatus


class Event(Base):
    """An event a community's leader posts. ``taken`` counts the sign-ups holding a seat
    (``held`` or ``signed_up``), moved only by guarded updates (``taken < seats``);
    ``queue_seq`` numbers the sign-ups in their order of arrival (the waitlist's order)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200))
    pickup_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("pickup_points.id"), default=None
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    seats: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    queue_seq: Mapped[int] = mapped_column(Integer, default=0)
    fee: Mapped[int] = mapped_column(Integer, default=0)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    # A paid event's orders are the leader's own sales: their own supplier record.
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    over_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        CheckConstraint("taken >= 0 AND taken <= seats", name="no_overbooking"),
        CheckConstraint("seats >= 1 AND seats <= 1000", name="seats"),
        CheckConstraint("fee >= 0", name="fee"),
        CheckConstraint("fee = 0 OR supplier_id IS NOT NULL OR status = 'draft'", name="payee"),
        Index("ix_events_community_starts", "community_id", "starts_at"),
        Index("ix_events_status_starts", "status", "starts_at"),
    )


class EventSignup(Base):
    """A member's sign-up: one row per event and member (a second sign-up after a
    cancellation reuses it, at the end of the line). ``order_id``: the paid seat's order."""

    __tablename__ = "event_signups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=SignupStatus.WAITLISTED)
    seq: Mapped[int] = mapped_column(Integer)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), default=None)
    code: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    seated_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    promoted: Mapped[int] = mapped_column(Integer, default=0)  # 1: seated from the waitlist
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    end_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    attended_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    checked_in_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_event_signups_member"),
        UniqueConstraint("event_id", "code", name="uq_event_signups_code"),
        Index("ix_event_signups_event_status_seq", "event_id", "status", "seq"),
        Index("ix_event_signups_order", "order_id"),
        CheckConstraint(
            "status IN ('held', 'signed_up', 'waitlisted', 'cancelled', 'released')",
            name="status",
        ),
    )
