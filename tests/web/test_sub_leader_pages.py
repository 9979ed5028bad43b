"""Sub-leader invitations on the pages, on both backends, on the demo's data: the invitee
accepts or declines on their communities page, the inviter cancels or invites, a sub-leader
leaves (the page says what it means), and the operator sees the links and ends one."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.web.pages import alerts, csrf, rows, scalar
from tests.web.pages import demo_log_in as log_in
from tuangou import demo

LEADER, SUB_LEADER, THIRD_LEADER = (phone for phone, *_ in demo.LEADERS)


@pytest.fixture
def web(client: TestClient) -> TestClient:
    """The demo's data on this backend, and a client for its pages."""
    assert demo.load()["loaded"] is True
    return client


def leader_id(phone: str) -> int:
    return int(
        scalar(
            "SELECT l.id FROM leaders l JOIN users u ON u.id = l.user_id WHERE u.phone = :p",
            p=phone,
        )
    )


def parent_of(phone: str) -> int | None:
    value = scalar("SELECT parent_leader_id FROM leaders WHERE id = :id", id=leader_id(phone))
    return None if value is None else int(value)


def pending_invitation() -> int:
    ((invitation_id,),) = rows("SELECT id FROM sub_leader_invitations WHERE status = 'pending'")
    return int(invitation_id)


def send(client: TestClient, path: str, **data: str) -> tuple[int, str]:
    """POST a form of the communities page; (status, the page shown after it)."""
    token = csrf(client, "/leader/communities")
    reply = client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
    if reply.status_code == 303:
        return 303, client.get(reply.headers["location"]).text
    return reply.status_code, reply.text


def test_the_invitee_sees_what_accepting_means_accepts_and_leaves(web: TestClient) -> None:
    invitation = pending_invitation()
    log_in(web, THIRD_LEADER)
    page = web.get("/leader/communities").text
    assert "你收到的邀请" in page and "获得下级团长奖励" in page
    assert f"/leader/sub-leader-invitations/{invitation}/accept" in page
    assert f"/leader/sub-leader-invitations/{invitation}/decline" in page
    assert parent_of(THIRD_LEADER) is None  # the demo's invitation changed nothing yet

    status, page = send(web, f"/leader/sub-leader-invitations/{invitation}/accept")
    assert status == 303 and "你已成为对方的下级团长" in page
    assert parent_of(THIRD_LEADER) == leader_id(LEADER)
    # The page now says what leaving means, next to the button.
    assert "退出后" in page and 'action="/leader/upline/leave"' in page
    assert 'action="/leader/sub-leaders"' not in page  # a sub-leader cannot invite

    status, page = send(web, "/leader/upline/leave")
    assert status == 303 and "你已退出上级团长" in page
    assert parent_of(THIRD_LEADER) is None
    assert rows(
        "SELECT end_reason FROM sub_leader_links WHERE leader_id = :id", id=leader_id(THIRD_LEADER)
    ) == [("left",)]
    # Leaving again is refused with a message, and changes nothing.
    status, page = send(web, "/leader/upline/leave")
    assert status == 303 and "你不是任何团长的下级团长" in page


def test_the_invitee_declines_and_others_cannot_answer(web: TestClient) -> None:
    invitation = pending_invitation()
    log_in(web, SUB_LEADER)  # not the invitee
    reply = web.post(
        f"/leader/sub-leader-invitations/{invitation}/accept",
        data={"csrf_token": csrf(web, "/leader/communities")},
    )
    assert reply.status_code == 404
    log_in(web, THIRD_LEADER)
    status, page = send(web, f"/leader/sub-leader-invitations/{invitation}/decline")
    assert status == 303 and "已拒绝邀请" in page
    assert scalar("SELECT status FROM sub_leader_invitations WHERE id = :id", id=invitation) == (
        "declined"
    )
    assert parent_of(THIRD_LEADER) is None


def test_the_inviter_cancels_and_invites_with_field_errors(web: TestClient) -> None:
    invitation = pending_invitation()
    log_in(web, LEADER)
    page = web.get("/leader/communities").text
    assert "你发出的邀请" in page
    assert f"/leader/sub-leader-invitations/{invitation}/cancel" in page
    status, page = send(web, f"/leader/sub-leader-invitations/{invitation}/cancel")
    assert status == 303 and "邀请已撤回" in page

    before = rows("SELECT id, status FROM sub_leader_invitations ORDER BY id")
    status, page = send(web, "/leader/sub-leaders", leader_id="abc")
    assert status == 400 and alerts(page)
    status, page = send(web, "/leader/sub-leaders", leader_id=str(leader_id(LEADER)))
    assert status == 409 and "团长不能成为自己的下级团长" in page
    assert 'value="' + str(leader_id(LEADER)) + '"' in page  # what was typed stays
    status, page = send(web, "/leader/sub-leaders", leader_id=str(leader_id(SUB_LEADER)))
    assert status == 409 and "该团长已经是你的下级团长" in page
    assert rows("SELECT id, status FROM sub_leader_invitations ORDER BY id") == before

    status, page = send(web, "/leader/sub-leaders", leader_id=str(leader_id(THIRD_LEADER)))
    assert status == 303 and "邀请已发出" in page
    assert parent_of(THIRD_LEADER) is None


def test_the_operator_sees_links_and_invitations_and_ends_a_link(web: TestClient) -> None:
    log_in(web, demo.OPERATOR_PHONE)
    page = web.get("/ops/leaders")
    assert page.status_code == 200
    assert "当前关系" in page.text and "待答复的邀请" in page.text
    ((link_id,),) = rows("SELECT id FROM sub_leader_links WHERE ended_at IS NULL")
    assert f"/ops/sub-leader-links/{link_id}/end" in page.text
    assert 'href="/ops/leaders"' in page.text  # in the console's sections
    token = csrf(web, "/ops/leaders")

    empty = web.post(f"/ops/sub-leader-links/{link_id}/end", data={"csrf_token": token})
    assert empty.status_code == 400 and alerts(empty.text)
    assert parent_of(SUB_LEADER) == leader_id(LEADER)

    done = web.post(
        f"/ops/sub-leader-links/{link_id}/end",
        data={"csrf_token": token, "reason": "未经同意"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert parent_of(SUB_LEADER) is None
    history = web.get("/ops/leaders").text
    assert "平台解除" in history and "未经同意" in history
    # A leader may not open the operator's page.
    log_in(web, LEADER)
    assert web.get("/ops/leaders").status_code == 403
