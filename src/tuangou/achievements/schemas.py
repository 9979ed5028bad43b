from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from tuangou.achievements import rules
from tuangou.achievements.service import AchievementView, BadgeView, TaskView
from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out

if TYPE_CHECKING:
    from tuangou.achievements.models import WeeklyTask

ActionName = Literal[
    "checkin", "review", "invite", "bargain_help", "event_attended", "order_completed"
]


class BadgeOut(Out):
    code: str
    name: str
    icon: str

    @classmethod
    def of(cls, badge: rules.Badge) -> BadgeOut:
        return cls(code=badge.code, name=badge.name, icon=badge.icon)


class TaskOut(Out):
    id: int
    action: str = Field(description="what is counted: " + ", ".join(rules.Action))
    title: str
    count: int = Field(description="actions needed in one local week (Monday to Sunday)")
    done: int = Field(description="this week's actions, at most the count")
    completed: bool
    points: int
    badge: BadgeOut | None
    week: str = Field(description="the Monday of this local week (YYYY-MM-DD)")

    @classmethod
    def of(cls, t: TaskView) -> TaskOut:
        return cls(
            id=t.id,
            action=t.action,
            title=rules.task_text(t.action, t.count),
            count=t.count,
            done=t.done,
            completed=t.completed,
            points=t.points,
            badge=BadgeOut.of(t.badge) if t.badge else None,
            week=t.week.isoformat(),
        )


class AchievementOut(Out):
    code: str
    name: str
    action: str
    threshold: int = Field(description="actions needed (or, for a streak, consecutive days)")
    streak: bool
    progress: int
    points: int
    badge: BadgeOut
    earned: bool
    earned_at: Iso | None

    @classmethod
    def of(cls, v: AchievementView) -> AchievementOut:
        a = v.achievement
        return cls(
            code=a.code,
            name=a.name,
            action=str(a.action),
            threshold=a.threshold,
            streak=a.streak,
            progress=v.progress,
            points=a.points,
            badge=BadgeOut.of(v.badge),
            earned=v.earned_at is not None,
            earned_at=clock.iso(v.earned_at) if v.earned_at else None,
        )


class EarnedBadgeOut(Out):
    code: str
    name: str
    icon: str
    earned_at: Iso
    source: str = Field(description="task:{id}:{week} or achievement:{code}")

    @classmethod
    def of(cls, v: BadgeView) -> EarnedBadgeOut:
        return cls(
            code=v.badge.code,
            name=v.badge.name,
            icon=v.badge.icon,
            earned_at=clock.iso(v.earned_at),
            source=v.source,
        )


class AdminTaskOut(Out):
    id: int
    action: str
    title: str
    count: int
    points: int
    badge: str
    active: bool

    @classmethod
    def of(cls, t: WeeklyTask) -> AdminTaskOut:
        return cls(
            id=t.id,
            action=t.action,
            title=rules.task_text(t.action, t.count),
            count=t.count,
            points=t.points,
            badge=t.badge,
            active=t.active,
        )


class TaskIn(In):
    action: ActionName
    count: int = Field(ge=1, le=rules.MAX_COUNT)
    points: int = Field(ge=0, le=rules.MAX_TASK_POINTS)
    badge: str = Field(default="", max_length=32, description="a badge code, or empty")
    active: bool = True
