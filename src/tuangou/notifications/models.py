from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
        Index("ix_notifications_user", "user_id", "created_at"),
    )
