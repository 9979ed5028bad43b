"""Sub-leaders by invitation, over HTTP, on both backends.

A leader invites; nothing changes until the invitee accepts (or declines; the invitation
expires). A sub-leader can leave; an operator sees the links, the invitations and the history,
and can end a link. Two levels at most, no cycles, approved leaders only, not oneself. The
upline's override is owed on the sales paid while the link held, exactly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.communities import auth, count, inbox, make_leader, refused, rows, state
from tests.conftest import Api, run_worker, scalar
from tuangou.core import clock


def _invite(api: Api, who: dict[str, Any], target: dict[str, Any]) -> Any:
    return api.c.post(
        "/api/leader/sub-leaders", json={"leader_id": target["leader_id"]}, headers=auth(who)
    )


def _answer(api: Api, who: dict[str, Any], invitation_id: int, verb: str) -> Any:
    return api.c.post(
        f"/api/leader/sub-leader-invitations/{invitation_id}/{verb}", headers=auth(who)
    )


def _parent(leader: dict[str, Any]) -> Any:
    return scalar("SELECT parent_leader_id FROM leaders WHERE id = :id", id=leader["leader_id"])


def _link(api: Api, parent: dict[str, Any], sub: dict[str, Any]) -> dict[str, Any]:
    r = _invite(api, parent, sub)
    assert r.status_code == 201, r.text
    r = _answer(api, sub, r.json()["id"], "accept")
    assert r.status_code == 200, r.text
    return dict(r.json()["link"])


def test_a_leader_becomes_a_sub_leader_only_by_accepting(api: Api) -> None:
    """The finding: ``POST /api/leader/sub-leaders`` made leader b a sub-leader at once."""
    op = api.operator()
    a, b = make_leader(api, op, "甲团长"), make_leader(api, op, "乙团长")
    run_worker()

    r = _invite(api, a, b)
    assert r.status_code == 201, r.text
    invitation = r.json()
    assert invitation["status"] == "pending"
    assert (invitation["inviter_leader_id"], invitation["invitee_leader_id"]) == (
        a["leader_id"],
        b["leader_id"],
    )
    assert (invitation["inviter_name"], invitation["invitee_name"]) == ("甲*长", "乙*长")
    # Nothing changed for b: no parent, no link, no override owed.
    assert _parent(b) is None
    assert count("sub_leader_links") == 0
    assert api.c.get("/api/leader/me", headers=auth(a)).json()["sub_leaders"] == []
    # Inviting again while it is pending returns the same invitation.
    again = _invite(api, a, b)
    assert again.status_code == 201 and again.json()["id"] == invitation["id"]
    assert count("sub_leader_invitations") == 1

    # b is told, and sees it among the invitations received; a among those sent.
    run_worker()
    told = inbox(api, b)
    assert told[0]["kind"] == "leader.invited" and "甲*长" in told[0]["body"]
    assert "7" in inbox(api, b, "en")[0]["body"]
    mine = api.c.get("/api/leader/sub-leader-invitations", headers=auth(b)).json()
    assert [i["id"] for i in mine["received"]] == [invitation["id"]] and mine["sent"] == []
    theirs = api.c.get("/api/leader/sub-leader-invitations", headers=auth(a)).json()
    assert [i["id"] for i in theirs["sent"]] == [invitation["id"]] and theirs["received"] == []

    # Only the invitee accepts; the inviter cannot accept for them, nor anyone else.
    c = make_leader(api, op, "丙团长")
    before = state()
    refused(_answer(api, a, invitation["id"], "accept"), 404, "invitation_not_found")
    refused(_answer(api, c, invitation["id"], "accept"), 404, "invitation_not_found")
    refused(_answer(api, b, invitation["id"], "cancel"), 404, "invitation_not_found")
    member = api.signup("路人")
    refused(_answer(api, member, invitation["id"], "accept"), 403, "not_a_leader")
    refused(_answer(api, b, invitation["id"] + 100, "accept"), 404, "invitation_not_found")
    assert state() == before

    accepted = _answer(api, b, invitation["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    link = accepted.json()["link"]
    assert accepted.json()["invitation"]["status"] == "accepted"
    assert link["current"] is True and link["invitation_id"] == invitation["id"]
    assert (link["parent_leader_id"], link["leader_id"]) == (a["leader_id"], b["leader_id"])
    assert _parent(b) == a["leader_id"]
    # Accepting again (a retry) is the same link, once.
    twice = _answer(api, b, invitation["id"], "accept")
    assert twice.status_code == 200 and twice.json()["link"]["id"] == link["id"]
    assert count("sub_leader_links") == 1
    assert count("outbox_events", "topic = 'leader.invitation_accepted'") == 1
    # Once accepted, it cannot be declined or cancelled.
    refused(_answer(api, b, invitation["id"], "decline"), 409, "invitation_answered")
    refused(_answer(api, a, invitation["id"], "cancel"), 409, "invitation_answered")
    # Nor can a invite b again.
    refused(_invite(api, a, b), 409, "already_your_sub_leader")

    profile = api.c.get("/api/leader/me", headers=auth(a)).json()
    assert [s["leader_id"] for s in profile["sub_leaders"]] == [b["leader_id"]]
    sub = api.c.get("/api/leader/me", headers=auth(b)).json()
    assert sub["parent"] == {"leader_id": a["leader_id"], "name": "甲*长"}
    run_worker()
    assert inbox(api, a)[0]["kind"] == "leader.invitation_accepted"
    assert "乙*长" in inbox(api, a)[0]["body"]


def test_two_levels_no_cycles_not_oneself_checked_again_on_acceptance(api: Api) -> None:
    op = api.operator()
    a, b, c, d = (make_leader(api, op, n) for n in ("甲团长", "乙团长", "丙团长", "丁团长"))
    # c invites a while a is still free; a invites b, b accepts: a now has a sub-leader.
    c_to_a = _invite(api, c, a).json()
    _link(api, a, b)

    before = state()
    refused(_invite(api, b, c), 409, "third_level_refused")  # b has a parent
    refused(_invite(api, d, b), 409, "third_level_refused")  # b has a parent already
    refused(_invite(api, c, a), 409, "third_level_refused")  # a has a sub-leader
    refused(_invite(api, b, a), 409, "third_level_refused")  # a cycle
    refused(_invite(api, a, a), 409, "cannot_recruit_self")
    refused(
        api.c.post("/api/leader/sub-leaders", json={"leader_id": 999999}, headers=auth(a)),
        404,
        "leader_not_found",
    )
    member = api.signup("路人")
    refused(_invite(api, member, a), 403, "not_a_leader")
    # The invitation c sent a before a took a sub-leader: accepting it now would make three
    # levels, so it is refused on acceptance.
    refused(_answer(api, a, c_to_a["id"], "accept"), 409, "third_level_refused")
    assert state() == before

    _link(api, a, c)  # a root may have several sub-leaders
    profile = api.c.get("/api/leader/me", headers=auth(a)).json()
    assert [s["leader_id"] for s in profile["sub_leaders"]] == [b["leader_id"], c["leader_id"]]
    depth3 = rows(
        "SELECT COUNT(*) FROM leaders x JOIN leaders y ON x.parent_leader_id = y.id"
        " WHERE y.parent_leader_id IS NOT NULL"
    )
    assert depth3 == [(0,)]
    assert count("sub_leader_links", "ended_at IS NULL") == 2


def test_declined_cancelled_and_expired_invitations(api: Api) -> None:
    op = api.operator()
    a, b, c = (make_leader(api, op, n) for n in ("甲团长", "乙团长", "丙团长"))

    to_b = _invite(api, a, b).json()
    declined = _answer(api, b, to_b["id"], "decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    again = _answer(api, b, to_b["id"], "decline")  # a retry changes nothing
    assert again.status_code == 200 and again.json()["decided_at"] == declined.json()["decided_at"]
    refused(_answer(api, b, to_b["id"], "accept"), 409, "invitation_answered")
    assert _parent(b) is None
    run_worker()
    assert inbox(api, a)[0]["kind"] == "leader.invitation_declined"

    to_c = _invite(api, a, c).json()
    cancelled = _answer(api, a, to_c["id"], "cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert _answer(api, a, to_c["id"], "cancel").status_code == 200
    refused(_answer(api, c, to_c["id"], "accept"), 409, "invitation_answered")
    assert _parent(c) is None

    # A new invitation after a declined one; it expires unanswered.
    fresh = _invite(api, a, b).json()
    assert fresh["id"] != to_b["id"] and fresh["status"] == "pending"
    clock.advance(timedelta(days=7, minutes=1))
    before = state()
    refused(_answer(api, b, fresh["id"], "accept"), 409, "invitation_expired")
    refused(_answer(api, b, fresh["id"], "decline"), 409, "invitation_expired")
    assert state() == before
    mine = api.c.get("/api/leader/sub-leader-invitations", headers=auth(b)).json()
    assert [(i["id"], i["status"]) for i in mine["received"]] == [
        (fresh["id"], "expired"),
        (to_b["id"], "declined"),
    ]
    # Inviting again after expiry makes a new invitation, which can be accepted.
    renewed = _invite(api, a, b).json()
    assert renewed["id"] != fresh["id"] and renewed["status"] == "pending"
    assert _answer(api, b, renewed["id"], "accept").status_code == 200
    assert _parent(b) == a["leader_id"]


def test_a_sub_leader_leaves_and_may_recruit_then(api: Api) -> None:
    op = api.operator()
    a, b, c = (make_leader(api, op, n) for n in ("甲团长", "乙团长", "丙团长"))
    refused(api.c.post("/api/leader/upline/leave", headers=auth(b)), 409, "not_a_sub_leader")
    link = _link(api, a, b)
    refused(_invite(api, b, c), 409, "third_level_refused")  # a sub-leader cannot recruit

    left = api.c.post("/api/leader/upline/leave", headers=auth(b))
    assert left.status_code == 200, left.text
    assert left.json()["id"] == link["id"]
    assert left.json()["current"] is False and left.json()["end_reason"] == "left"
    assert left.json()["ended_at"] is not None
    assert _parent(b) is None
    assert api.c.get("/api/leader/me", headers=auth(a)).json()["sub_leaders"] == []
    before = state()
    refused(api.c.post("/api/leader/upline/leave", headers=auth(b)), 409, "not_a_sub_leader")
    assert state() == before
    run_worker()
    assert inbox(api, a)[0]["kind"] == "leader.sub_leader_left"

    # Free again: b recruits c; a may invite b again later (a new link, the old one kept).
    assert _invite(api, b, c).status_code == 201
    assert count("sub_leader_links") == 1
    rejoined = _link(api, a, b)
    assert rejoined["id"] != link["id"]
    assert count("sub_leader_links") == 2 and count("sub_leader_links", "ended_at IS NULL") == 1


def test_the_operator_sees_links_invitations_and_history_and_ends_a_link(api: Api) -> None:
    op = api.operator()
    a, b, c, d = (make_leader(api, op, n) for n in ("甲团长", "乙团长", "丙团长", "丁团长"))
    ab = _link(api, a, b)
    ac = _link(api, a, c)
    pending = _invite(api, a, make_leader(api, op, "己团长")).json()
    e = make_leader(api, op, "戊团长")
    left = _link(api, d, e)
    assert api.c.post("/api/leader/upline/leave", headers=auth(e)).status_code == 200

    current = api.c.get("/api/admin/sub-leader-links", headers=op)
    assert current.status_code == 200, current.text
    assert [k["id"] for k in current.json()] == [ac["id"], ab["id"]]
    assert current.json()[0]["parent_name"] == "甲*长"
    ended = api.c.get("/api/admin/sub-leader-links?state=ended", headers=op).json()
    assert [(k["id"], k["end_reason"]) for k in ended] == [(left["id"], "left")]
    everything = api.c.get("/api/admin/sub-leader-links?state=all", headers=op).json()
    assert len(everything) == 3
    invitations = api.c.get("/api/admin/sub-leader-invitations", headers=op).json()
    assert [i["id"] for i in invitations] == [pending["id"]]
    accepted = api.c.get("/api/admin/sub-leader-invitations?status=accepted", headers=op).json()
    assert len(accepted) == 3

    # Only an operator; a reason is required; an unknown link is not found.
    refused(api.c.get("/api/admin/sub-leader-links", headers=auth(a)), 403, "forbidden")
    before = state()
    refused(
        api.c.post(
            f"/api/admin/sub-leader-links/{ab['id']}/end", json={"reason": "x"}, headers=auth(a)
        ),
        403,
        "forbidden",
    )
    missing = api.c.post(f"/api/admin/sub-leader-links/{ab['id']}/end", json={}, headers=op)
    assert missing.status_code == 422, missing.text
    refused(
        api.c.post("/api/admin/sub-leader-links/999999/end", json={"reason": "x"}, headers=op),
        404,
        "sub_leader_link_not_found",
    )
    assert state() == before

    end = api.c.post(
        f"/api/admin/sub-leader-links/{ab['id']}/end", json={"reason": "被迫加入"}, headers=op
    )
    assert end.status_code == 200, end.text
    assert end.json()["end_reason"] == "ended_by_operator" and end.json()["end_note"] == "被迫加入"
    assert _parent(b) is None
    again = api.c.post(
        f"/api/admin/sub-leader-links/{ab['id']}/end", json={"reason": "再来"}, headers=op
    )
    assert again.status_code == 200 and again.json()["end_note"] == "被迫加入"
    assert count("outbox_events", "topic = 'leader.link_ended'") == 1
    run_worker()
    for who in (a, b):
        assert inbox(api, who)[0]["kind"] == "leader.link_ended"
        assert "被迫加入" in inbox(api, who)[0]["body"]
    current = api.c.get("/api/admin/sub-leader-links", headers=op).json()
    assert [k["id"] for k in current] == [ac["id"]]


def test_a_paused_leader_recruits_nobody(api: Api) -> None:
    """A leader an operator paused publishes nothing, and invites no sub-leader either."""
    op = api.operator()
    a, b = make_leader(api, op, "甲团长"), make_leader(api, op, "乙团长")
    r = api.c.post(
        f"/api/admin/leaders/{a['leader_id']}/pause", json={"reason": "投诉待查"}, headers=auth(op)
    )
    assert r.status_code == 200, r.text
    before = state()
    refused(_invite(api, a, b), 403, "leader_paused")
    assert state() == before
    assert count("sub_leader_invitations") == 0
