"""The tasks and badges pages over HTTP, on both backends: 我的 and 我的积分 link 任务与徽章,
which shows this week's tasks with progress bars, the achievements and the badges; an
operator adds and switches off a weekly task on /ops/achievements."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Api
from tests.web.pages import alerts, log_in, member, post, scalar


def test_a_member_sees_tasks_progress_and_badges(api: Api, client: TestClient) -> None:
    phone = api.phone()
    member(client, phone, nickname="小李")
    me = client.get("/me")
    assert me.status_code == 200 and 'href="/me/achievements"' in me.text
    assert 'href="/me/achievements"' in client.get("/me/points").text
    reply = post(client, "/me/points/checkin", form_page="/me/points")
    assert reply.status_code == 303, alerts(reply.text)
    page = client.get("/me/achievements")
    assert page.status_code == 200
    bars = re.findall(r'role="progressbar"[^>]*aria-valuenow="(\d+)"', page.text)
    assert bars[:3] == ["1", "0", "0"]  # check-ins, reviews, invites this week
    assert 'class="achievement locked"' in page.text
    assert "签到 3 天" in page.text  # the page speaks Chinese by default


def test_strangers_and_members_do_not_get_the_operators_tasks(api: Api, client: TestClient) -> None:
    assert client.get("/me/achievements", follow_redirects=False).status_code in (302, 303)
    member(client, api.phone())
    assert client.get("/ops/achievements", follow_redirects=False).status_code == 403


def test_an_operator_adds_and_switches_off_a_task(api: Api, client: TestClient) -> None:
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    phone = api.phone()
    run_in_transaction(
        lambda s: accounts.create_user(
            s, phone=phone, password="secret123", nickname="运营", role="operator"
        )
    )
    log_in(client, phone)
    assert "/ops/achievements" in client.get("/ops").text
    page = client.get("/ops/achievements")
    assert page.status_code == 200 and 'id="new-task"' in page.text
    body = {
        "action": "event_attended",
        "count": "2",
        "points": "30",
        "badge": "regular",
        "active": "1",
    }
    bad = post(
        client, "/ops/achievements/tasks", {**body, "count": "0"}, form_page="/ops/achievements"
    )
    assert bad.status_code == 400 and alerts(bad.text)
    assert scalar("SELECT COUNT(*) FROM weekly_tasks WHERE action = 'event_attended'") == 0
    ok = post(client, "/ops/achievements/tasks", body, form_page="/ops/achievements")
    assert ok.status_code == 303, alerts(ok.text)
    task = scalar("SELECT id FROM weekly_tasks WHERE action = 'event_attended'")
    assert 'role="status"' in client.get(ok.headers["location"]).text
    off = post(
        client,
        f"/ops/achievements/tasks/{task}",
        {**body, "active": ""},
        form_page="/ops/achievements",
    )
    assert off.status_code == 303, alerts(off.text)
    assert scalar("SELECT active FROM weekly_tasks WHERE id = :t", t=task) in (False, 0)
