"""The tasks and achievements API: a member's tasks with progress, achievements and badges;
the operator's weekly tasks (refusals change nothing)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, audit_violations, rows


def _h(who: dict[str, str]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


def test_a_member_sees_tasks_achievements_and_badges(api: Api) -> None:
    m = api.signup("小王")
    r = api.c.post("/api/me/checkin", headers=_h(m))
    assert r.status_code == 201, r.text
    tasks: list[dict[str, Any]] = api.c.get("/api/me/tasks", headers=_h(m)).json()
    assert [(t["action"], t["count"], t["done"], t["completed"]) for t in tasks] == [
        ("checkin", 3, 1, False),
        ("review", 1, 0, False),
        ("invite", 1, 0, False),
    ]
    assert tasks[0]["title"] == "Check in on 3 days" and tasks[0]["badge"]["code"] == "early_bird"
    found = api.c.get("/api/me/achievements", headers=_h(m)).json()
    streak = next(a for a in found if a["code"] == "streak_7")
    assert (streak["progress"], streak["threshold"], streak["earned"]) == (1, 7, False)
    assert api.c.get("/api/me/badges", headers=_h(m)).json() == []


def test_the_operator_defines_weekly_tasks(api: Api) -> None:
    op = api.operator()
    listed = api.c.get("/api/admin/tasks", headers=_h(op)).json()
    assert [t["action"] for t in listed] == ["checkin", "review", "invite"]
    body = {"action": "bargain_help", "count": 2, "points": 15, "badge": "helper"}
    made = api.c.post("/api/admin/tasks", json=body, headers=_h(op))
    assert made.status_code == 201, made.text
    assert made.json()["title"] == "Help 2 bargains" and made.json()["active"] is True
    before = rows("SELECT * FROM weekly_tasks ORDER BY id")
    for bad, status in (
        ({**body, "badge": "nope"}, 422),
        ({**body, "count": 0}, 422),
        ({**body, "action": "lottery"}, 422),
    ):
        refused = api.c.post("/api/admin/tasks", json=bad, headers=_h(op))
        assert refused.status_code == status, refused.text
    assert (
        api.c.post("/api/admin/tasks", json={**body, "badge": "nope"}, headers=_h(op)).json()[
            "code"
        ]
        == "invalid_task"
    )
    missing = api.c.put("/api/admin/tasks/9999", json=body, headers=_h(op))
    assert missing.status_code == 404 and missing.json()["code"] == "task_not_found"
    assert rows("SELECT * FROM weekly_tasks ORDER BY id") == before
    off = api.c.put(
        f"/api/admin/tasks/{made.json()['id']}", json={**body, "active": False}, headers=_h(op)
    )
    assert off.status_code == 200 and off.json()["active"] is False
    m = api.signup()
    assert "bargain_help" not in [
        t["action"] for t in api.c.get("/api/me/tasks", headers=_h(m)).json()
    ]
    assert audit_violations() == []
