"""The operator console's pages through the HTTP app, on both backends."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api
from tests.pools.support import Item, seed_leader, seed_sku, seed_wave
from tests.web import pages
from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core.db import read, run_in_transaction
from tuangou.orders import service as orders

PASSWORD = "secret123"


def csrf(page: str) -> str:
    found = pages.hidden(page, "csrf_token")
    assert found, "no CSRF token on the page"
    return found


def log_in(client: TestClient, phone: str) -> None:
    """Log in through the log-in page."""
    pages.log_in(client, phone, PASSWORD)


def make_user(phone: str, role: str = "member", nickname: str = "用户") -> int:
    return run_in_transaction(
        lambda s: (
            accounts.create_user(s, phone=phone, password=PASSWORD, nickname=nickname, role=role).id
        )
    )


@pytest.fixture
def operator(client: TestClient) -> dict[str, Any]:
    user_id = make_user("13900000009", "operator", "运营")
    log_in(client, "13900000009")
    return {"user_id": user_id, "csrf": csrf(client.get("/ops/suppliers").text)}


def test_a_visitor_goes_to_log_in_and_a_member_is_refused(client: TestClient) -> None:
    r = client.get("/ops/orders", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    make_user("13700000001")
    log_in(client, "13700000001")
    for path in ("/ops", "/ops/applications", "/ops/campaigns", "/ops/orders"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert 'role="alert"' in r.text
    r = client.post("/ops/suppliers", data={"csrf_token": "x", "name": "果园"})
    assert r.status_code == 403
    assert read(catalog.list_suppliers) == []


def test_every_page_renders_for_an_operator(
    client: TestClient, api: Api, operator: dict[str, Any]
) -> None:
    _, sku = seed_sku()
    leader = seed_leader(operator["user_id"])
    wave, _, _ = seed_wave(leader, [Item(sku)])
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid)
    a, b = api.signup("甲"), api.signup("乙")
    team = api.open(a, c["id"])["team"]["id"]
    joined = api.join(b, team)
    order_id = joined["order"]["id"]
    pages = {
        "/ops": "待办",
        "/ops/applications": "团长申请",
        "/ops/suppliers": "果园",
        "/ops/products": "苹果",
        "/ops/campaigns": "¥19.90",
        "/ops/orders": f"/ops/orders/{order_id}",
        "/ops/orders?status=confirmed&kind=team": f"/ops/orders/{order_id}",
        f"/ops/orders/{order_id}": "pay:",
        "/ops/waves": f"/ops/waves/{wave}/purchase-order",
        f"/ops/waves/{wave}/purchase-order": "采购单",
        "/ops/withdrawals": "没有待审核的提现",
        "/ops/aftersales": "没有待处理的售后",
    }
    for path, text in pages.items():
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        assert text in r.text, path
        assert 'class="operator"' in r.text and 'class="tabbar"' not in r.text
    dash = client.get("/ops").text
    # the charts are inline SVG: no chart library, no script of the page's own, no CDN
    # (a random CSRF token may spell "cdn", so look for off-site addresses instead)
    assert dash.count("<script") == 1 and "plotly" not in dash
    assert not re.search(r'(src|href)="(https?:)?//', dash)
    assert 'data-chart="gmv"><svg' in dash and 'data-chart="rates"><svg' in dash
    assert "最近 30 天" in dash and "¥39.80" in dash  # two members paid 19.90
    r = client.get(f"/ops/waves/{wave}/purchase-order.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert client.get("/ops/orders?status=refunded").text.count("/ops/orders/") == 0


def test_approve_and_reject_leader_applications(
    client: TestClient, operator: dict[str, Any]
) -> None:
    def apply(phone: str) -> int:
        uid = make_user(phone, nickname=phone[-2:])
        point = communities.PickupPointInput(
            name="驿站", address="幸福路 9 号", latitude=30.1, longitude=120.1
        )
        return run_in_transaction(lambda s: communities.apply(s, uid, point).id)

    first, second = apply("13700000011"), apply("13700000012")
    page = client.get("/ops/applications").text
    assert f"application-{first}" in page and "已等" in page
    r = client.post(
        f"/ops/applications/{first}/approve",
        data={"csrf_token": operator["csrf"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = client.post(
        f"/ops/applications/{second}/reject",
        data={"csrf_token": operator["csrf"], "reason": " "},
    )
    assert r.status_code == 400 and 'id="e-reason-' in r.text and "请填写" in r.text
    r = client.post(
        f"/ops/applications/{second}/reject",
        data={"csrf_token": operator["csrf"], "reason": "地址不清楚"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    # deciding twice is refused on the page, not with a stack trace
    r = client.post(f"/ops/applications/{first}/approve", data={"csrf_token": operator["csrf"]})
    assert r.status_code == 409 and 'role="alert"' in r.text

    def state(s: Any) -> tuple[str, str, bool]:
        a, b = communities.get_application(s, first), communities.get_application(s, second)
        return a.status, b.status, communities.find_leader_by_user(s, a.user_id) is not None

    assert read(state) == ("approved", "rejected", True)


def test_catalogue_forms_show_field_errors_and_keep_what_was_typed(
    client: TestClient, operator: dict[str, Any]
) -> None:
    token = operator["csrf"]
    r = client.post("/ops/suppliers", data={"csrf_token": token, "name": "", "contact": "王"})
    assert r.status_code == 400 and 'id="e-name"' in r.text and 'value="王"' in r.text
    r = client.post(
        "/ops/suppliers", data={"csrf_token": token, "name": "果园"}, follow_redirects=False
    )
    assert r.status_code == 303
    supplier = re.search(r"<td>(\d+)</td><td>果园</td>", client.get("/ops/suppliers").text)
    assert supplier
    r = client.post(
        "/ops/products",
        data={"csrf_token": token, "supplier_id": supplier.group(1), "title": "", "image_url": "x"},
    )
    assert r.status_code == 400 and 'id="e-title"' in r.text and 'id="e-image_url"' in r.text
    r = client.post(
        "/ops/products",
        data={"csrf_token": token, "supplier_id": supplier.group(1), "title": "脐橙"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    product = re.search(r'id="product-(\d+)"', client.get("/ops/products").text)
    assert product
    r = client.post(
        f"/ops/products/{product.group(1)}/skus",
        data={"csrf_token": token, "sku_name": "5斤", "price": "12.345", "stock": "-1"},
    )
    assert r.status_code == 400
    assert f'id="e-sku-{product.group(1)}-price"' in r.text
    assert f'id="e-sku-{product.group(1)}-stock"' in r.text and 'value="5斤"' in r.text
    r = client.post(
        f"/ops/products/{product.group(1)}/skus",
        data={"csrf_token": token, "sku_name": "5斤", "price": "29.90", "stock": "50"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/ops/campaigns").text
    sku = re.search(r'<option value="(\d+)" >脐橙 5斤 · ¥29.90', page)
    assert sku, page
    form = {
        "csrf_token": token,
        "sku_id": sku.group(1),
        "tiers": "2:19.90, 5:21.90",  # not cheaper as members grow
        "stock": "10",
        "min_size": "2",
        "max_size": "5",
        "per_member_limit": "2",
        "window_hours": "80",
        "opener_perk": "none",
        "starts_at": "2030-01-01T08:00",
        "ends_at": "2030-01-08T08:00",
    }
    r = client.post("/ops/campaigns", data=form)
    assert r.status_code == 400 and 'id="e-window_hours"' in r.text
    assert 'value="2:19.90, 5:21.90"' in r.text
    form["window_hours"] = "24"
    r = client.post("/ops/campaigns", data=form)
    assert r.status_code == 400 and 'id="e-tiers"' in r.text  # refused by the campaign rules
    form["tiers"] = "2:19.90, 5:17.90"
    form["new_member_only"] = "on"
    r = client.post("/ops/campaigns", data=form, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/ops/campaigns").text
    assert "仅限新人" in page and "¥17.90" in page and "2030-01-01 08:00" in page
    campaign = re.search(r'id="campaign-(\d+)"', page)
    assert campaign
    r = client.post(
        f"/ops/campaigns/{campaign.group(1)}/status",
        data={"csrf_token": token, "status": "paused"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "已暂停" in client.get("/ops/campaigns").text


def test_a_manual_refund_submitted_twice_refunds_once(
    client: TestClient, api: Api, operator: dict[str, Any]
) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid)
    a, b = api.signup("甲"), api.signup("乙")
    team = api.open(a, c["id"])["team"]["id"]
    order_id = api.join(b, team)["order"]["id"]
    page = client.get(f"/ops/orders/{order_id}").text
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key
    token = operator["csrf"]
    bad = {
        "csrf_token": token,
        "key": key.group(1),
        "scope": "part",
        "amount": "abc",
        "note": "",
        "confirm": "yes",
    }
    r = client.post(f"/ops/orders/{order_id}/refund", data=bad)
    assert r.status_code == 400 and 'id="e-amount"' in r.text and 'id="e-note"' in r.text
    too_much = dict(bad, amount="50.00", note="坏果")
    r = client.post(f"/ops/orders/{order_id}/refund", data=too_much)
    assert r.status_code == 409 and 'id="e-amount"' in r.text
    assert read(lambda s: orders.refunds_of(s, order_id)) == []
    fresh = re.search(r'name="key" value="([^"]+)"', r.text)
    assert fresh and fresh.group(1) != key.group(1)
    good = dict(too_much, key=fresh.group(1), amount="5.00")
    for _ in range(2):
        r = client.post(f"/ops/orders/{order_id}/refund", data=good, follow_redirects=False)
        assert r.status_code == 303
    manual = [x for x in read(lambda s: orders.refunds_of(s, order_id)) if x.reason == "manual"]
    assert [(x.amount, x.note) for x in manual] == [(500, "坏果")]
    assert "¥5.00" in client.get(f"/ops/orders/{order_id}").text


def test_an_ended_campaign_shows_what_went_back_and_cannot_be_resumed(
    client: TestClient, api: Api, operator: dict[str, Any]
) -> None:
    from datetime import timedelta

    from tests.conftest import run_worker
    from tuangou.core import clock

    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, stock=12)
    clock.advance(timedelta(days=2, minutes=1))  # past its end, nothing in play
    run_worker()
    page = client.get("/ops/campaigns").text
    row = page[page.index(f'id="campaign-{c["id"]}"') :].split("</tr>")[0]
    assert "已结束" in row and "未售出的 12 件已退回 SKU 库存" in row
    assert "/status" not in row  # no pause or resume button
    r = client.post(
        f"/ops/campaigns/{c['id']}/status",
        data={"csrf_token": operator["csrf"], "status": "active"},
        follow_redirects=False,
    )
    assert r.status_code == 409 and "活动已结束" in r.text
    assert api.c.get(f"/api/campaigns/{c['id']}").json()["status"] == "ended"


def test_the_operator_sees_a_campaigns_subsidy_and_shoppers_do_not(
    client: TestClient, api: Api, operator: dict[str, Any]
) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, completion_enabled=True, completion_percent=60, subsidy_budget=12345)
    page = client.get("/ops/campaigns").text
    assert "补贴已用 ¥0.00 / 预算 ¥123.45" in page
    assert "付款达 60% 时由平台补齐" in page
    shopper = client.get(f"/c/{c['id']}").text
    assert "123.45" not in shopper and "补贴已用" not in shopper
