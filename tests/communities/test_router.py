"""Leaders and communities over HTTP, on both backends.

application → approval → pickup points → community → invite link → admins; rejections with
their reason; every refusal's stable code, and that it changed nothing; who may do what.
"""

from __future__ import annotations

from typing import Any

from tests.api import execute
from tests.communities import (
    POINT,
    apply,
    auth,
    count,
    inbox,
    join,
    make_community,
    make_leader,
    refused,
    state,
)
from tests.conftest import Api, rows, run_worker
from tuangou.core import clock

# ---------------------------------------------------------------- the whole flow


def test_application_to_community_with_admins(api: Api) -> None:
    op = api.operator()
    aunt: dict[str, Any] = dict(api.signup("李阿姨"))
    neighbour = api.signup("王大爷")
    other = api.signup("张三")

    # A member is not a leader yet.
    refused(api.c.get("/api/leader/me", headers=auth(aunt)), 403, "not_a_leader")

    application = apply(api, aunt, note="小区 3 栋, 每天在家")
    assert application["status"] == "pending"
    assert application["pickup_point"]["name"] == POINT["name"]

    # The operator's queue: oldest first, each with its age and the applicant's masked phone.
    later = api.signup("赵姐")
    later_application = apply(api, later)
    queue = api.c.get("/api/admin/leader-applications", headers=op)
    assert queue.status_code == 200, queue.text
    assert [a["id"] for a in queue.json()] == [application["id"], later_application["id"]]
    first = queue.json()[0]
    aunt_phone = api.c.get("/api/me", headers=auth(aunt)).json()["phone"]
    assert first["applicant"]["phone"] == f"{aunt_phone[:3]}****{aunt_phone[-4:]}"
    assert first["applicant"]["nickname"] == "李阿姨"
    assert first["note"] == "小区 3 栋, 每天在家"
    assert isinstance(first["age_seconds"], int) and first["age_seconds"] >= 0
    assert aunt_phone not in queue.text

    approved = api.c.post(f"/api/admin/leader-applications/{application['id']}/approve", headers=op)
    assert approved.status_code == 200, approved.text
    leader_id = approved.json()["leader"]["id"]
    first_point = approved.json()["pickup_point"]
    assert approved.json()["application"]["status"] == "approved"
    assert first_point["name"] == POINT["name"]
    assert first_point["latitude"] == POINT["latitude"]
    assert first_point["active"] is True
    # Only the undecided application is still queued.
    queue = api.c.get("/api/admin/leader-applications?status=pending", headers=op).json()
    assert [a["id"] for a in queue] == [later_application["id"]]
    decided = api.c.get("/api/admin/leader-applications?status=approved", headers=op).json()
    assert [a["id"] for a in decided] == [application["id"]]

    # The applicant is told.
    run_worker()
    told = inbox(api, aunt)
    assert [n["kind"] for n in told] == ["leader.approved"]
    assert told[0]["title"] == "团长申请已通过"
    assert POINT["name"] in told[0]["body"]
    assert "Pickup point" in inbox(api, aunt, "en")[0]["body"]

    # Pickup points: a second one, then updated.
    r = api.c.post(
        "/api/leader/pickup-points",
        json={**POINT, "name": "幸福里东门", "latitude": 31.23, "longitude": 121.47},
        headers=auth(aunt),
    )
    assert r.status_code == 201, r.text
    second = r.json()
    r = api.c.patch(
        f"/api/leader/pickup-points/{second['id']}",
        json={"opening_hours": "周末 10:00-18:00", "active": False},
        headers=auth(aunt),
    )
    assert r.status_code == 200, r.text
    assert r.json()["opening_hours"] == "周末 10:00-18:00"
    assert r.json()["active"] is False
    assert r.json()["name"] == "幸福里东门"
    points = api.c.get("/api/leader/pickup-points", headers=auth(aunt)).json()
    assert [(p["id"], p["active"]) for p in points] == [
        (first_point["id"], True),
        (second["id"], False),
    ]

    # A community with its rules, joined through the invite link.
    community = make_community(api, aunt, rules="1. 只发团购 2. 文明交流")
    assert community["member_count"] == 1
    code = community["invite_code"]
    page = api.c.get(f"/api/communities/invite/{code}")  # public: no log-in
    assert page.status_code == 200, page.text
    assert page.json() == {
        "community_id": community["id"],
        "name": "幸福里业主群",
        "leader_name": "李*姨",
        "member_count": 1,
        "rules": "1. 只发团购 2. 文明交流",
        "rules_version": 1,
    }
    assert aunt_phone[-4:] not in page.text

    joined = join(api, neighbour, code)
    assert joined["new"] is True
    assert joined["role"] == "member"
    again = join(api, neighbour, code)
    assert again["new"] is False
    assert again["joined_at"] == joined["joined_at"]
    assert count("community_members", "user_id = :u", u=int(neighbour["user_id"])) == 1
    join(api, other, code)
    assert api.c.get(f"/api/communities/invite/{code}").json()["member_count"] == 3

    mine = api.c.get("/api/communities", headers=auth(neighbour)).json()
    assert [(c["id"], c["role"], c["member_count"]) for c in mine] == [
        (community["id"], "member", 3)
    ]
    assert mine[0]["rules"] == "1. 只发团购 2. 文明交流"
    led = api.c.get("/api/communities", headers=auth(aunt)).json()
    assert [(c["id"], c["role"]) for c in led] == [(community["id"], "leader")]

    # The neighbour cannot manage yet; once named admin they can edit the rules and see members.
    refused(
        api.c.patch(
            f"/api/leader/communities/{community['id']}",
            json={"rules": "改群规"},
            headers=auth(neighbour),
        ),
        403,
        "not_community_manager",
    )
    r = api.c.post(
        f"/api/leader/communities/{community['id']}/admins",
        json={"user_id": int(neighbour["user_id"])},
        headers=auth(aunt),
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "admin"
    r = api.c.patch(
        f"/api/leader/communities/{community['id']}",
        json={"rules": "新群规: 每天最多 3 条团购"},
        headers=auth(neighbour),
    )
    assert r.status_code == 200, r.text
    page = api.c.get(f"/api/communities/invite/{code}")
    assert page.json()["rules"] == "新群规: 每天最多 3 条团购"
    members_url = f"/api/leader/communities/{community['id']}/members"
    listed = api.c.get(members_url, headers=auth(neighbour))
    assert listed.status_code == 200, listed.text
    assert [(m["nickname"], m["role"]) for m in listed.json()] == [
        ("李阿姨", "leader"),
        ("王大爷", "admin"),
        ("张三", "member"),
    ]
    for m in listed.json():
        assert "****" in m["phone"] and len(m["phone"]) == 11
    for who in (aunt, neighbour, other):
        phone = api.c.get("/api/me", headers=auth(who)).json()["phone"]
        assert phone not in listed.text
    # An admin cannot name admins: that is the leader's.
    refused(
        api.c.post(
            f"/api/leader/communities/{community['id']}/admins",
            json={"user_id": int(other["user_id"])},
            headers=auth(neighbour),
        ),
        403,
        "not_community_leader",
    )
    # The leader removes the admin, who can no longer manage.
    r = api.c.delete(
        f"/api/leader/communities/{community['id']}/admins/{neighbour['user_id']}",
        headers=auth(aunt),
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == "member"
    refused(
        api.c.get(f"/api/leader/communities/{community['id']}/members", headers=auth(neighbour)),
        403,
        "not_community_manager",
    )

    # The leader's profile.
    me = api.c.get("/api/leader/me", headers=auth(aunt))
    assert me.status_code == 200, me.text
    profile = me.json()
    assert profile["id"] == leader_id
    assert profile["status"] == "active"
    assert profile["parent"] is None and profile["sub_leaders"] == []
    assert [p["id"] for p in profile["pickup_points"]] == [first_point["id"], second["id"]]
    assert [(c["id"], c["member_count"]) for c in profile["communities"]] == [(community["id"], 3)]

    # A member leaves; the leader cannot.
    r = api.c.post(f"/api/communities/{community['id']}/leave", headers=auth(other))
    assert r.status_code == 200, r.text
    assert api.c.get(f"/api/communities/invite/{code}").json()["member_count"] == 2
    refused(
        api.c.post(f"/api/communities/{community['id']}/leave", headers=auth(aunt)),
        409,
        "leader_cannot_leave",
    )


def test_a_new_invite_link_replaces_the_old(api: Api) -> None:
    op = api.operator()
    aunt = make_leader(api, op)
    community = make_community(api, aunt)
    old = community["invite_code"]
    r = api.c.post(f"/api/leader/communities/{community['id']}/invite-code", headers=auth(aunt))
    assert r.status_code == 200, r.text
    new = r.json()["invite_code"]
    assert new != old
    refused(api.c.get(f"/api/communities/invite/{old}"), 404, "invite_not_found")
    assert join(api, api.signup(), new)["new"] is True


# ---------------------------------------------------------------- rejection


def test_rejection_needs_a_reason_and_the_applicant_reads_it(api: Api) -> None:
    op = api.operator()
    member = api.signup("钱阿姨")
    application = apply(api, member)
    url = f"/api/admin/leader-applications/{application['id']}/reject"

    before = state()
    refused(api.c.post(url, json={}, headers=op), 422, "invalid_input")
    refused(api.c.post(url, json={"reason": "   "}, headers=op), 422, "invalid_input")
    assert state() == before

    r = api.c.post(url, json={"reason": "自提点地址不在服务范围内"}, headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"
    assert r.json()["reject_reason"] == "自提点地址不在服务范围内"
    assert r.json()["decided_at"] is not None
    assert count("leaders") == 0 and count("pickup_points") == 0

    mine = api.c.get("/api/leader/applications", headers=auth(member)).json()
    assert [(a["status"], a["reject_reason"]) for a in mine] == [
        ("rejected", "自提点地址不在服务范围内")
    ]
    run_worker()
    told = inbox(api, member)
    assert [n["kind"] for n in told] == ["leader.rejected"]
    assert "自提点地址不在服务范围内" in told[0]["body"]
    assert "自提点地址不在服务范围内" in inbox(api, member, "en")[0]["body"]

    # A decided application stays decided, whichever way one tries.
    before = state()
    refused(
        api.c.post(f"/api/admin/leader-applications/{application['id']}/approve", headers=op),
        409,
        "application_decided",
    )
    refused(api.c.post(url, json={"reason": "再拒一次"}, headers=op), 409, "application_decided")
    assert state() == before

    # The member may apply again, and be approved this time.
    second = apply(api, member, address="幸福里 5 栋 1 楼")
    r = api.c.post(f"/api/admin/leader-applications/{second['id']}/approve", headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["pickup_point"]["address"] == "幸福里 5 栋 1 楼"
    mine = api.c.get("/api/leader/applications", headers=auth(member)).json()
    assert [a["status"] for a in mine] == ["approved", "rejected"]


# ---------------------------------------------------------------- refusals change nothing


def test_every_refusal_has_its_code_and_changes_nothing(api: Api) -> None:
    op = api.operator()
    aunt = make_leader(api, op, "李阿姨")
    uncle = make_leader(api, op, "王叔")
    community = make_community(api, aunt)
    code = community["invite_code"]
    member = api.signup("团员")
    join(api, member, code)
    stranger = api.signup("路人")
    pending = apply(api, stranger)
    run_worker()

    cases: list[tuple[str, str, dict[str, Any] | None, dict[str, str], int, str]] = [
        # (method, path, body, headers, status, code)
        ("POST", "/api/leader/applications", POINT, auth(stranger), 409, "application_pending"),
        ("POST", "/api/leader/applications", POINT, auth(aunt), 409, "already_leader"),
        (
            "POST",
            f"/api/admin/leader-applications/{pending['id'] + 100}/approve",
            None,
            op,
            404,
            "application_not_found",
        ),
        ("GET", "/api/leader/me", None, auth(member), 403, "not_a_leader"),
        ("POST", "/api/leader/pickup-points", POINT, auth(member), 403, "not_a_leader"),
        ("POST", "/api/leader/communities", {"name": "群"}, auth(member), 403, "not_a_leader"),
        (
            "POST",
            "/api/leader/sub-leaders",
            {"leader_id": uncle["leader_id"]},
            auth(member),
            403,
            "not_a_leader",
        ),
        (
            "PATCH",
            f"/api/leader/communities/{community['id']}",
            {"rules": "占领"},
            auth(uncle),
            404,
            "community_not_found",
        ),
        (
            "PATCH",
            f"/api/leader/communities/{community['id']}",
            {"rules": "占领"},
            auth(member),
            403,
            "not_community_manager",
        ),
        (
            "GET",
            f"/api/leader/communities/{community['id']}/members",
            None,
            auth(uncle),
            404,
            "community_not_found",
        ),
        (
            "POST",
            f"/api/leader/communities/{community['id']}/admins",
            {"user_id": int(member["user_id"])},
            auth(uncle),
            404,
            "community_not_found",
        ),
        (
            "POST",
            f"/api/leader/communities/{community['id']}/invite-code",
            None,
            auth(uncle),
            404,
            "community_not_found",
        ),
        (
            "POST",
            f"/api/leader/communities/{community['id']}/admins",
            {"user_id": int(stranger["user_id"])},
            auth(aunt),
            409,
            "not_a_member",
        ),
        (
            "POST",
            f"/api/leader/communities/{community['id']}/admins",
            {"user_id": aunt["user_id"]},
            auth(aunt),
            422,
            "invalid_input",
        ),
        (
            "PATCH",
            f"/api/leader/communities/{community['id'] + 100}",
            {"rules": "x"},
            auth(aunt),
            404,
            "community_not_found",
        ),
        (
            "PATCH",
            f"/api/leader/pickup-points/{aunt['pickup_point_id']}",
            {"name": "抢来的"},
            auth(uncle),
            404,
            "pickup_point_not_found",
        ),
        (
            "PATCH",
            f"/api/leader/pickup-points/{aunt['pickup_point_id'] + 100}",
            {"name": "x"},
            auth(aunt),
            404,
            "pickup_point_not_found",
        ),
        (
            "POST",
            "/api/leader/pickup-points",
            {**POINT, "latitude": 91},
            auth(aunt),
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/leader/pickup-points",
            {**POINT, "name": "  "},
            auth(aunt),
            422,
            "invalid_input",
        ),
        ("GET", "/api/communities/invite/AAAAAAAAAAAA", None, {}, 404, "invite_not_found"),
        ("GET", "/api/communities/invite/not-a-code", None, {}, 404, "invite_not_found"),
        (
            "POST",
            "/api/communities/invite/AAAAAAAAAAAA/join",
            None,
            auth(member),
            404,
            "invite_not_found",
        ),
        (
            "POST",
            f"/api/communities/{community['id']}/leave",
            None,
            auth(stranger),
            409,
            "not_a_member",
        ),
        (
            "POST",
            "/api/leader/sub-leaders",
            {"leader_id": aunt["leader_id"]},
            auth(aunt),
            409,
            "cannot_recruit_self",
        ),
        (
            "POST",
            "/api/leader/sub-leaders",
            {"leader_id": 999},
            auth(aunt),
            404,
            "leader_not_found",
        ),
        ("POST", "/api/admin/leaders/999/pause", {"reason": "x"}, op, 404, "leader_not_found"),
        (
            "POST",
            f"/api/admin/leaders/{aunt['leader_id']}/pause",
            {"reason": " "},
            op,
            422,
            "invalid_input",
        ),
    ]
    before = state()
    for method, path, body, headers, status, code in cases:
        r = api.c.request(method, path, json=body, headers=headers)
        assert r.status_code == status, (method, path, r.text)
        assert r.json()["code"] == code, (method, path, r.text)
        assert state() == before, (method, path)
    run_worker()
    assert inbox(api, stranger) == []


def test_concurrent_twin_applications_leave_one_pending(api: Api) -> None:
    """The unique pending index holds even if the service's own check is raced."""
    from concurrent.futures import ThreadPoolExecutor

    member = api.signup()

    def go(_: int) -> int:
        return api.c.post("/api/leader/applications", json=POINT, headers=auth(member)).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(go, range(6)))
    assert sorted(codes) == [201] + [409] * 5
    assert count("leader_applications", "status = 'pending'") == 1


# ---------------------------------------------------------------- roles


def test_members_cannot_act_as_operators(api: Api) -> None:
    op = api.operator()
    aunt = make_leader(api, op)
    member = api.signup()
    application = apply(api, member)
    before = state()
    for method, path, body in (
        ("GET", "/api/admin/leader-applications", None),
        ("POST", f"/api/admin/leader-applications/{application['id']}/approve", None),
        ("POST", f"/api/admin/leader-applications/{application['id']}/reject", {"reason": "x"}),
        ("GET", "/api/admin/leaders", None),
        ("POST", f"/api/admin/leaders/{aunt['leader_id']}/pause", {"reason": "x"}),
        ("POST", f"/api/admin/leaders/{aunt['leader_id']}/resume", {"reason": "x"}),
    ):
        for who in (auth(member), auth(aunt)):  # a leader is no operator either
            r = api.c.request(method, path, json=body, headers=who)
            refused(r, 403, "forbidden")
        refused(api.c.request(method, path, json=body), 401, "unauthenticated")
    assert state() == before
    # Not even their own application.
    refused(
        api.c.post(
            f"/api/admin/leader-applications/{application['id']}/approve", headers=auth(member)
        ),
        403,
        "forbidden",
    )


def test_a_leader_cannot_manage_another_leaders_community(api: Api) -> None:
    op = api.operator()
    aunt = make_leader(api, op, "李阿姨")
    uncle = make_leader(api, op, "王叔")
    community = make_community(api, aunt)
    neighbour = api.signup("邻居")
    join(api, neighbour, community["invite_code"])
    # The other leader joins as a plain member: still no manager.
    join(api, uncle, community["invite_code"])
    before = state()
    cid = community["id"]
    for method, path, body, code in (
        ("PATCH", f"/api/leader/communities/{cid}", {"name": "王叔的群"}, "not_community_manager"),
        ("GET", f"/api/leader/communities/{cid}/members", None, "not_community_manager"),
        (
            "POST",
            f"/api/leader/communities/{cid}/admins",
            {"user_id": uncle["user_id"]},
            "not_community_leader",
        ),
        (
            "DELETE",
            f"/api/leader/communities/{cid}/admins/{neighbour['user_id']}",
            None,
            "not_community_leader",
        ),
    ):
        refused(api.c.request(method, path, json=body, headers=auth(uncle)), 403, code)
    assert state() == before
    # The owner can.
    r = api.c.patch(f"/api/leader/communities/{cid}", json={"name": "新名字"}, headers=auth(aunt))
    assert r.status_code == 200 and r.json()["name"] == "新名字"


# ---------------------------------------------------------------- pause and resume


def test_operator_pauses_and_resumes_a_leader_with_a_reason(api: Api) -> None:
    from tuangou.communities import service as communities
    from tuangou.communities.errors import LeaderPaused
    from tuangou.core.db import unit_of_work

    op = api.operator()
    aunt = make_leader(api, op)
    run_worker()
    lid = aunt["leader_id"]

    r = api.c.post(f"/api/admin/leaders/{lid}/pause", json={}, headers=op)
    refused(r, 422, "invalid_input")
    r = api.c.post(f"/api/admin/leaders/{lid}/pause", json={"reason": "多次未按时到货"}, headers=op)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["paused_reason"]) == ("paused", "多次未按时到货")
    # Pausing again changes nothing and tells nobody twice.
    r = api.c.post(f"/api/admin/leaders/{lid}/pause", json={"reason": "again"}, headers=op)
    assert r.json()["paused_reason"] == "多次未按时到货"
    me = api.c.get("/api/leader/me", headers=auth(aunt)).json()
    assert (me["status"], me["paused_reason"]) == ("paused", "多次未按时到货")
    paused = api.c.get("/api/admin/leaders?status=paused", headers=op).json()
    assert [x["id"] for x in paused] == [lid]

    with unit_of_work(readonly=True) as session:
        try:
            communities.require_publishing_leader(session, aunt["user_id"])
        except LeaderPaused as exc:
            problem = exc.to_problem()
        else:
            raise AssertionError("a paused leader may not publish")
    assert problem["code"] == "leader_paused"
    assert problem["status"] == 403
    assert problem["reason"] == "多次未按时到货"

    # A paused leader still runs their communities.
    assert make_community(api, aunt)["member_count"] == 1

    r = api.c.post(f"/api/admin/leaders/{lid}/resume", headers=op)  # reason optional
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["paused_reason"]) == ("active", None)
    with unit_of_work(readonly=True) as session:
        assert communities.require_publishing_leader(session, aunt["user_id"]).id == lid

    run_worker()
    told = inbox(api, aunt)
    assert [n["kind"] for n in told] == ["leader.resumed", "leader.paused", "leader.approved"]
    assert "多次未按时到货" in told[1]["body"]


def test_application_age_grows_with_time(api: Api) -> None:
    from datetime import timedelta

    op = api.operator()
    apply(api, api.signup())
    first = api.c.get("/api/admin/leader-applications", headers=op).json()[0]["age_seconds"]
    clock.advance(timedelta(hours=5))
    later = api.c.get("/api/admin/leader-applications", headers=op).json()[0]["age_seconds"]
    assert later - first >= 5 * 3600


def test_an_operator_never_decides_their_own_application(api: Api) -> None:
    """Operators are staff accounts and cannot apply (docs/SECURITY.md); a member who applied
    and was then made an operator still never decides the application they filed."""
    other_op = api.operator()
    before = state()
    refused(
        api.c.post("/api/leader/applications", json=POINT, headers=auth(other_op)),
        403,
        "staff_account",
    )
    assert state() == before
    member = api.signup("新运营")
    application = apply(api, member)
    execute("UPDATE users SET role = 'operator' WHERE id = :id", id=int(member["user_id"]))
    phone = rows("SELECT phone FROM users WHERE id = :id", id=int(member["user_id"]))[0][0]
    login = api.c.post("/api/auth/login", json={"phone": phone, "password": "secret123"})
    op = {"Authorization": f"Bearer {login.json()['token']}"}
    for verb, body in (("approve", None), ("reject", {"reason": "自己批自己"})):
        refused(
            api.c.post(
                f"/api/admin/leader-applications/{application['id']}/{verb}",
                json=body,
                headers=auth(op),
            ),
            403,
            "own_application",
        )
    pending = api.c.get("/api/admin/leader-applications", headers=auth(other_op)).json()
    assert [a["status"] for a in pending if a["id"] == application["id"]] == ["pending"]
    approved = api.c.post(
        f"/api/admin/leader-applications/{application['id']}/approve", headers=auth(other_op)
    )
    assert approved.status_code == 200, approved.text
