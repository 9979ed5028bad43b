"""Leaders, pickup points and communities: helpers the tests of this package share.

The helpers read the database behind the API directly, as an independent witness.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, rows

POINT = {
    "name": "幸福里 3 栋便利店",
    "address": "幸福里 3 栋 1 楼",
    "latitude": 31.2304,
    "longitude": 121.4737,
    "opening_hours": "每天 9:00-21:00",
}

# Every table this domain writes, and the outbox (events are part of the state a refusal
# must not change).
TABLES = {
    "leader_applications": "id, user_id, status, reject_reason, decided_by",
    "leaders": "id, user_id, status, parent_leader_id, paused_reason",
    "pickup_points": "id, leader_id, name, address, latitude, longitude, opening_hours, active",
    "communities": "id, leader_id, name, rules, rules_version, invite_code",
    "community_rules_versions": "id, community_id, version, text, author_id",
    "community_rules_acceptances": "id, community_id, user_id, version",
    "community_members": "id, community_id, user_id, role",
    "sub_leader_invitations": "id, inviter_leader_id, invitee_leader_id, status, decided_at",
    "sub_leader_links": "id, parent_leader_id, leader_id, invitation_id, ended_at, end_reason",
    "outbox_events": "id, topic",
}


def count(table: str, where: str = "1 = 1", **params: Any) -> int:
    return int(rows(f"SELECT COUNT(*) FROM {table} WHERE {where}", **params)[0][0])


def state() -> dict[str, list[tuple[Any, ...]]]:
    """Everything this domain stored, to show that a refusal changed nothing."""
    return {
        table: sorted(rows(f"SELECT {cols} FROM {table}"), key=repr)
        for table, cols in TABLES.items()
    }


def auth(who: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


def apply(api: Api, who: dict[str, Any], **point: Any) -> dict[str, Any]:
    r = api.c.post("/api/leader/applications", json={**POINT, **point}, headers=auth(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


def make_leader(api: Api, op: dict[str, str], nickname: str = "李阿姨") -> dict[str, Any]:
    """A member who applied and was approved: their headers, user, leader and pickup point ids."""
    who: dict[str, Any] = dict(api.signup(nickname))
    application = apply(api, who, name=f"{nickname}的自提点")
    r = api.c.post(f"/api/admin/leader-applications/{application['id']}/approve", headers=op)
    assert r.status_code == 200, r.text
    who["leader_id"] = r.json()["leader"]["id"]
    who["pickup_point_id"] = r.json()["pickup_point"]["id"]
    who["user_id"] = int(who["user_id"])
    return who


def make_community(
    api: Api, leader: dict[str, Any], name: str = "幸福里业主群", rules: str = "只发团购"
) -> dict[str, Any]:
    r = api.c.post(
        "/api/leader/communities", json={"name": name, "rules": rules}, headers=auth(leader)
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def join(api: Api, who: dict[str, Any], code: str) -> dict[str, Any]:
    """Join, accepting the community's current rules (群规) as the invite page shows them."""
    version = api.c.get(f"/api/communities/invite/{code}").json()["rules_version"]
    body = {"rules_version": version} if version else None
    r = api.c.post(f"/api/communities/invite/{code}/join", json=body, headers=auth(who))
    assert r.status_code == 200, r.text
    return dict(r.json())


def refused(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code, r.text


def inbox(api: Api, who: dict[str, Any], lang: str = "zh-CN") -> list[dict[str, Any]]:
    r = api.c.get("/api/notifications", headers={**auth(who), "Accept-Language": lang})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])
