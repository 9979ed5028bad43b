"""The bargain's pages over HTTP, on both backends: an operator sets up a campaign on
/ops/bargains, a member starts a bargain from its page and finds it under 我的, a friend
opens the share link, logs in and cuts, and the starter buys at the price reached."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.bargains.helpers import sku
from tests.conftest import Api
from tests.web.pages import alerts, form_of, log_in, post, scalar
from tuangou.bargains import rules
from tuangou.core import clock

FORM_TIME = "%Y-%m-%dT%H:%M"


def _member(api: Api, client: TestClient, nickname: str) -> str:
    phone = api.phone()
    body = {
        "phone": phone,
        "password": "secret123",
        "nickname": nickname,
        "address": {"name": nickname, "phone": phone, "line": "幸福里 1 号"},
    }
    assert client.post("/api/auth/signup", json=body).status_code == 201
    return phone


def test_from_the_operators_form_to_a_bought_bargain(api: Api, client: TestClient) -> None:
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    op = api.operator()
    sid, _ = api.supplier(op)
    sku_id = sku(api, op, sid)
    op_phone = api.phone()
    run_in_transaction(
        lambda s: accounts.create_user(
            s, phone=op_phone, password="secret123", nickname="运营", role="operator"
        )
    )
    log_in(client, op_phone)
    assert "/ops/bargains" in client.get("/ops").text
    page = client.get("/ops/bargains")
    assert page.status_code == 200 and "new-bargain-campaign" in page.text
    ends = (clock.to_local(clock.now()) + timedelta(days=2)).strftime(FORM_TIME)
    fields = {
        "sku_id": str(sku_id),
        "title": "铁锅砍价",
        "start_price": "30",
        "floor_price": "10.00",
        "helpers_needed": "2",
        "stock": "5",
        "hours": "24",
        "helps_per_member": "1",
        "starts_per_member": "1",
        "new_member_bonus": "0",
        "ends_at": ends,
        "buy_at_any_price": "on",
    }
    # A floor above the start is refused next to its field, and nothing is created.
    bad = post(client, "/ops/bargains", {**fields, "floor_price": "40"}, form_page="/ops/bargains")
    assert bad.status_code == 400 and alerts(bad.text)
    assert scalar("SELECT COUNT(*) FROM bargain_campaigns") == 0
    made = post(client, "/ops/bargains", fields, form_page="/ops/bargains")
    assert made.status_code == 303 and "done=saved" in made.headers["location"]
    campaign_id = scalar("SELECT id FROM bargain_campaigns")
    assert "铁锅砍价" in client.get("/ops/bargains?done=saved").text

    # A member starts a bargain from the campaign's page.
    client.cookies.clear()
    starter = _member(api, client, "小美")
    log_in(client, starter)
    assert f"/bargains/{campaign_id}" in client.get("/bargains").text
    started = post(client, f"/bargains/{campaign_id}/start", form_page=f"/bargains/{campaign_id}")
    assert started.status_code == 303, alerts(started.text)
    bargain_id = scalar("SELECT id FROM bargains")
    share = scalar("SELECT share_token FROM bargains")
    mine = client.get("/me/bargains").text
    assert f"/b/{bargain_id}" in mine and "/me/bargains" in client.get("/me").text
    own = client.get(f"/b/{bargain_id}").text
    assert f"share={share}" in own and "<svg" in own  # the link and its QR code

    # A friend opens the link without an account, logs in and cuts.
    client.cookies.clear()
    link = f"/b/{bargain_id}?share={share}"
    seen = client.get(link)
    assert seen.status_code == 200 and "/login?next=" in seen.text
    assert client.get(f"/b/{bargain_id}").status_code == 404
    friend = _member(api, client, "阿强")
    log_in(client, friend)
    cut = post(client, f"/b/{bargain_id}/help", {"share": share}, form_page=link)
    assert cut.status_code == 303, alerts(cut.text)
    first = rules.schedule(2000, 2)[0]
    after = client.get(cut.headers["location"]).text
    assert "阿*" in after or "*强" in after
    assert scalar("SELECT price FROM bargains") == 3000 - first
    # The risk engine judged the cut with the browser's long-lived device id.
    device = client.cookies.get("tg_device")
    assert device and scalar("SELECT device FROM risk_events WHERE type = 'help'") == device
    assert "/help" not in client.get(link).text  # no second cut offered
    again = post(
        client, f"/b/{bargain_id}/help", {"share": share}, form_page=f"/bargains/{campaign_id}"
    )
    assert again.status_code == 409 and alerts(again.text)

    # The starter buys at the price reached, on the pay page.
    client.cookies.clear()
    log_in(client, starter)
    body = form_of(client, f"/b/{bargain_id}", "key", need_key=True)
    bought = client.post(f"/b/{bargain_id}/order", data=body, follow_redirects=False)
    assert bought.status_code == 303 and bought.headers["location"].startswith("/pay/")
    assert scalar("SELECT amount FROM orders WHERE kind = 'bargain'") == 3000 - first
    assert "/orders/" in client.get(f"/b/{bargain_id}").text
