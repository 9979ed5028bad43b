"""The demo's tasks and achievements: 赵六 has this week's review task done and two
achievements (首单, 连续签到 7 天), with their badges."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import audit_violations, scalar
from tests.points.helpers import read
from tuangou import demo
from tuangou.achievements import service as achievements

pytestmark = pytest.mark.usefixtures("db")


def test_demo_member_has_a_task_done_and_two_achievements(client: TestClient) -> None:
    from tuangou.accounts.models import User

    demo.load()
    uid = read(lambda s: s.scalar(select(User.id).where(User.phone == demo.DEMO_REVIEWS[0][0])))
    tasks = read(lambda s: achievements.tasks_of_week(s, uid))
    assert [t.action for t in tasks if t.completed] == ["review"]
    earned = [
        v.achievement.code
        for v in read(lambda s: achievements.achievements_of(s, uid))
        if v.earned_at is not None
    ]
    assert earned == ["first_order", "streak_7"]
    badges = {b.badge.code for b in read(lambda s: achievements.badges_of(s, uid))}
    assert {"reviewer", "first_order", "streak7"} <= badges
    # Their review shows their badges, small, beside their name.
    review = scalar("SELECT id FROM reviews WHERE user_id = :u ORDER BY id LIMIT 1", u=uid)
    page = client.get(f"/reviews/{review}")
    assert page.status_code == 200 and 'class="small author-badges"' in page.text
    assert audit_violations() == []
