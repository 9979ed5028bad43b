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
from tuangou.moderation.rules import CaseStatus


class ModerationCase(Base):
    """What moderation knows of one target (a post, a reply, a review… by kind and id): its
    status, the reports counted since the last decision, and the last decision.

    status: reported → hidden_pending_review (the threshold) → hidden | visible; held (the
    text filter) → visible (approved) | hidden. A decision resets ``open_reports``.
    """

    __tablename__ = "moderation_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer, default=None)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(24), default=CaseStatus.REPORTED)
    open_reports: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[str] = mapped_column(Text, default="")  # the filter's terms, one a line
    opened_at: Mapped[datetime] = mapped_column(DateTime)  # since when it awaits a decision
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reason: Mapped[str | None] = mapped_column(String(200), default=None)

    __table_args__ = (
        UniqueConstraint("kind", "target_id"),
        CheckConstraint(
            "status IN ('reported', 'hidden_pending_review', 'held', 'hidden', 'visible')",
            name="status",
        ),
        CheckConstraint("open_reports >= 0", name="open_reports"),
        Index("ix_moderation_cases_queue", "status", "opened_at"),
        Index("ix_moderation_cases_community", "community_id", "status", "opened_at"),
    )


class ModerationReport(Base):
    """A member's report of a target: one per member and target."""

    __tablename__ = "moderation_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("moderation_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("kind", "target_id", "reporter_id"),
        CheckConstraint("reason IN ('spam', 'abuse', 'fraud', 'other')", name="reason"),
    )


class Mute(Base):
    """A member muted in a community until ``until`` (or lifted early: ``lifted_at``)."""

    __tablename__ = "moderation_mutes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    until: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(String(200))
    muted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    __table_args__ = (Index("ix_moderation_mutes_member", "community_id", "user_id", "until"),)


class ModerationLogEntry(Base):
    """One moderation action: who (None: the reports' threshold), what, on what, why, when.
    Append-only."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    community_id: Mapped[int | None] = mapped_column(Integer, default=None)
    kind: Mapped[str | None] = mapped_column(String(32), default=None)
    target_id: Mapped[int | None] = mapped_column(Integer, default=None)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint(
            "action IN ('auto_hide', 'hide', 'restore', 'approve', 'mute', 'unmute')",
            name="action",
        ),
        Index("ix_moderation_log_community", "community_id", "id"),
        Index("ix_moderation_log_action", "action", "id"),
    )
