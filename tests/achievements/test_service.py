"""Actions, weekly tasks, achievements and badges, on both backends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, time, timedelta

import pytest

from tests.conftest import audit_violations, rows, scalar
from tests.points.helpers import frozen, local, member, read, tx
from tuangou.achievements import errors
from tuangou.achievements import service as achievements
from tuangou.points import service as points

pytestmark = pytest.mark.usefixtures("db")

MONDAY = date(2026, 11, 30)  # a Monday


def task_id(action: str) -> int:
    achievements.ensure_default_tasks()
    return next(t.id for t in read(achievements.list_tasks) if t.action == action and t.active)


def progress(user_id: int, action: str, today: date) -> tuple[int, int, bool]:
    views = read(lambda s: achievements.tasks_of_week(s, user_id, today=today))
    v = next(v for v in views if v.action == action)
    return v.done, v.count, v.completed


def task_awards(user_id: int) -> list[tuple[str, int]]:
    return [
        (k, p)
        for k, p in rows(
            "SELECT key, points FROM points_awards WHERE user_id = :u"
            " AND reason IN ('task', 'achievement')"
            " ORDER BY key",
            u=user_id,
        )
    ]


def test_check_ins_count_toward_the_weekly_task_and_complete_it_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = member()
    checkin = task_id("checkin")
    for n in range(3):
        day = MONDAY + timedelta(days=n)
        with frozen(monkeypatch, local(day, time(9))):
            tx(lambda s: points.checkin(s, a))
            done = progress(a, "checkin", day)
        assert done == (n + 1, 3, n == 2)
    assert task_awards(a) == [(f"task:{checkin}:{MONDAY.isoformat()}", 20)]
    assert [b.badge.code for b in read(lambda s: achievements.badges_of(s, a))] == ["early_bird"]
    # A fourth day in the same week counts, and awards nothing more.
    with frozen(monkeypatch, local(MONDAY + timedelta(days=3), time(9))):
        tx(lambda s: points.checkin(s, a))
    assert len(task_awards(a)) == 1
    assert scalar("SELECT COUNT(*) FROM task_completions WHERE user_id = :u", u=a) == 1
    assert audit_violations() == []


def test_the_week_turns_at_monday_midnight_in_the_deployments_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Saturday and Sunday 23:30 are one week, Monday 00:30 (the same UTC day as Sunday
    23:30 in Asia/Shanghai) the next: neither week has three check-ins."""
    a = member()
    sunday = MONDAY + timedelta(days=6)
    for day, at in ((sunday - timedelta(days=1), time(23, 30)), (sunday, time(23, 30))):
        with frozen(monkeypatch, local(day, at)):
            tx(lambda s: points.checkin(s, a))
    next_monday = sunday + timedelta(days=1)
    with frozen(monkeypatch, local(next_monday, time(0, 30))):
        tx(lambda s: points.checkin(s, a))
    assert local(sunday, time(23, 30)).date() == local(next_monday, time(0, 30)).date()
    assert progress(a, "checkin", sunday) == (2, 3, False)
    assert progress(a, "checkin", next_monday) == (1, 3, False)
    assert task_awards(a) == []
    weeks = rows("SELECT DISTINCT week FROM member_actions WHERE user_id = :u", u=a)
    assert sorted(str(w) for (w,) in weeks) == [MONDAY.isoformat(), next_monday.isoformat()]


def test_racing_actions_that_complete_a_task_award_it_once() -> None:
    a = member()
    review = task_id("review")
    tx(lambda s: achievements.update_task(s, review, action="review", count=3, points=30))
    tx(lambda s: points.award(s, user_id=a, reason="review", key="review:0", points=10))

    def publish(i: int) -> bool:
        return tx(
            lambda s: points.award(s, user_id=a, reason="review", key=f"review:{i}", points=10)
        )

    with ThreadPoolExecutor(6) as pool:
        assert all(pool.map(publish, range(1, 7)))
    week = scalar("SELECT week FROM member_actions WHERE user_id = :u LIMIT 1", u=a)
    assert task_awards(a) == [(f"task:{review}:{week}", 30)]
    assert scalar("SELECT COUNT(*) FROM member_actions WHERE user_id = :u", u=a) == 7
    assert read(lambda s: points.balance_of(s, a)) == 7 * 10 + 30
    assert audit_violations() == []


def test_an_achievement_is_earned_once_ever_and_replays_count_once() -> None:
    a = member()
    assert tx(lambda s: achievements.on_order_completed(s, a, 101))
    assert not tx(lambda s: achievements.on_order_completed(s, a, 101))  # a replay
    assert tx(lambda s: achievements.on_order_completed(s, a, 102))
    assert scalar("SELECT COUNT(*) FROM member_actions WHERE user_id = :u", u=a) == 2
    earned = rows("SELECT code FROM achievements_earned WHERE user_id = :u", u=a)
    assert earned == [("first_order",)]
    assert task_awards(a) == [("achievement:first_order", 20)]
    views = {v.achievement.code: v for v in read(lambda s: achievements.achievements_of(s, a))}
    assert views["first_order"].earned_at is not None
    assert views["reviews_10"].earned_at is None and views["reviews_10"].progress == 0
    # A repeated award (the same review twice) is one action.
    tx(lambda s: points.award(s, user_id=a, reason="review", key="review:9", points=10))
    tx(lambda s: points.award(s, user_id=a, reason="review", key="review:9", points=10))
    views = {v.achievement.code: v for v in read(lambda s: achievements.achievements_of(s, a))}
    assert views["reviews_10"].progress == 1
    # The inbox tells the achievement once.
    from tuangou.core import outbox

    outbox.deliver_pending()
    outbox.deliver_pending()
    kinds = rows("SELECT kind FROM notifications WHERE user_id = :u ORDER BY id", u=a)
    assert kinds.count(("achievement.earned",)) == 1
    assert ("achievement.task_done",) in kinds  # the weekly review task, from review:9


def test_a_seven_day_streak_is_an_achievement_and_a_gap_restarts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = member(), member()
    for n in range(7):
        with frozen(monkeypatch, local(MONDAY + timedelta(days=n), time(8))):
            tx(lambda s: points.checkin(s, a))
        if n != 3:  # b misses a day
            with frozen(monkeypatch, local(MONDAY + timedelta(days=n), time(8))):
                tx(lambda s: points.checkin(s, b))
    last = MONDAY + timedelta(days=6)
    assert ("achievement:streak_7", 50) in task_awards(a)
    assert ("achievement:streak_7", 50) not in task_awards(b)
    streak_b = next(
        v
        for v in read(lambda s: achievements.achievements_of(s, b, today=last))
        if v.achievement.code == "streak_7"
    )
    assert streak_b.progress == 3 and streak_b.earned_at is None


def test_an_operator_defines_tasks_and_bad_ones_change_nothing() -> None:
    achievements.ensure_default_tasks()
    before = rows("SELECT id, action, count, points, badge, active FROM weekly_tasks ORDER BY id")
    assert [r[1] for r in before] == ["checkin", "review", "invite"]
    for bad in (
        {"action": "lottery", "count": 1, "points": 1},
        {"action": "review", "count": 0, "points": 1},
        {"action": "review", "count": 1, "points": -1},
        {"action": "review", "count": 1, "points": 1, "badge": "nope"},
    ):
        with pytest.raises(errors.InvalidTask):
            tx(lambda s, bad=bad: achievements.create_task(s, **bad))
    with pytest.raises(errors.TaskNotFound):
        tx(lambda s: achievements.update_task(s, 999, action="review", count=1, points=1))
    assert (
        rows("SELECT id, action, count, points, badge, active FROM weekly_tasks ORDER BY id")
        == before
    )
    made = tx(
        lambda s: (
            achievements.create_task(
                s, action="bargain_help", count=2, points=15, badge="helper"
            ).id
        )
    )
    tx(
        lambda s: achievements.update_task(
            s, made, action="bargain_help", count=2, points=15, badge="helper", active=False
        )
    )
    assert made not in [t.id for t in read(lambda s: achievements.list_tasks(s, active_only=True))]
