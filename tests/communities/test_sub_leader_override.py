"""The upline's override follows the sub-leader link that held when the member paid: a sale
paid while the link held keeps its override even when picked up after the sub-leader left;
sales paid before the link began or after it ended earn none. Over HTTP, both backends.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Api, rows, run_worker
from tests.fulfilment.conftest import World, auth
from tuangou.commission.rules import DEFAULT_OVERRIDE_BPS
from tuangou.core import clock


def _commissions(order_id: int) -> dict[str, tuple[int, int]]:
    """kind -> (leader id, rate) of an order's commission lines."""
    found = rows(
        "SELECT kind, leader_id, rate_bps FROM commissions WHERE order_id = :o", o=order_id
    )
    return {str(kind): (int(leader), int(rate)) for kind, leader, rate in found}


def test_the_override_ends_exactly_for_sales_paid_after_leaving(api: Api) -> None:
    w = World(api)
    apples = w.sku("烟台苹果")
    wave = w.catalogue_wave([{"sku_id": apples, "price": 1000, "moq": 1, "stock": 100}])
    item = wave["items"][0]["item_id"]
    a = w.leader("王团长", "幸福里 3 栋便利店")
    b = w.leader("赵团长", "阳光花园快递站")
    listing = w.adopt(b, wave["id"])["listing"]["id"]
    members: dict[str, dict[str, Any]] = {}
    orders: dict[str, int] = {}

    def sale(name: str) -> None:
        members[name] = w.member(b, name)
        orders[name] = w.order(members[name], listing, {item: 1})

    sale("before")  # paid before b was anyone's sub-leader
    r = w.c.post("/api/leader/sub-leaders", json={"leader_id": b["leader_id"]}, headers=auth(a))
    assert r.status_code == 201, r.text
    r = w.c.post(f"/api/leader/sub-leader-invitations/{r.json()['id']}/accept", headers=auth(b))
    assert r.status_code == 200, r.text
    sale("during")  # paid while b was a's sub-leader
    left = w.c.post("/api/leader/upline/leave", headers=auth(b))
    assert left.status_code == 200, left.text
    sale("after")  # paid after b left

    # Every pickup happens after b left.
    clock.advance(timedelta(hours=4))
    run_worker()
    assert w.ship(wave["id"]).status_code == 200
    assert w.receive(b, wave["id"]).status_code == 200
    for name, order_id in orders.items():
        r = w.verify(b, w.code(members[name], order_id))
        assert r.status_code == 200, (name, r.text)
        assert w.order_status(order_id) == "completed", name

    assert _commissions(orders["during"])["override"] == (a["leader_id"], DEFAULT_OVERRIDE_BPS)
    for name in ("before", "after"):
        assert "override" not in _commissions(orders[name]), name
    # b's own commission is there on every sale.
    for name in orders:
        assert _commissions(orders[name])["direct"][0] == b["leader_id"], name
