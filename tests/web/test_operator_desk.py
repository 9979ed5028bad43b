"""The operator's desk: readable charts, money with separators, refunds that are confirmed and
said to the member, a message after every action, and an order list that names who, what and
where (on both backends)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, run_worker
from tests.pools.support import (
    Item,
    seed_leader,
    seed_members,
    seed_paid_order,
    seed_sku,
    seed_wave,
)
from tests.web import pages
from tests.web.test_operator_pages import csrf, log_in, make_user
from tuangou.accounts import service as accounts
from tuangou.core import money
from tuangou.core.db import read
from tuangou.notifications import service as notifications
from tuangou.orders import service as orders
from tuangou.web.pages.operator import charts


@pytest.fixture
def operator(client: TestClient) -> dict[str, Any]:
    user_id = make_user("13900000009", "operator", "运营")
    log_in(client, "13900000009")
    return {"user_id": user_id, "csrf": csrf(client.get("/ops/suppliers").text)}


def days(n: int) -> list[date]:
    return [date(2026, 11, 8) + timedelta(days=i) for i in range(n)]


def test_day_ticks_are_spaced_and_named_in_the_language() -> None:
    month = days(30)
    zh, en = charts.day_ticks(month, "zh-CN"), charts.day_ticks(month, "en")
    assert [i for i, _ in zh] == [1, 8, 15, 22, 29]  # a week apart, ending on the last day
    assert [t for _, t in zh] == ["11月9日", "11月16日", "11月23日", "11月30日", "12月7日"]
    assert [t for _, t in en] == ["Nov 9", "Nov 16", "Nov 23", "Nov 30", "Dec 7"]
    assert [i for i, _ in charts.day_ticks(days(7), "en")] == list(range(7))
    assert len(charts.day_ticks(days(90), "en")) <= charts.MAX_DAY_LABELS
    # labels drawn a step apart never meet, however many days
    for n in (1, 7, 8, 14, 30, 60, 90):
        step = charts.tick_step(n)
        label = max(charts.text_width(t) for _, t in charts.day_ticks(days(n), "zh-CN"))
        assert (charts.WIDTH - 120) / n * step > label + 4, n


def test_money_has_thousands_separators() -> None:
    assert money.fmt(123456789) == "¥1,234,567.89"
    assert money.fmt(-100000) == "-¥1,000.00"
    assert money.fmt(99999) == "¥999.99" and money.fmt(5) == "¥0.05"
    assert charts.money_tick(1200000) == "¥12,000" and charts.money_tick(150) == "¥1.50"
    svg = charts.money_bars(days(3), [0, 123456, -500], lang="en", label="GMV", colour="red")
    assert "¥1,234.56" in svg and "-¥5.00" in svg and "Nov 9" in svg


def product_of(sku_id: int) -> int:
    from tuangou.catalog import service as catalog

    return read(lambda s: catalog.get_sku(s, sku_id).product_id)


def team_order(api: Api, *, confirmed: bool = True) -> tuple[int, dict[str, Any]]:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid)
    a, b = api.signup("甲"), api.signup("乙")
    team = api.open(a, c["id"])["team"]["id"]
    return api.join(b, team)["order"]["id"], b


def test_the_dashboard_has_light_charts_with_day_ticks_in_both_languages(
    client: TestClient, api: Api, operator: dict[str, Any]
) -> None:
    team_order(api)
    zh = client.get("/ops")
    assert zh.status_code == 200 and len(zh.content) < 60_000
    assert "plotly" not in zh.text and zh.text.count("<script") == 1  # the app's own only
    ticks = re.findall(r'<text data-tick="[^"]+"[^>]*>([^<]+)</text>', zh.text)
    assert 4 <= len(ticks) <= charts.MAX_DAY_LABELS * 2  # two charts over days
    assert all(re.fullmatch(r"\d{1,2}月\d{1,2}日", t) for t in ticks), ticks
    client.cookies.set("lang", "en")
    en = client.get("/ops").text
    ticks = re.findall(r'<text data-tick="[^"]+"[^>]*>([^<]+)</text>', en)
    assert ticks and all(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", t) for t in ticks), ticks
    assert "¥39.80" in en  # the two members' payments, in the GMV bars and the total


def test_a_refund_is_confirmed_said_on_the_page_and_shown_to_the_member(
    client: TestClient, api: Api, operator: dict[str, Any]
) -> None:
    order_id, member = team_order(api)
    page = client.get(f"/ops/orders/{order_id}").text
    assert 'name="confirm"' in page and "会员会看到这段话" in page
    key = pages.hidden(page, "key")
    form = {
        "csrf_token": operator["csrf"],
        "key": key,
        "scope": "part",
        "amount": "5.00",
        "note": "第二箱有三个坏果, 退 5 元",
    }
    # without the tick nothing is refunded, and the box says why
    r = client.post(f"/ops/orders/{order_id}/refund", data=form)
    assert r.status_code == 400 and 'id="e-confirm"' in r.text and "勾选" in r.text
    assert "第二箱有三个坏果" in r.text  # what was typed is kept
    assert read(lambda s: orders.refunds_of(s, order_id)) == []
    r = client.post(
        f"/ops/orders/{order_id}/refund", data=dict(form, confirm="yes"), follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=refunded")
    done = client.get(r.headers["location"]).text
    assert 'class="flash ok" role="status"' in done and "已退款" in done
    # the member reads the operator's words in the order's timeline and in the inbox
    client.cookies.clear()
    phone = read(lambda s: accounts.get_user(s, int(member["user_id"])).phone)
    pages.log_in(client, phone, "secret123")
    mine = client.get(f"/orders/{order_id}").text
    assert "第二箱有三个坏果, 退 5 元" in mine and "refund-note" in mine
    run_worker()
    inbox = client.get("/inbox").text
    assert "第二箱有三个坏果, 退 5 元" in inbox and "¥5.00" in inbox
    rows = read(lambda s: notifications.inbox(s, int(member["user_id"])))
    refund = [n for n in rows if n.kind == "refund.created"]
    assert refund and notifications.render(refund[0].kind, refund[0].data, "en")[1].endswith(
        "Note: 第二箱有三个坏果, 退 5 元"
    )


def test_every_operator_action_says_it_worked(
    client: TestClient, api: Api, operator: dict[str, Any]
) -> None:
    r = client.post(
        "/ops/suppliers",
        data={"csrf_token": operator["csrf"], "name": "果园甲", "contact": "王"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=saved" in r.headers["location"]
    page = client.get(r.headers["location"]).text
    assert 'class="flash ok" role="status">已保存。' in page
    assert 'class="flash ok"' not in client.get("/ops/suppliers").text  # only after the action
    client.cookies.set("lang", "en")
    assert 'role="status">Saved.' in client.get(r.headers["location"]).text


_PHONE_OF_ORDER = "SELECT u.phone FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = :id"


def test_the_order_list_names_member_product_and_community_and_filters(
    client: TestClient, api: Api, operator: dict[str, Any]
) -> None:
    order_id, _ = team_order(api)
    _, sku = seed_sku(title="红富士")
    leader = seed_leader(operator["user_id"])
    _, listing, items = seed_wave(leader, [Item(sku)])
    (buyer,) = seed_members(leader, 1, name="小红")
    wave_order = seed_paid_order(buyer, listing, {items[0]: 1})
    tail = buyer.phone[-4:]
    page = client.get("/ops/orders").text
    assert f'id="order-{order_id}"' in page and f'id="order-{wave_order}"' in page
    row = re.search(rf'<tr id="order-{wave_order}">.*?</tr>', page, re.S)
    assert row and "小红" in row.group(0) and tail in row.group(0)
    assert "红富士" in row.group(0) and "王团长的小区" in row.group(0)
    assert '<label for="f-community">' in page and '<label for="f-product">' in page

    def ids(query: str) -> set[int]:
        r = client.get(f"/ops/orders?{query}")
        assert r.status_code == 200
        return {int(i) for i in re.findall(r'<tr id="order-(\d+)">', r.text)}

    assert ids("kind=wave") == {wave_order}
    assert ids("q=小红") == {wave_order}
    assert ids(f"q={buyer.phone}") == {wave_order}  # a phone (or its end)
    assert ids("q=富士") == {wave_order} and ids("q=王团长的") == {wave_order}
    # A number is an order's number, or the end of its member's phone.
    by_number = ids(f"q={order_id}")
    assert order_id in by_number
    for other in by_number - {order_id}:
        phone = str(pages.scalar(_PHONE_OF_ORDER, id=other))
        assert phone.endswith(str(order_id)), (other, phone)
    assert ids("q=乙") == {order_id}
    assert ids("q=100%25_") == set()  # LIKE's wildcards are plain text
    assert ids(f"community={leader.community_id}") == {wave_order}
    assert ids(f"product={product_of(sku)}") == {wave_order}
    assert ids("community=999999") == set()
    assert ids("community=abc&status=nonsense") >= {order_id, wave_order}  # ignored, not an error


def test_the_order_desk_api_finds_orders_with_member_product_and_community(
    client: TestClient, api: Api, operator: dict[str, Any]
) -> None:
    order_id, _ = team_order(api)
    _, sku = seed_sku(title="红富士")
    leader = seed_leader(operator["user_id"])
    _, listing, items = seed_wave(leader, [Item(sku)])
    (buyer,) = seed_members(leader, 1, name="小红")
    wave_order = seed_paid_order(buyer, listing, {items[0]: 1})
    op = api.operator()
    r = client.get("/api/admin/order-desk", params={"q": "富士"}, headers=op)
    assert r.status_code == 200, r.text
    (found,) = r.json()
    assert found["id"] == wave_order and found["community"] == "王团长的小区"
    assert found["product"].startswith("红富士") and found["member"].startswith("小红")
    assert found["masked_phone"].endswith(buyer.phone[-4:]) and "*" in found["masked_phone"]
    r = client.get(
        "/api/admin/order-desk", params={"community_id": leader.community_id}, headers=op
    )
    assert [o["id"] for o in r.json()] == [wave_order]
    r = client.get("/api/admin/order-desk", params={"kind": "team"}, headers=op)
    assert order_id in [o["id"] for o in r.json()] and wave_order not in [o["id"] for o in r.json()]
    # bad input is refused and a member may not look
    assert client.get("/api/admin/order-desk?q=" + "x" * 65, headers=op).status_code == 422
    member = api.signup("丙")
    assert client.get("/api/admin/order-desk", headers=member).status_code == 403
