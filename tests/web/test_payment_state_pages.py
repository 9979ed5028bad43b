"""After the gateway returns: every page that shows a payment says 支付确认中 and asks again
until the payment lands, and never offers to pay twice; one vocabulary for an order's and a
team's state; 我的订单's status tabs; a team page's main action follows the team's state.
Over HTTP (TestClient), on both backends."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import run_worker
from tests.web import test_member_pages as mp
from tests.web import test_teambuy_pages as tb
from tests.web.pages import demo_log_in as log_in
from tests.web.pages import form_of

site = mp.site
shop = tb.shop
people = tb.people

_BAR = re.compile(r'<div class="sticky-bar tb-bar">(.*?)</div>', re.S)


def _bar(html: str) -> str:
    found = _BAR.search(html)
    assert found, "the team page has no action bar"
    return found.group(1)


def _wave_order_paid_at_the_gateway(site: TestClient) -> tuple[int, int]:
    """张小红 orders in the open wave and approves on the sandbox page; the gateway's callback
    has not landed yet. (order id, payment id)."""
    listing = mp.open_listing()
    items = mp.items_of(listing)
    log_in(site, mp.XIAOHONG)
    placed = mp.post(site, f"/w/{listing}", {f"qty_{items['农家土鸡蛋']}": "1"})
    pay_path = placed.headers["location"]
    payment_id = int(pay_path.rsplit("/", 1)[1])
    order_id = int(mp.scalar("SELECT order_id FROM payments WHERE id = :p", p=payment_id))
    body = {**form_of(site, pay_path), "outcome": "approve"}
    back = site.post(pay_path, data=body, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == f"/orders/{order_id}"
    return order_id, payment_id


def test_a_wave_order_says_confirming_after_paying_and_never_offers_to_pay_again(
    site: TestClient,
) -> None:
    order_id, payment_id = _wave_order_paid_at_the_gateway(site)
    assert mp.scalar("SELECT status FROM orders WHERE id = :o", o=order_id) == "pending_payment"

    page = site.get(f"/orders/{order_id}").text
    assert 'id="order-status">支付确认中<' in page
    assert f'data-poll="/orders/{order_id}/state"' in page  # app.js asks, backing off
    assert '<noscript><meta http-equiv="refresh"' in page  # and without JavaScript
    assert f'href="/orders/{order_id}" class="tb-refresh">刷新<' in page
    for never in ("待支付", "立即支付", "取消订单", "¥0.00", f"/pay/{payment_id}"):
        assert never not in page, never
    state = site.get(f"/orders/{order_id}/state")
    assert state.json() == {"order_id": order_id, "state": "confirming_payment", "confirming": True}

    listed = site.get("/orders").text
    card = re.search(rf'href="/orders/{order_id}">.*?</a>', listed, re.S)
    assert card and "支付确认中" in card.group(0) and "待支付" not in card.group(0)
    pay = site.get(f"/pay/{payment_id}").text
    assert "支付确认中" in pay and "确认支付" not in pay and "data-poll" in pay

    # A second payment of the order is refused, and none is made.
    again = mp.post(site, f"/orders/{order_id}/pay", {"idem": "another-tab"}, "/me")
    assert again.status_code == 409 and "不会重复扣款" in again.text
    assert mp.scalar("SELECT count(*) FROM payments WHERE order_id = :o", o=order_id) == 1

    log_in(site, mp.AUNTIE)  # somebody else's order: the same 404 as a missing one
    assert site.get(f"/orders/{order_id}/state").status_code == 404
    log_in(site, mp.XIAOHONG)

    run_worker()  # the callback lands
    page = site.get(f"/orders/{order_id}").text
    assert 'id="order-status">待截单<' in page
    assert "支付确认中" not in page and "data-poll" not in page and "立即支付" not in page
    state = site.get(f"/orders/{order_id}/state")
    assert state.json() == {"order_id": order_id, "state": "awaiting_cutoff", "confirming": False}
    pay = site.get(f"/pay/{payment_id}").text
    assert "✓ 已支付" in pay and "支付确认中" not in pay


def test_the_openers_pages_say_confirming_not_waiting_for_the_opener(
    shop: dict[str, Any], people: list[tb.Member]
) -> None:
    a, b, _ = people
    r = a.submit(f"/c/{shop['ladder']}", f"/c/{shop['ladder']}/open", quantity="1")
    pay_path = r.headers["location"]
    team = a.pay(pay_path).headers["location"]
    page = a.get(team).text
    assert "支付确认中" in page and "data-poll" in page
    for never in ("等待开团人支付", "立即支付", 'href="/pay/'):
        assert never not in page, never
    assert "等待开团人支付" in b.get(team).text  # the others: the team is not open yet
    # Another tab's 重新支付 starts no second payment.
    body = {**form_of(a.c, "/me"), "key": "another-tab"}  # the pay page has no form now
    retry = a.c.post(f"{pay_path}/retry", data=body, follow_redirects=False)
    assert retry.status_code == 409 and "支付确认中" in retry.text
    run_worker()
    page = a.get(team).text
    assert "支付确认中" not in page and "还差 1 人成团" in page


def test_my_orders_has_status_tabs_each_a_filter_with_a_count(site: TestClient) -> None:
    order_id, _ = _wave_order_paid_at_the_gateway(site)
    run_worker()
    listing = mp.open_listing()
    items = mp.items_of(listing)
    unpaid = mp.post(site, f"/w/{listing}", {f"qty_{items['烟台红富士']}": "1"})
    assert unpaid.status_code == 303
    page = site.get("/orders").text
    for words in ("全部", "待支付", "待成团", "待发货/待提货", "已完成", "退款/售后"):
        assert f"{words} <span" in page, words
    counts = dict(re.findall(r'data-tab="(\w+)"[^>]*>[^<]*<span class="count">(\d+)<', page))
    total = int(re.findall(r'href="/orders"[^>]*>全部 <span class="count">(\d+)<', page)[0])
    assert counts["unpaid"] == "1" and int(counts["forming"]) >= 1
    listed = 0
    for tab, count in counts.items():
        shown = site.get(f"/orders?tab={tab}").text
        ids = re.findall(r'<a href="/orders/(\d+)">', shown)
        assert len(ids) == int(count), tab
        assert f'href="/orders?tab={tab}" data-tab="{tab}" aria-current="page"' in shown
        listed += len(ids)
        if tab == "unpaid":
            assert all("待支付" in shown for _ in ids)
        if tab == "forming":
            assert str(order_id) in ids  # paid, the wave not yet confirmed: 待成团
    assert listed <= total
    assert len(re.findall(r'<a href="/orders/(\d+)">', site.get("/orders?tab=nope").text)) == total


def test_a_team_page_main_action_follows_the_state_and_says_formed_like_the_order(
    client: TestClient, shop: dict[str, Any], people: list[tb.Member]
) -> None:
    a, b, c = people
    d = tb.Member(client, "13800009999", "赵大爷")
    team = tb._open_and_pay(a, shop["ladder"])
    assert f'href="{team}/share"' in _bar(a.get(team).text)  # an open team: members invite
    assert f'action="{team}/join"' in _bar(b.get(team).text)  # and others join
    tb._join_and_pay(b, team)
    tb._join_and_pay(c, team)  # full: 3 of 3
    run_worker()
    for member in (a, b, c):
        page = member.get(team).text
        assert "✓ 已成团" in page
        bar = _bar(page)
        assert "邀请好友" not in bar and "/share" not in bar and "/join" not in bar
        assert "查看订单" in bar and re.search(r'href="/orders/\d+"', bar)
        assert f'href="/c/{shop["ladder"]}"' in bar and "去开新团" in bar
    bar = _bar(d.get(team).text)  # not a member: a new team, nothing else
    assert "去开新团" in bar and "查看订单" not in bar and "邀请好友" not in bar
    assert "/join" not in bar

    # The order says what the team says: 已成团, in its pill, its list and its timeline.
    order_id = int(re.findall(r'href="/orders/(\d+)"', _bar(a.get(team).text))[0])
    page = a.get(f"/orders/{order_id}").text
    assert 'id="order-status">已成团<' in page
    assert "<strong>已成团</strong>" in page
    assert "已成团" in a.get("/orders").text
    # In English, one word for a formed team and its orders.
    english = a.c.get(team, headers={"Accept-Language": "en"}, cookies={"lang": "en"}).text
    order_en = a.c.get(
        f"/orders/{order_id}", headers={"Accept-Language": "en"}, cookies={"lang": "en"}
    ).text
    assert "✓ Formed" in english and 'id="order-status">Formed<' in order_en
    assert "<strong>Formed</strong>" in order_en
    assert "Group confirmed" not in english + order_en
