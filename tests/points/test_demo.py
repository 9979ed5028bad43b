"""The demo site's points: a five-day streak, a broken streak, a level-up, and a clean audit."""

from __future__ import annotations

import pytest

from tests.conftest import audit_violations
from tests.points.helpers import read, task_points
from tuangou import demo
from tuangou.points import service as points

pytestmark = pytest.mark.usefixtures("db")


def test_demo_members_have_points_streaks_and_a_level() -> None:
    from sqlalchemy import select

    from tuangou.accounts.models import User

    demo.load()
    ids = read(
        lambda s: [
            s.scalar(select(User.id).where(User.phone == phone)) for phone, _ in demo.MEMBERS[:3]
        ]
    )
    first, second = (read(lambda s, u=u: points.summary(s, u)) for u in ids[:2])
    assert (first.streak, first.checked_in_today) == (5, True)
    # (Three of the days in this week complete the weekly check-in task: its points too.)
    assert first.balance - task_points(ids[0]) == 5 + 5 + 10 + 10 + 15
    assert (second.streak, second.checked_in_today) == (0, False)
    assert second.level.level.name == "好邻居"
    assert read(lambda s: points.balance_of(s, ids[2])) - task_points(ids[2]) == 30
    # Tasks and achievements: 赵六 has this week's review task done, and two achievements.
    from tuangou.achievements import service as achievements

    zhao = read(lambda s: s.scalar(select(User.id).where(User.phone == demo.MEMBERS[5][0])))
    tasks = read(lambda s: achievements.tasks_of_week(s, zhao))
    assert [t.action for t in tasks if t.completed] == ["review"]
    reached = read(lambda s: achievements.achievements_of(s, zhao))
    assert [v.achievement.code for v in reached if v.earned_at] == ["first_order", "streak_7"]
    assert audit_violations() == []
