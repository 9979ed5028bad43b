"""Members' counted actions, the operator's weekly tasks, tasks completed per week,
achievements earned and badges held."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
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


class MemberAction(Base):
    """Something a member did that tasks and achievements count: once per (member, action,
    key), however often it is reported."""

    __tablename__ = "member_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)  # the local day
    week: Mapped[date] = mapped_column(Date)  # the Monday of its local week
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("user_id", "action", "key"),
        Index("ix_member_actions_user_action_week", "user_id", "action", "week"),
    )


class WeeklyTask(Base):
    """An operator's weekly task: ``count`` actions of a kind in one local week earn
    ``points`` and ``badge``. Never deleted (deactivated), so past weeks keep their words."""

    __tablename__ = "weekly_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    action: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    badge: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("count >= 1 AND count <= 100", name="count_range"),
        CheckConstraint("points >= 0 AND points <= 10000", name="points_range"),
    )


class TaskCompletion(Base):
    """A weekly task reached: once per member, task and week."""

    __tablename__ = "task_completions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("weekly_tasks.id"), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(DateTime)


class AchievementEarned(Base):
    """An achievement reached: once per member, ever."""

    __tablename__ = "achievements_earned"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    earned_at: Mapped[datetime] = mapped_column(DateTime)


class MemberBadge(Base):
    """A badge a member holds, from the first time they earned it."""

    __tablename__ = "member_badges"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    badge: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # task:{id}:{week} | achievement:{code}
    earned_at: Mapped[datetime] = mapped_column(DateTime)
