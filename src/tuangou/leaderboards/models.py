"""Leaderboards' tables: the scored actions (once each), the frozen boards of past periods,
and the leader's monthly awards (once per community and month)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class BoardAction(Base):
    """One scored action of a member in a community: a like received on a verified review, a
    help given, an invite that converted, an event attended. ``(community_id, kind, ref)``
    is unique, so an event delivered twice counts once. ``at`` is when the action happened,
    ``recorded_at`` when it reached the board (an action recorded after a period's grace day
    never changes that period). A voided action (a confirmed fraud ring's) stays, with
    ``voided_at``, and counts no more."""

    __tablename__ = "board_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(Integer)  # who scores
    by_user_id: Mapped[int | None] = mapped_column(Integer, default=None)  # the liker, invitee
    kind: Mapped[str] = mapped_column(String(16))  # rules.ActionKind
    ref: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    void_reason: Mapped[str | None] = mapped_column(String(200), default=None)

    __table_args__ = (
        UniqueConstraint("community_id", "kind", "ref", name="uq_board_actions_ref"),
        CheckConstraint(
            "kind IN ('review_liked', 'help', 'invite', 'event')", name="board_action_kind"
        ),
        Index("ix_board_actions_community_at", "community_id", "at"),
        Index("ix_board_actions_user", "user_id"),
        Index("ix_board_actions_by_user", "by_user_id"),
    )


class BoardFreeze(Base):
    """A past period's board, frozen once (after its grace day): its standings are read
    from ``board_standings`` from then on, whatever is voided or held later."""

    __tablename__ = "board_freezes"

    community_id: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(8))  # rules.Period
    start: Mapped[date] = mapped_column(Date)
    frozen_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        PrimaryKeyConstraint("community_id", "period", "start", name="pk_board_freezes"),
    )


class BoardStanding(Base):
    """One member's place on a frozen board."""

    __tablename__ = "board_standings"

    community_id: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(8))
    start: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    likes: Mapped[int] = mapped_column(Integer)
    helps: Mapped[int] = mapped_column(Integer)
    invites: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    reached_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        PrimaryKeyConstraint(
            "community_id", "period", "start", "user_id", name="pk_board_standings"
        ),
        UniqueConstraint("community_id", "period", "start", "rank", name="uq_board_standings_rank"),
    )


class BoardAward(Base):
    """The leader's award of a month's top members: once per community and month (the
    unique key), the members and points it gave in ``members`` (JSON)."""

    __tablename__ = "board_awards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    by_user_id: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    members: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("community_id", "month", name="uq_board_awards_month"),
        CheckConstraint("points > 0", name="board_award_points_positive"),
    )
