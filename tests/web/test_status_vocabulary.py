"""One vocabulary for an order's state: the pure rule (orders.rules.display_status) names each
state once, the pages say it in their catalogs' words, the orders API gives its key and its
words (Accept-Language), the inbox's messages use the same words. Pages and API agree on the
demo's orders, in both languages, on both backends."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web import test_member_pages as mp
from tests.web.pages import demo_log_in as log_in
from tuangou import demo
from tuangou.notifications import rules as inbox_rules
from tuangou.notifications.service import TEXTS
from tuangou.orders import rules
from tuangou.orders.rules import DisplayStatus as D
from tuangou.orders.rules import OrderStatus as S
from tuangou.web import i18n, status

site = mp.site

# (status, kind, team status, confirming) -> the state a member reads, one row per state.
CASES: list[tuple[str, str, str | None, bool, D]] = [
    (S.PENDING_PAYMENT, "team", "pending", False, D.TO_PAY),
    (S.PENDING_PAYMENT, "wave", None, True, D.CONFIRMING_PAYMENT),
    (S.PAID, "team", "open", False, D.AWAITING_TEAM),
    (S.PAID, "wave", None, False, D.AWAITING_CUTOFF),
    (S.PAID, "team", "formed", False, D.FORMED),
    (S.CONFIRMED, "wave", None, False, D.FORMED),
    (S.SHIPPED, "team", "settled", False, D.SHIPPED),
    (S.ARRIVED, "wave", None, False, D.TO_PICK_UP),
    (S.COMPLETED, "team", "settled", False, D.COMPLETED),
    (S.CANCELLED, "wave", None, False, D.CANCELLED),
    (S.REFUNDED, "team", "failed", False, D.REFUNDED),
]
WORDS = {
    D.TO_PAY: ("Unpaid", "待支付"),
    D.CONFIRMING_PAYMENT: ("Confirming payment…", "支付确认中"),
    D.AWAITING_TEAM: ("Waiting to form", "待成团"),
    D.AWAITING_CUTOFF: ("Waiting for the cut-off", "待截单"),
    D.FORMED: ("Formed", "已成团"),
    D.SHIPPED: ("Shipped", "已发货"),
    D.TO_PICK_UP: ("Ready for pickup", "待提货"),
    D.COMPLETED: ("Completed", "已完成"),
    D.CANCELLED: ("Cancelled", "已取消"),
    D.REFUNDED: ("Refunded", "已退款"),
}


def test_every_state_is_in_the_table_once() -> None:
    assert sorted(c[-1] for c in {c[-1]: c for c in CASES}.values()) == sorted(D)
    assert set(WORDS) == set(D)


@pytest.mark.parametrize(("order_status", "kind", "team", "confirming", "expected"), CASES)
def test_the_state_a_member_reads(
    order_status: str, kind: str, team: str | None, confirming: bool, expected: D
) -> None:
    state = rules.display_status(order_status, kind=kind, team_status=team, confirming=confirming)
    assert state == expected
    english, chinese = WORDS[expected]
    assert rules.display_label(state, "en") == english
    assert rules.display_label(state, "zh-CN") == chinese
    # The pages say the same words, in both languages (their catalogs).
    words = status.order_word(
        status.order_state(order_status, kind=kind, team_status=team, confirming=confirming)
    )
    assert i18n.gettext("en", words) == english
    assert i18n.gettext("zh-CN", words) == chinese


def test_a_paid_order_is_never_confirming_and_an_unpaid_one_never_formed() -> None:
    assert rules.display_status(S.PAID, kind="team", confirming=True) == D.AWAITING_TEAM
    assert rules.display_status(S.PENDING_PAYMENT, team_status="formed") == D.TO_PAY


def test_the_inbox_titles_a_state_in_its_words() -> None:
    checked = 0
    for topic, (of, state) in inbox_rules.STATE_OF.items():
        if of != "order":
            continue
        english, chinese = WORDS[rules.display_status(state)]
        zh_title, en_title, _, _ = TEXTS[topic]
        assert (zh_title, en_title) == (chinese, english), topic
        assert i18n.gettext("zh-CN", status.message_title(topic) or "") == chinese, topic
        checked += 1
    assert checked >= 4


_CARD = re.compile(
    r'<a href="/orders/(\d+)">.*?<span class="badge[^"]*">([^<]+)</span></p>\s*<p class="money">',
    re.S,
)
_PILL = re.compile(r'id="order-status">([^<]+)<')


def _token(site: TestClient, phone: str) -> str:
    reply = site.post("/api/auth/login", json={"phone": phone, "password": demo.PASSWORD})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["token"])


def _api_orders(site: TestClient, token: str, lang: str) -> dict[int, dict[str, Any]]:
    reply = site.get(
        "/api/orders", headers={"Authorization": f"Bearer {token}", "Accept-Language": lang}
    )
    assert reply.status_code == 200, reply.text
    return {o["id"]: o for o in reply.json()}


def test_pages_and_api_say_the_same_state_of_every_order(site: TestClient) -> None:
    """The demo's orders, then one wave order through 待支付 → 待截单."""
    seen: set[str] = set()
    for phone, _ in demo.MEMBERS[:4]:
        token = _token(site, phone)
        zh = _api_orders(site, token, "zh-CN,zh;q=0.9")
        en = _api_orders(site, token, "en-US,en;q=0.8")
        assert set(zh) == set(en)
        for order in zh.values():  # the raw status is still there, unchanged
            assert order["status"] in set(S)
            assert order["display_status"] == en[order["id"]]["display_status"]
            seen.add(order["display_status"])
        log_in(site, phone)
        for lang, api in (("zh-CN", zh), ("en", en)):
            site.get(f"/lang?to={lang}", follow_redirects=False)
            cards = dict(_CARD.findall(site.get("/orders").text))
            assert {int(i) for i in cards} == set(api), phone
            for order_id, words in cards.items():
                assert words == api[int(order_id)]["display_label"], (phone, order_id)
            for order_id in list(api)[:2]:
                pill = _PILL.search(site.get(f"/orders/{order_id}").text)
                assert pill and pill.group(1) == api[order_id]["display_label"]
        site.get("/lang?to=zh-CN", follow_redirects=False)
    # The demo's orders show several states (else this test would prove little).
    assert len(seen) >= 3, seen

    listing = mp.open_listing()
    items = mp.items_of(listing)
    log_in(site, mp.XIAOHONG)
    token = _token(site, mp.XIAOHONG)
    placed = mp.post(site, f"/w/{listing}", {f"qty_{items['农家土鸡蛋']}": "1"})
    payment_id = int(placed.headers["location"].rsplit("/", 1)[1])
    order_id = int(mp.scalar("SELECT order_id FROM payments WHERE id = :p", p=payment_id))

    def both() -> tuple[str, str, str]:
        api = _api_orders(site, token, "zh-CN")[order_id]
        pill = _PILL.search(site.get(f"/orders/{order_id}").text)
        assert pill
        return api["display_status"], api["display_label"], pill.group(1)

    assert both() == ("to_pay", "待支付", "待支付")
    from tuangou.core.db import run_in_transaction
    from tuangou.payments import service as payments

    user = mp.user_id(mp.XIAOHONG)
    run_in_transaction(
        lambda s: payments.sandbox_pay_now(
            s, payments.get_for_user(s, user_id=user, payment_id=payment_id)
        )
    )
    assert both() == ("awaiting_cutoff", "待截单", "待截单")
