"""The points API: the member's points, entries and check-in; the levels; the operator's
settings, levels, adjustments and a member's points."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, audit_violations


def _h(who: dict[str, str]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


def test_checkin_then_points_then_entries(api: Api) -> None:
    m = api.signup("小王")
    r = api.c.post("/api/me/checkin", headers={**_h(m), "Idempotency-Key": "ci-1"})
    assert r.status_code == 201, r.text
    assert r.json() | {"day": None} == {
        "day": None,
        "streak": 1,
        "points": 5,
        "bonus": 0,
        "balance": 5,
    }
    # The same key replays the same reply; a new request is refused.
    again = api.c.post("/api/me/checkin", headers={**_h(m), "Idempotency-Key": "ci-1"})
    assert again.status_code == 201 and again.json() == r.json()
    refused = api.c.post("/api/me/checkin", headers=_h(m))
    assert refused.status_code == 409 and refused.json()["code"] == "already_checked_in"

    me: dict[str, Any] = api.c.get("/api/me/points", headers=_h(m)).json()
    assert (me["balance"], me["experience"], me["streak"], me["checked_in_today"]) == (
        5,
        5,
        1,
        True,
    )
    assert me["month"] == [r.json()["day"]]
    assert me["level"]["level"]["name"] == "新邻居"
    assert me["level"]["next"]["name"] == "好邻居" and me["level"]["to_next"] == 195
    assert me["next_checkin_points"] == 5  # tomorrow: day 2 of the ladder
    assert me["expiring"][0]["points"] == 5

    entries = api.c.get("/api/me/points/entries", headers=_h(m)).json()
    assert [(e["kind"], e["amount"]) for e in entries["entries"]] == [("award", 5)]
    assert entries["next_cursor"] is None
    assert audit_violations() == []


def test_entries_page_with_a_cursor(api: Api) -> None:
    op = api.operator()
    m = api.signup()
    for i in range(23):
        r = api.c.post(
            "/api/admin/points/adjust",
            json={"member_id": int(m["user_id"]), "points": i + 1, "note": f"补 {i}"},
            headers=op,
        )
        assert r.status_code == 201, r.text
    first = api.c.get("/api/me/points/entries", headers=_h(m)).json()
    assert len(first["entries"]) == 20 and first["next_cursor"]
    rest = api.c.get(
        "/api/me/points/entries", params={"cursor": first["next_cursor"]}, headers=_h(m)
    ).json()
    assert [e["amount"] for e in rest["entries"]] == [3, 2, 1]
    assert rest["next_cursor"] is None


def test_operator_settings_levels_and_adjust(api: Api) -> None:
    op = api.operator()
    m = api.signup()
    settings = api.c.get("/api/admin/points/settings", headers=op).json()
    assert settings["ladder"] == [5, 5, 10, 10, 15, 15, 30]
    new = {**settings, "ladder": [3, 6], "expiry_years": 2}
    r = api.c.put("/api/admin/points/settings", json=new, headers=op)
    assert r.status_code == 200 and r.json() == new
    bad = api.c.put("/api/admin/points/settings", json={**new, "ladder": []}, headers=op)
    assert bad.status_code == 422
    assert api.c.get("/api/admin/points/settings", headers=op).json() == new

    levels = api.c.get("/api/levels").json()
    assert [lv["threshold"] for lv in levels] == [0, 200, 800, 2000, 5000]
    mine = [
        {"name": "新人", "threshold": 0, "checkin_bonus": 0, "discount_bps": 0, "early_hours": 0},
        {"name": "老友", "threshold": 10, "checkin_bonus": 1, "discount_bps": 80, "early_hours": 4},
    ]
    assert api.c.put("/api/admin/levels", json={"levels": mine}, headers=op).json() == mine
    refused = api.c.put(
        "/api/admin/levels", json={"levels": [{**mine[1], "threshold": 5}]}, headers=op
    )
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_levels"
    assert api.c.get("/api/admin/levels", headers=op).json() == mine

    uid = int(m["user_id"])
    r = api.c.post(
        "/api/admin/points/adjust",
        json={"member_id": uid, "points": 40, "note": "活动补发"},
        headers=op,
    )
    assert r.status_code == 201 and r.json() == {"member_id": uid, "points": 40, "balance": 40}
    short = api.c.post(
        "/api/admin/points/adjust",
        json={"member_id": uid, "points": -41, "note": "扣回"},
        headers=op,
    )
    assert short.status_code == 409 and short.json()["code"] == "not_enough_points"
    no_note = api.c.post(
        "/api/admin/points/adjust", json={"member_id": uid, "points": 1, "note": ""}, headers=op
    )
    assert no_note.status_code == 422
    nobody = api.c.post(
        "/api/admin/points/adjust",
        json={"member_id": 999999, "points": 1, "note": "x"},
        headers=op,
    )
    assert nobody.status_code == 404
    seen = api.c.get(f"/api/admin/points/members/{uid}", headers=op).json()
    assert seen["points"]["balance"] == 40
    assert seen["points"]["experience"] == 0  # an adjustment earns no experience
    assert seen["entries"][0]["memo"].startswith("admin_adjust:")
    # With the operator's ladder and levels: 3 points and no level bonus yet.
    assert api.c.post("/api/me/checkin", headers=_h(m)).json()["points"] == 3
    assert audit_violations() == []
