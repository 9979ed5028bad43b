"""The points journal (append-only, double-entry), the awards that feed it, the check-ins
and each member's cached balance and experience (changed in the same transaction as the
entries; ``tuangou audit`` checks one against the other)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class PointsTransfer(Base):
    """One movement of points. The id is chosen from what it is about (``award:7``,
    ``expire:3:2026``), so a retry is recorded once."""

    __tablename__ = "points_transfers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # award | spend | expire
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    year: Mapped[int] = mapped_column(Integer)  # the local year it counts in (for expiry)
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PointsEntry(Base):
    """A leg of a points transfer; the legs of a transfer sum to zero. Never updated."""

    __tablename__ = "points_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("points_transfers.id"), index=True)
    account: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_points_entries_account", "account"),)


class PointsBalance(Base):
    """A member's points (the sum of their entries) and experience (the sum of their awards'
    experience), kept with every entry; the row is the member's lock."""

    __tablename__ = "points_balances"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    experience: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("experience >= 0", name="experience_not_negative"),
    )


class PointsAward(Base):
    """An award, once per (member, reason, key)."""

    __tablename__ = "points_awards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(Integer)
    experience: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)  # the local day it was earned
    note: Mapped[str] = mapped_column(String(200), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("user_id", "reason", "key"),
        Index("ix_points_awards_user_reason_day", "user_id", "reason", "day"),
    )


class PointsCheckin(Base):
    """A check-in: at most one per member and local day."""

    __tablename__ = "points_checkins"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    streak: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
