"""Goods that never reached a pickup point are refunded in full from escrow, after the wave's
delivery deadline (delivery date + grace days): by the worker, or by one operator action."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Api, audit_violations, run_worker
from tests.fulfilment.conftest import Scenario, auth, balance, build, problem, rows, settle
from tuangou.core import clock


def _past_deadline() -> None:
    # Delivery tomorrow + 2 grace days, to the end of that day: 5 days is always past it.
    clock.advance(timedelta(days=5))


def _refund_operator(s: Scenario, point: int, who: dict[str, str] | None = None) -> object:
    return s.w.c.post(
        f"/api/admin/waves/{s.wave_id}/pickup-points/{point}/refund-undelivered",
        headers=who or s.w.op,
    )


def test_the_worker_refunds_goods_never_received_when_the_wave_says_so(api: Api) -> None:
    s = build(api, unpicked_days=10)  # B's members may collect long after the deadline
    w = s.w
    settle(s)
    assert w.ship(s.wave_id, [s.a["pickup_point_id"]]).status_code == 200
    assert w.receive(s.b, s.wave_id).status_code == 200  # B's goods came
    run_worker()
    assert w.order_status(s.orders["李阿姨"]) == "shipped"  # not before the deadline

    _past_deadline()
    run_worker()
    for name in ("李阿姨", "张大爷"):
        order_id = s.orders[name]
        assert w.order_status(order_id) == "refunded"
        assert rows(
            "SELECT reason, amount FROM refunds WHERE order_id = :id ORDER BY id", id=order_id
        )[-1] == ("not_delivered", s.kept[name])
        assert balance("escrow", order_id) == 0
        assert w.pickup(s.member(name), order_id)["status"] == "refunded"
    li = s.member("李阿姨")
    assert any(n["kind"] == "refund.created" and "未送达" in n["body"] for n in w.inbox(li))
    # B's members, whose goods arrived, keep their order.
    assert w.order_status(s.orders["王奶奶"]) == "arrived"
    # Goods turning up afterwards cannot be received: the members have their money back.
    problem(w.receive(s.a, s.wave_id), 409, "undelivered_refunded")
    problem(w.ship(s.wave_id, [s.a["pickup_point_id"]]), 409, "undelivered_refunded")
    assert audit_violations() == []


def test_an_operator_refunds_undelivered_goods_only_after_the_deadline(api: Api) -> None:
    s = build(api, auto_refund_undelivered=False, unpicked_days=10)
    w = s.w
    settle(s)
    a_point, b_point = s.a["pickup_point_id"], s.b["pickup_point_id"]
    # Too early: the goods may still come. Nothing changes.
    r = problem(_refund_operator(s, b_point), 409, "delivery_deadline_not_passed")
    assert r["deadline"]
    assert w.order_status(s.orders["王奶奶"]) == "confirmed"
    assert w.receive(s.a, s.wave_id).status_code == 200

    _past_deadline()
    run_worker()
    # This wave does not refund by itself: the operator decides.
    assert w.order_status(s.orders["王奶奶"]) == "confirmed"
    problem(_refund_operator(s, b_point, auth(s.b)), 403, "forbidden")
    r = _refund_operator(s, b_point)
    assert r.status_code == 200, r.text
    assert [o["id"] for o in r.json()["refunded"]] == [s.orders["王奶奶"]]
    assert w.order_status(s.orders["王奶奶"]) == "refunded"
    assert balance("escrow", s.orders["王奶奶"]) == 0
    # Once only; and never where the goods were received.
    problem(_refund_operator(s, b_point), 409, "undelivered_refunded")
    problem(_refund_operator(s, a_point), 409, "already_received")
    assert w.order_status(s.orders["李阿姨"]) == "arrived"
    assert len(rows("SELECT id FROM refunds WHERE reason = 'not_delivered'")) == 1
    assert audit_violations() == []
