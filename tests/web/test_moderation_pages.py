"""Group rules (群规) and moderation on the pages, on both backends, on the demo's data: the
rules on joining with the box to tick, the banner after a new version, the leader's rules
editor, queue, mutes and log, the report button, and the operator's queue and log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.moderation.conftest import Notes
from tests.web.pages import csrf, rows, scalar
from tests.web.pages import demo_log_in as log_in
from tuangou import demo
from tuangou.moderation import service as moderation

LEADER = demo.LEADERS[0][0]
AUNT, UNCLE = demo.MEMBERS[0][0], demo.MEMBERS[1][0]  # in the first leader's community
STRANGER = demo.NEIGHBOURS[5][0]  # in the third leader's community only


@pytest.fixture
def web(client: TestClient) -> TestClient:
    assert demo.load()["loaded"] is True
    return client


@pytest.fixture
def notes() -> Iterator[Notes]:
    kind = Notes()
    moderation.register_target(
        "note", moderation.TargetHooks(kind.locate, kind.set_hidden, kind.leader_of)
    )
    yield kind
    moderation.unregister_target("note")


def first_community() -> tuple[int, str]:
    ((cid, code),) = rows(
        "SELECT c.id, c.invite_code FROM communities c JOIN leaders l ON l.id = c.leader_id"
        " JOIN users u ON u.id = l.user_id WHERE u.phone = :p",
        p=LEADER,
    )
    return int(cid), str(code)


def user_id(phone: str) -> int:
    return int(scalar("SELECT id FROM users WHERE phone = :p", p=phone))


def send(client: TestClient, path: str, page: str, **data: str) -> tuple[int, str]:
    """POST a form of ``page``; (status, the page shown after it)."""
    token = csrf(client, page)
    reply = client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
    if reply.status_code == 303:
        return 303, client.get(reply.headers["location"]).text
    return reply.status_code, reply.text


def joining_shows_the_rules_and_needs_the_box_ticked(web: TestClient) -> None:
    cid, code = first_community()
    log_in(web, STRANGER)
    page = web.get(f"/join/{code}").text
    assert "文明交流, 不发与小区无关的链接" in page  # version 2, the demo's
    assert 'name="accept_rules"' in page and 'name="rules_version" value="2"' in page
    me = user_id(STRANGER)

    status, page = send(web, f"/join/{code}", f"/join/{code}", rules_version="2")
    assert status == 400 and 'aria-invalid="true"' in page
    assert (
        rows(
            "SELECT 1 FROM community_members WHERE community_id = :c AND user_id = :u", c=cid, u=me
        )
        == []
    )
    # Rules changed since the page was read: shown again, nothing joined.
    status, page = send(web, f"/join/{code}", f"/join/{code}", rules_version="1", accept_rules="1")
    assert status == 403 and 'aria-invalid="true"' in page
    assert (
        rows(
            "SELECT 1 FROM community_members WHERE community_id = :c AND user_id = :u", c=cid, u=me
        )
        == []
    )

    status, _ = send(web, f"/join/{code}", f"/join/{code}", rules_version="2", accept_rules="1")
    assert status == 303
    assert rows(
        "SELECT version FROM community_rules_acceptances WHERE community_id = :c AND user_id = :u",
        c=cid,
        u=me,
    ) == [(2,)]


def test_joining_accepts_the_rules_and_a_new_version_asks_again(web: TestClient) -> None:
    joining_shows_the_rules_and_needs_the_box_ticked(web)
    cid, _ = first_community()
    log_in(web, LEADER)
    editor = f"/leader/communities/{cid}/rules"
    page = web.get(editor).text
    assert page.count('class="small rules-text"') == 2  # versions 2 and 1
    status, page = send(web, editor, editor, text="   ")
    assert status == 400
    assert scalar("SELECT rules_version FROM communities WHERE id = :c", c=cid) == 2
    status, page = send(web, editor, editor, text="新群规: 只发团购, 不发广告")
    assert status == 303 and page.count('class="small rules-text"') == 3
    assert scalar("SELECT rules_version FROM communities WHERE id = :c", c=cid) == 3

    log_in(web, AUNT)
    page = web.get("/communities").text
    assert "rules-banner" in page and "新群规: 只发团购, 不发广告" in page
    assert f'action="/communities/{cid}/rules/accept"' in page
    status, page = send(
        web, f"/communities/{cid}/rules/accept", "/communities", version="3", accept="1"
    )
    assert status == 303 and "rules-banner" not in page
    # A stale version from an old page is refused and records nothing.
    log_in(web, UNCLE)
    status, _ = send(
        web, f"/communities/{cid}/rules/accept", "/communities", version="2", accept="1"
    )
    assert status == 409
    assert (
        rows(
            "SELECT version FROM community_rules_acceptances WHERE user_id = :u AND version = 3",
            u=user_id(UNCLE),
        )
        == []
    )


def test_report_queue_hide_mute_and_the_logs(web: TestClient, notes: Notes) -> None:
    cid, _ = first_community()
    author = user_id(AUNT)
    note = notes.add(cid, author, "出闲置, 加我私聊")

    # A member reports it with the partial's form; reporting again says why not.
    log_in(web, UNCLE)
    form = {
        "kind": "note",
        "id": str(note),
        "reason": "spam",
        "note": "广告",
        "next": "/communities",
    }
    status, page = send(web, "/report", "/me", **form)
    assert status == 200 and 'href="/communities"' in page
    status, _ = send(web, "/report", "/me", **form)
    assert status == 409
    status, _ = send(web, "/report", "/me", **{**form, "next": "https://evil.example/"})
    assert status == 409

    # The leader's queue shows it; hiding needs a reason, and the author is muted for an hour.
    log_in(web, LEADER)
    page = web.get("/leader/moderation").text
    assert "出闲置, 加我私聊" in page and f"/leader/moderation/note/{note}/hide" in page
    status, _ = send(web, f"/leader/moderation/note/{note}/hide", "/leader/communities", reason="")
    assert status == 303 and notes.items[note].hidden is False
    status, page = send(
        web, f"/leader/moderation/note/{note}/hide", "/leader/communities", reason="私下交易"
    )
    assert status == 303 and notes.items[note].hidden is True
    assert "出闲置, 加我私聊" not in page
    status, page = send(
        web,
        "/leader/moderation/mute",
        "/leader/communities",
        community_id=str(cid),
        user_id=str(author),
        period="1h",
        reason="刷屏",
    )
    assert status == 303 and "刷屏" in page
    log = web.get("/leader/moderation/log").text
    assert "私下交易" in log and "连续发了 5 条与团购无关的广告" in log  # the demo's mute too

    log_in(web, AUNT)
    assert "muted-banner" in web.get("/communities").text

    log_in(web, LEADER)
    status, page = send(
        web,
        "/leader/moderation/unmute",
        "/leader/communities",
        community_id=str(cid),
        user_id=str(author),
    )
    assert status == 303
    log_in(web, AUNT)
    assert "muted-banner" not in web.get("/communities").text

    # The operator's log, filtered by action; a member is not let in.
    log_in(web, demo.OPERATOR_PHONE)
    page = web.get("/ops/moderation", params={"action": "hide"}).text
    assert "私下交易" in page and "刷屏" not in page
    page = web.get("/ops/moderation", params={"community_id": str(cid)}).text
    assert "私下交易" in page and "刷屏" in page
    log_in(web, UNCLE)
    assert web.get("/ops/moderation", follow_redirects=False).status_code in (303, 403)
    assert web.get("/leader/moderation").status_code == 403
