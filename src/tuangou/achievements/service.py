"""Tasks and achievements (任务与成就): members' actions counted once each, weekly tasks
reached once per local week, lifetime achievements reached once ever, badges.

Actions come from the composition root: every points award of a counted reason
(:func:`on_award`, registered with ``points.register_on_award``: called in the award's
transaction, so an action is recorded exactly when it was awarded, once) and every completed
order (:func:`on_order_completed`, the outbox's ``order.completed``). Recording an action
runs under the member's points lock (``points.lock_member``, which an award already holds),
so a member's actions are counted one after another: when the actions that complete a task
race, one of them completes it, and its points are awarded once
(``award(reason=task, key="task:{id}:{week}")``; an achievement's key is
``achievement:{code}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tuangou.achievements import errors, rules
from tuangou.achievements.models import (
    AchievementEarned,
    MemberAction,
    MemberBadge,
    TaskCompletion,
    WeeklyTask,
)
from tuangou.achievements.rules import ACHIEVEMENTS, BADGES, Achievement, Action, Badge
from tuangou.core import clock, outbox
from tuangou.core.db import execute, get_or_404, read, run_in_transaction, table, upsert_insert
from tuangou.points import service as points

__all__ = [
    "ACHIEVEMENTS",
    "BADGES",
    "Achievement",
    "AchievementView",
    "Action",
    "Badge",
    "BadgeView",
    "TaskView",
    "achievements_of",
    "badges_of",
    "badges_of_many",
    "create_task",
    "ensure_default_tasks",
    "list_tasks",
    "on_award",
    "on_order_completed",
    "record",
    "tasks_of_week",
    "update_task",
]

TOPIC_TASK = "achievement.task_done"
TOPIC_ACHIEVEMENT = "achievement.earned"


# ---------------------------------------------------------------- weekly tasks


def _seed(session: Session) -> None:
    if session.scalar(select(func.count()).select_from(WeeklyTask)):
        return
    now = clock.now()
    ins = upsert_insert(session)(table(WeeklyTask)).on_conflict_do_nothing(index_elements=["code"])
    for d in rules.DEFAULT_TASKS:
        execute(
            session,
            ins,
            {
                "code": d.code,
                "action": str(d.action),
                "count": d.count,
                "points": d.points,
                "badge": d.badge,
                "active": True,
                "created_at": now,
                "updated_at": now,
            },
        )


def ensure_default_tasks() -> None:
    """The default weekly tasks (check in 3 days, write 1 review, invite 1 neighbour who
    orders), once, in a database that never had any (a task is never deleted)."""
    if not read(lambda s: s.scalar(select(func.count()).select_from(WeeklyTask))):
        run_in_transaction(_seed)


def list_tasks(session: Session, *, active_only: bool = False) -> list[WeeklyTask]:
    query = select(WeeklyTask).order_by(WeeklyTask.id)
    if active_only:
        query = query.where(WeeklyTask.active.is_(True))
    return list(session.scalars(query))


def _check(action: str, count: int, points_: int, badge: str) -> None:
    problem = rules.task_problem(action, count, points_, badge)
    if problem:
        raise errors.InvalidTask(problem)


def _active_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(WeeklyTask).where(WeeklyTask.active.is_(True))
        )
        or 0
    )


def create_task(
    session: Session, *, action: str, count: int, points: int, badge: str = "", active: bool = True
) -> WeeklyTask:
    _check(action, count, points, badge)
    _seed(session)
    if active and _active_count(session) >= rules.MAX_TASKS:
        raise errors.InvalidTask(f"at most {rules.MAX_TASKS} tasks are active at once")
    now = clock.now()
    task = WeeklyTask(
        action=action,
        count=count,
        points=points,
        badge=badge,
        active=active,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    return task


def update_task(
    session: Session,
    task_id: int,
    *,
    action: str,
    count: int,
    points: int,
    badge: str = "",
    active: bool = True,
) -> WeeklyTask:
    """Change a task. What members reached in past weeks stays as it was; this week's
    progress is counted against the new count (a member already past it is awarded with
    their next action of its kind)."""
    task = get_or_404(session, WeeklyTask, task_id, errors.TaskNotFound)
    _check(action, count, points, badge)
    if active and not task.active and _active_count(session) >= rules.MAX_TASKS:
        raise errors.InvalidTask(f"at most {rules.MAX_TASKS} tasks are active at once")
    session.execute(
        update(WeeklyTask)
        .where(WeeklyTask.id == task_id)
        .values(
            action=action,
            count=count,
            points=points,
            badge=badge,
            active=active,
            updated_at=clock.now(),
        )
    )
    session.refresh(task)
    return task


# ---------------------------------------------------------------- recording actions


def on_award(session: Session, user_id: int, reason: str, key: str, at: datetime) -> None:
    """A points award was recorded: the action behind it, if it is one tasks count."""
    action = rules.ACTION_OF_REASON.get(reason)
    if action is not None:
        record(session, user_id=user_id, action=action, key=key, at=at)


def on_order_completed(session: Session, user_id: int, order_id: int) -> bool:
    """The buyer completed an order (once per order, however often the event comes)."""
    return record(session, user_id=user_id, action=Action.ORDER_COMPLETED, key=f"order:{order_id}")


def record(
    session: Session, *, user_id: int, action: str, key: str, at: datetime | None = None
) -> bool:
    """Record an action once per (member, action, key), then award what it completes: a
    weekly task of its local week, an achievement. False when it was already recorded."""
    action = Action(action)
    at = at or clock.now()
    day = clock.local_date(at)
    week = rules.week_of(day)
    points.lock_member(session, user_id)  # a member's actions are counted one at a time
    inserted = execute(
        session,
        upsert_insert(session)(table(MemberAction)).on_conflict_do_nothing(
            index_elements=["user_id", "action", "key"]
        ),
        {
            "user_id": user_id,
            "action": str(action),
            "key": str(key)[:64],
            "day": day,
            "week": week,
            "created_at": clock.now(),
        },
    ).rowcount
    if not inserted:
        return False
    _seed(session)
    for task in session.scalars(
        select(WeeklyTask).where(WeeklyTask.active.is_(True), WeeklyTask.action == str(action))
    ):
        if _count_week(session, user_id, action, week) >= task.count:
            _complete_task(session, user_id, task, week, at)
    for achievement in ACHIEVEMENTS:
        if achievement.action == action and _progress(session, user_id, achievement, day) >= (
            achievement.threshold
        ):
            _earn(session, user_id, achievement, at)
    return True


def _count_week(session: Session, user_id: int, action: str, week: date) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(MemberAction)
            .where(
                MemberAction.user_id == user_id,
                MemberAction.action == str(action),
                MemberAction.week == week,
            )
        )
        or 0
    )


def _count_all(session: Session, user_id: int, action: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(MemberAction)
            .where(MemberAction.user_id == user_id, MemberAction.action == str(action))
        )
        or 0
    )


def _checkin_days(session: Session, user_id: int, since: date) -> list[date]:
    return list(
        session.scalars(
            select(MemberAction.day).where(
                MemberAction.user_id == user_id,
                MemberAction.action == str(Action.CHECKIN),
                MemberAction.day >= since,
            )
        )
    )


def _progress(session: Session, user_id: int, a: Achievement, today: date) -> int:
    if a.streak:
        days = _checkin_days(session, user_id, today - timedelta(days=a.threshold + 1))
        return rules.streak_ending(days, today)
    return _count_all(session, user_id, a.action)


def _badge(session: Session, user_id: int, badge: str, source: str) -> None:
    if badge not in BADGES:
        return
    session.execute(
        upsert_insert(session)(MemberBadge)
        .values(user_id=user_id, badge=badge, source=source[:64], earned_at=clock.now())
        .on_conflict_do_nothing(index_elements=["user_id", "badge"])
    )


def _complete_task(
    session: Session, user_id: int, task: WeeklyTask, week: date, at: datetime
) -> None:
    done = execute(
        session,
        upsert_insert(session)(table(TaskCompletion)).on_conflict_do_nothing(
            index_elements=["user_id", "task_id", "week"]
        ),
        {
            "user_id": user_id,
            "task_id": task.id,
            "week": week,
            "points": task.points,
            "completed_at": clock.now(),
        },
    ).rowcount
    if not done:
        return
    key = f"task:{task.id}:{week.isoformat()}"
    if task.points > 0:
        points.award(
            session, user_id=user_id, reason=points.Reason.TASK, key=key, points=task.points, at=at
        )
    _badge(session, user_id, task.badge, key)
    badge = BADGES.get(task.badge)
    outbox.emit(
        session,
        TOPIC_TASK,
        {
            "user_ids": [user_id],
            "task_id": task.id,
            "week": week.isoformat(),
            "title": rules.task_text(task.action, task.count, "zh"),
            "title_en": rules.task_text(task.action, task.count, "en"),
            "points": task.points,
            "badge_note": f"和徽章「{badge.name_zh}」" if badge else "",
            "badge_note_en": f" and the badge “{badge.name}”" if badge else "",
        },
    )


def _earn(session: Session, user_id: int, a: Achievement, at: datetime) -> None:
    done = execute(
        session,
        upsert_insert(session)(table(AchievementEarned)).on_conflict_do_nothing(
            index_elements=["user_id", "code"]
        ),
        {"user_id": user_id, "code": a.code, "points": a.points, "earned_at": clock.now()},
    ).rowcount
    if not done:
        return
    key = f"achievement:{a.code}"
    if a.points > 0:
        points.award(
            session,
            user_id=user_id,
            reason=points.Reason.ACHIEVEMENT,
            key=key,
            points=a.points,
            at=at,
        )
    _badge(session, user_id, a.badge, key)
    badge = BADGES[a.badge]
    outbox.emit(
        session,
        TOPIC_ACHIEVEMENT,
        {
            "user_ids": [user_id],
            "code": a.code,
            "title": a.name_zh,
            "title_en": a.name,
            "points": a.points,
            "badge": badge.name_zh,
            "badge_en": badge.name,
        },
    )


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class TaskView:
    id: int
    action: str
    count: int
    points: int
    badge: Badge | None
    done: int  # actions this week, at most ``count``
    completed: bool
    week: date


def tasks_of_week(session: Session, user_id: int, *, today: date | None = None) -> list[TaskView]:
    """This local week's active tasks and the member's progress on each."""
    today = today or clock.local_date(clock.now())
    week = rules.week_of(today)
    counts = dict(
        session.execute(
            select(MemberAction.action, func.count())
            .where(MemberAction.user_id == user_id, MemberAction.week == week)
            .group_by(MemberAction.action)
        ).all()
    )
    completed = set(
        session.scalars(
            select(TaskCompletion.task_id).where(
                TaskCompletion.user_id == user_id, TaskCompletion.week == week
            )
        )
    )
    out: list[TaskView] = []
    for task in list_tasks(session, active_only=True):
        done = task.id in completed
        n = int(counts.get(task.action, 0))
        out.append(
            TaskView(
                id=task.id,
                action=task.action,
                count=task.count,
                points=task.points,
                badge=BADGES.get(task.badge),
                done=task.count if done else min(n, task.count),
                completed=done,
                week=week,
            )
        )
    return out


@dataclass(frozen=True)
class AchievementView:
    achievement: Achievement
    badge: Badge
    progress: int  # at most the threshold
    earned_at: datetime | None


def achievements_of(
    session: Session, user_id: int, *, today: date | None = None
) -> list[AchievementView]:
    """Every achievement, earned or not, with the member's progress."""
    today = today or clock.local_date(clock.now())
    earned = dict(
        session.execute(
            select(AchievementEarned.code, AchievementEarned.earned_at).where(
                AchievementEarned.user_id == user_id
            )
        ).all()
    )
    out: list[AchievementView] = []
    for a in ACHIEVEMENTS:
        at = earned.get(a.code)
        progress = a.threshold if at else min(_progress(session, user_id, a, today), a.threshold)
        out.append(AchievementView(a, BADGES[a.badge], progress, at))
    return out


@dataclass(frozen=True)
class BadgeView:
    badge: Badge
    earned_at: datetime
    source: str


def badges_of(session: Session, user_id: int) -> list[BadgeView]:
    """The member's badges, the first earned first."""
    return [
        BadgeView(BADGES[row.badge], row.earned_at, row.source)
        for row in session.scalars(
            select(MemberBadge)
            .where(MemberBadge.user_id == user_id)
            .order_by(MemberBadge.earned_at, MemberBadge.badge)
        )
        if row.badge in BADGES
    ]


def badges_of_many(session: Session, user_ids: Sequence[int]) -> dict[int, list[Badge]]:
    """Members' badges (for a small mark beside their names)."""
    out: dict[int, list[Badge]] = {}
    if not user_ids:
        return out
    for uid, code in session.execute(
        select(MemberBadge.user_id, MemberBadge.badge)
        .where(MemberBadge.user_id.in_(set(user_ids)))
        .order_by(MemberBadge.earned_at)
    ):
        if code in BADGES:
            out.setdefault(uid, []).append(BADGES[code])
    return out
