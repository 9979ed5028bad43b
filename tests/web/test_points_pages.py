"""The points pages over HTTP, on both backends: 我的 shows the balance and links 我的积分; a
member checks in from 我的积分 (the calendar marks the day, a second check-in is refused),
sees the levels on 会员等级; an operator changes the ladder and the levels and adjusts a
member's points on /ops/points."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Api, audit_violations
from tests.web.pages import alerts, form_of, log_in, log_out, member, post, scalar


def test_a_member_checks_in_and_sees_their_level(api: Api, client: TestClient) -> None:
    phone = api.phone()
    uid = member(client, phone, nickname="小李")
    log_in(client, phone)
    me = client.get("/me")
    assert me.status_code == 200 and 'href="/me/points"' in me.text
    page = client.get("/me/points")
    assert page.status_code == 200
    assert 'id="checkin"' in page.text and 'id="points-balance">0<' in page.text
    reply = post(client, "/me/points/checkin", form_page="/me/points")
    assert reply.status_code == 303, alerts(reply.text)
    page = client.get(reply.headers["location"])
    assert 'id="points-balance">5<' in page.text
    assert 'id="checkin"' not in page.text  # the button is gone for today
    assert len(re.findall(r'<td class="checked', page.text)) == 1
    assert 'role="status"' in page.text
    # A second check-in (an old tab) is refused with the reason, and changes nothing.
    again = post(client, "/me/points/checkin", form_page="/me")
    assert again.status_code == 409 and alerts(again.text)
    assert scalar("SELECT COUNT(*) FROM points_checkins WHERE user_id = :u", u=uid) == 1
    assert "5" in client.get("/me").text
    level = client.get("/me/level")
    assert level.status_code == 200
    for name in ("新邻居", "好邻居", "热心邻居", "社区达人", "社区之星"):
        assert name in level.text
    assert 'role="progressbar"' in level.text
    assert audit_violations() == []


def test_staff_and_strangers_do_not_get_member_points_pages(api: Api, client: TestClient) -> None:
    assert client.get("/me/points", follow_redirects=False).status_code in (302, 303)
    phone = api.phone()
    member(client, phone)
    log_in(client, phone)
    assert client.get("/ops/points", follow_redirects=False).status_code == 403


def test_operator_sets_the_ladder_levels_and_adjusts_a_member(api: Api, client: TestClient) -> None:
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    target_phone = api.phone()
    target = member(client, target_phone, nickname="老张")
    op_phone = api.phone()
    run_in_transaction(
        lambda s: accounts.create_user(
            s, phone=op_phone, password="secret123", nickname="运营", role="operator"
        )
    )
    log_in(client, op_phone)
    assert "/ops/points" in client.get("/ops").text
    page = client.get("/ops/points")
    assert page.status_code == 200 and "points-settings" in page.text
    body = {
        "ladder": "2, 4，8",
        "bargain_help_points": "3",
        "bargain_help_daily_cap": "4",
        "invite_first_order_points": "60",
        "review_points": "12",
        "event_points": "8",
        "expiry_years": "2",
    }
    bad = post(client, "/ops/points/settings", {**body, "ladder": "2, x"}, form_page="/ops/points")
    assert bad.status_code == 400 and alerts(bad.text)
    ok = post(client, "/ops/points/settings", body, form_page="/ops/points")
    assert ok.status_code == 303, alerts(ok.text)
    saved_page = client.get("/ops/points").text
    assert 'value="2, 4, 8"' in saved_page
    assert 'name="review_points" type="number" value="12"' in saved_page

    rows = [("新人", "0", "0", "0", "0"), ("老友", "50", "1", "150", "6")]
    names = ("name", "threshold", "checkin_bonus", "discount_bps", "early_hours")
    levels = {f"{n}_{i}": v for i, row in enumerate(rows) for n, v in zip(names, row, strict=True)}
    refused = post(
        client, "/ops/points/levels", {**levels, "threshold_1": "0"}, form_page="/ops/points"
    )
    assert refused.status_code == 400 and alerts(refused.text)
    saved = post(client, "/ops/points/levels", levels, form_page="/ops/points")
    assert saved.status_code == 303, alerts(saved.text)
    assert 'value="老友"' in client.get("/ops/points").text

    found = client.get(f"/ops/points?member={target}", follow_redirects=False)
    assert found.headers["location"] == f"/ops/points/members/{target}"
    page_path = f"/ops/points/members/{target}"
    assert client.get(page_path).status_code == 200
    assert client.get("/ops/points/members/999999").status_code == 404
    no_note = post(client, f"{page_path}/adjust", {"points": "10", "note": ""}, form_page=page_path)
    assert no_note.status_code == 400
    fields = form_of(client, page_path, "idem", need_key=True)
    done = client.post(
        f"{page_path}/adjust",
        data={**fields, "points": "30", "note": "活动补发"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    # The same form sent twice (a double tap) adjusts once.
    client.post(f"{page_path}/adjust", data={**fields, "points": "30", "note": "活动补发"})
    short = post(
        client, f"{page_path}/adjust", {"points": "-31", "note": "扣回"}, form_page=page_path
    )
    assert short.status_code == 409 and alerts(short.text)
    assert 'id="member-balance">30<' in client.get(page_path).text

    log_out(client)
    log_in(client, target_phone)
    level = client.get("/me/level").text
    assert "老友" in level and "1.50%" in level and "6" in level
    assert audit_violations() == []
