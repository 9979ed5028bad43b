"""Fulfilment and the release of money: escrow until the goods arrive (DOMAIN.md, Money).

After a team settles the supplier ships; the member confirms receipt (or the worker does it
after the auto-confirm days) and only then does escrow pay the supplier, minus the operator's
fee. An order never shipped in time is refunded in full from escrow.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.api import auth, balance, settled_pair, world
from tests.conftest import Api, audit_violations, run_worker
from tuangou.core import clock
from tuangou.core.config import reset_settings

SHIP = {"carrier": "顺丰", "tracking_no": "SF1234567890"}


@pytest.fixture
def fee_bps(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("TUANGOU_OPERATOR_FEE_BPS", "250")
    reset_settings()
    yield 250
    monkeypatch.delenv("TUANGOU_OPERATOR_FEE_BPS")
    reset_settings()


def _ship(api: Api, supplier: dict[str, str], order_id: int) -> Any:
    return api.c.post(f"/api/supplier/orders/{order_id}/ship", json=SHIP, headers=supplier)


def _escrow(order_id: int) -> int:
    return balance("escrow", order_id)


def _payable(supplier_id: int) -> int:
    return balance(f"supplier_payable:{supplier_id}")


def _steps(order: dict[str, Any]) -> list[str]:
    return [row["step"] for row in order["timeline"]]


def test_ship_then_confirm_receipt_releases_escrow_to_the_supplier(api: Api) -> None:
    w, (order_id, other_id) = settled_pair(api)
    a = w.members[0]
    assert _escrow(order_id) == 1990
    assert _payable(w.supplier_id) == 0
    # Receipt cannot be confirmed before shipping.
    r = api.c.post(f"/api/orders/{order_id}/confirm-receipt", headers=auth(a))
    assert r.status_code == 409 and r.json()["code"] == "order_not_shipped"

    r = _ship(api, w.supplier, order_id)
    assert r.status_code == 200, r.text
    order = api.order(a, order_id)
    assert order["status"] == "shipped"
    assert (order["carrier"], order["tracking_no"]) == (SHIP["carrier"], SHIP["tracking_no"])
    assert order["in_escrow"] == 1990
    assert _escrow(order_id) == 1990  # shipping alone releases nothing
    # Shipping twice is refused and changes nothing.
    again = api.c.post(
        f"/api/supplier/orders/{order_id}/ship",
        json={"carrier": "圆通", "tracking_no": "YT1"},
        headers=w.supplier,
    )
    assert again.status_code == 409 and again.json()["code"] == "order_not_shippable"
    assert api.order(a, order_id)["carrier"] == "顺丰"
    assert audit_violations() == []

    r = api.c.post(f"/api/orders/{order_id}/confirm-receipt", headers=auth(a))
    assert r.status_code == 200, r.text
    order = api.order(a, order_id)
    assert order["status"] == "completed"
    assert order["in_escrow"] == 0 and order["kept_amount"] == 1990
    assert _escrow(order_id) == 0
    assert _payable(w.supplier_id) == 1990
    assert balance("platform_revenue") == 0
    # The other member's money is still held for their goods.
    assert _escrow(other_id) == 1990
    # Confirming twice pays nobody twice.
    r = api.c.post(f"/api/orders/{order_id}/confirm-receipt", headers=auth(a))
    assert r.status_code == 409
    assert _payable(w.supplier_id) == 1990
    assert _steps(order) == ["created", "paid", "confirmed", "shipped", "completed"]
    run_worker()
    assert audit_violations() == []


def test_shipping_an_order_that_is_not_confirmed_is_refused(api: Api) -> None:
    w = world(api, 2, tiers=[[3, 1990]], min_size=3)
    a, b = w.members
    paid = api.open(a, w.campaign["id"])["order"]["id"]
    unpaid = api.join(b, api.order(a, paid)["team_id"], pay=False)["order"]["id"]
    for order_id, status in ((paid, "paid"), (unpaid, "pending_payment")):
        r = _ship(api, w.supplier, order_id)
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "order_not_shippable"
        assert api.order(a if order_id == paid else b, order_id)["status"] == status
    bad = api.c.post(
        f"/api/supplier/orders/{paid}/ship",
        json={"carrier": "", "tracking_no": "x"},
        headers=w.supplier,
    )
    assert bad.status_code == 422
    assert audit_violations() == []


def test_operator_fee_goes_to_platform_revenue(api: Api, fee_bps: int) -> None:
    w = world(api, 3, tiers=[[2, 1990], [3, 1790]], max_size=3)
    a, b, c = w.members
    order_id = api.open(a, w.campaign["id"])["order"]["id"]
    team_id = api.order(a, order_id)["team_id"]
    api.join(b, team_id)
    api.join(c, team_id)
    run_worker()
    order = api.order(a, order_id)
    assert order["status"] == "confirmed"
    assert order["final_unit_price"] == 1790
    assert order["kept_amount"] == 1790  # 200 came back as price protection
    assert _ship(api, w.supplier, order_id).status_code == 200
    assert api.c.post(f"/api/orders/{order_id}/confirm-receipt", headers=auth(a)).is_success
    fee = (1790 * fee_bps + 5000) // 10000
    assert fee == 45
    assert balance("platform_revenue") == fee
    assert _payable(w.supplier_id) == 1790 - fee
    assert _escrow(order_id) == 0
    run_worker()
    assert audit_violations() == []


def test_receipt_is_confirmed_automatically_after_seven_days(api: Api) -> None:
    w, (order_id, _) = settled_pair(api)
    a = w.members[0]
    assert _ship(api, w.supplier, order_id).status_code == 200
    clock.advance(timedelta(days=7) - timedelta(hours=1))
    run_worker()
    assert api.order(a, order_id)["status"] == "shipped"
    assert _payable(w.supplier_id) == 0
    clock.advance(timedelta(hours=2))
    run_worker()
    order = api.order(a, order_id)
    assert order["status"] == "completed"
    assert _escrow(order_id) == 0
    assert _payable(w.supplier_id) == 1990
    assert audit_violations() == []


def test_order_not_shipped_in_time_is_refunded_in_full(api: Api) -> None:
    w, (order_id, other_id) = settled_pair(api, ship_within_hours=24)
    a, b = w.members
    assert _ship(api, w.supplier, other_id).status_code == 200
    clock.advance(timedelta(hours=23))
    run_worker()
    assert api.order(a, order_id)["status"] == "confirmed"
    clock.advance(timedelta(hours=2))
    run_worker()
    order = api.order(a, order_id)
    assert order["status"] == "refunded"
    assert order["refunded_amount"] == order["paid_amount"] == 1990
    assert order["in_escrow"] == 0 and order["kept_amount"] == 0
    assert [(r["reason"], r["amount"], r["status"]) for r in order["refunds"]] == [
        ("not_shipped", 1990, "succeeded")
    ]
    assert _steps(order)[-1] == "refunded"
    assert order["timeline"][-1]["reason"] == "not_shipped"
    assert _escrow(order_id) == 0
    assert _payable(w.supplier_id) == 0
    assert balance("refunds") == 0  # the refund reached the gateway
    # The shipped order is not touched, and shipping the refunded one is refused.
    assert api.order(b, other_id)["status"] == "shipped"
    assert _ship(api, w.supplier, order_id).status_code == 409
    run_worker()
    assert len(api.order(a, order_id)["refunds"]) == 1
    assert audit_violations() == []


def test_operator_refunds_by_hand_in_parts(api: Api) -> None:
    w, (order_id, _) = settled_pair(api)
    a = w.members[0]
    path = f"/api/admin/orders/{order_id}/refund"
    assert _ship(api, w.supplier, order_id).status_code == 200

    missing = api.c.post(path, json={"amount": 100}, headers=w.op)
    assert missing.status_code == 422 and missing.json()["code"] == "invalid_input"
    blank = api.c.post(path, json={"amount": 100, "note": "   "}, headers=w.op)
    assert blank.status_code == 422 and blank.json()["code"] == "invalid_input"

    r = api.c.post(path, json={"amount": 500, "note": "两个坏果"}, headers=w.op)
    assert r.status_code == 201, r.text
    assert r.json()["refund"]["amount"] == 500
    assert r.json()["refund"]["note"] == "两个坏果"
    order = r.json()["order"]
    assert order["status"] == "shipped"
    assert (order["refunded_amount"], order["in_escrow"]) == (500, 1490)
    run_worker()
    assert audit_violations() == []

    over = api.c.post(path, json={"amount": 1491, "note": "全部"}, headers=w.op)
    assert over.status_code == 409 and over.json()["code"] == "refund_exceeds_paid"
    assert api.order(a, order_id)["refunded_amount"] == 500

    rest = api.c.post(path, json={"note": "退回余款"}, headers=w.op)
    assert rest.status_code == 201, rest.text
    assert rest.json()["refund"]["amount"] == 1490
    order = api.order(a, order_id)
    assert order["status"] == "refunded"
    assert (order["refunded_amount"], order["in_escrow"]) == (1990, 0)
    assert [r["amount"] for r in order["refunds"]] == [500, 1490]
    assert _steps(order)[-1] == "refunded"
    assert _escrow(order_id) == 0

    more = api.c.post(path, json={"amount": 1, "note": "再退"}, headers=w.op)
    assert more.status_code == 409 and more.json()["code"] == "order_not_refundable"
    run_worker()
    assert balance("refunds") == 0
    assert audit_violations() == []


def test_partial_refund_then_receipt_releases_the_rest(api: Api, fee_bps: int) -> None:
    w, (order_id, _) = settled_pair(api)
    a = w.members[0]
    r = api.c.post(
        f"/api/admin/orders/{order_id}/refund",
        json={"amount": 490, "note": "少发一个"},
        headers=w.op,
    )
    assert r.status_code == 201, r.text
    assert _ship(api, w.supplier, order_id).status_code == 200
    assert api.c.post(f"/api/orders/{order_id}/confirm-receipt", headers=auth(a)).is_success
    fee = (1500 * fee_bps + 5000) // 10000
    assert balance("platform_revenue") == fee
    assert _payable(w.supplier_id) == 1500 - fee
    assert _escrow(order_id) == 0
    run_worker()
    assert audit_violations() == []


def test_manual_refund_waits_for_the_team_to_settle(api: Api) -> None:
    """Before its team settles the member may leave the team; an operator's refund would
    leave a paid seat without money behind it."""
    w = world(api, 3, tiers=[[2, 1990], [3, 1790]], max_size=3)
    a, b, c = w.members
    order_id = api.open(a, w.campaign["id"])["order"]["id"]
    r = api.c.post(
        f"/api/admin/orders/{order_id}/refund",
        json={"amount": 1900, "note": "投诉"},
        headers=w.op,
    )
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "order_not_refundable"
    assert api.order(a, order_id)["refunded_amount"] == 0
    team_id = api.order(a, order_id)["team_id"]
    api.join(b, team_id)
    api.join(c, team_id)
    run_worker()
    assert api.team(team_id)["status"] == "settled"
    assert api.order(a, order_id)["kept_amount"] == 1790
    assert audit_violations() == []


def test_refund_of_a_completed_order_is_refused(api: Api) -> None:
    w, (order_id, _) = settled_pair(api)
    assert _ship(api, w.supplier, order_id).status_code == 200
    assert api.c.post(
        f"/api/orders/{order_id}/confirm-receipt", headers=auth(w.members[0])
    ).is_success
    r = api.c.post(f"/api/admin/orders/{order_id}/refund", json={"note": "晚了"}, headers=w.op)
    assert r.status_code == 409 and r.json()["code"] == "order_not_refundable"
    assert _payable(w.supplier_id) == 1990
    assert audit_violations() == []


def test_order_timeline(api: Api) -> None:
    w = world(api, 2)
    a, b = w.members
    opened = api.open(a, w.campaign["id"], pay=False)
    order_id = opened["order"]["id"]
    assert _steps(api.order(a, order_id)) == ["created"]
    assert api.order(a, order_id)["expires_at"] is not None
    api.pay(opened["pay_url"])
    assert _steps(api.order(a, order_id)) == ["created", "paid"]
    api.join(b, opened["team"]["id"])
    assert _steps(api.order(a, order_id)) == ["created", "paid", "confirmed"]
    assert _ship(api, w.supplier, order_id).status_code == 200
    api.c.post(f"/api/orders/{order_id}/confirm-receipt", headers=auth(a))
    order = api.order(a, order_id)
    assert _steps(order) == ["created", "paid", "confirmed", "shipped", "completed"]
    times = [row["at"] for row in order["timeline"]]
    assert times == sorted(times)
    assert order["expires_at"] is None
    assert order["ship_by"] is not None
    # A cancelled order ends with its reason.
    lapsed = api.open(b, w.campaign["id"], pay=False)["order"]["id"]
    api.c.post(f"/api/orders/{lapsed}/cancel", headers=auth(b))
    cancelled = api.order(b, lapsed)
    assert _steps(cancelled) == ["created", "cancelled"]
    assert cancelled["timeline"][-1]["reason"] == "cancelled_by_member"
    run_worker()
    assert audit_violations() == []
