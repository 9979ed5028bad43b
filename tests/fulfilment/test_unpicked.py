"""Orders left at the pickup point past the wave's days follow its policy, exactly once."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Api, audit_violations, run_worker
from tests.fulfilment.conftest import balance, build, problem, rows, scalar, settle
from tuangou.core import clock


def _refunds(order_id: int) -> list[tuple[str, int]]:
    return [
        (reason, amount)
        for reason, amount in rows(
            "SELECT reason, amount FROM refunds WHERE order_id = :id ORDER BY id", id=order_id
        )
    ]


def test_unpicked_orders_are_refunded_in_full_by_the_refund_policy(api: Api) -> None:
    s = build(api, unpicked_policy="refund", unpicked_days=3)
    w = s.w
    settle(s)
    assert w.receive(s.a, s.wave_id).status_code == 200
    li, zhang = s.member("李阿姨"), s.member("张大爷")
    # 张大爷 collects in time; 李阿姨 never comes.
    assert w.verify(s.a, w.code(zhang, s.orders["张大爷"])).status_code == 200
    li_code = w.code(li, s.orders["李阿姨"])

    clock.advance(timedelta(days=3) - timedelta(minutes=5))
    run_worker()
    assert w.order_status(s.orders["李阿姨"]) == "arrived"  # not yet: still within the days
    assert w.pickup(li, s.orders["李阿姨"])["status"] == "waiting"

    clock.advance(timedelta(minutes=10))
    run_worker()
    assert w.order_status(s.orders["李阿姨"]) == "refunded"
    assert w.pickup(li, s.orders["李阿姨"])["status"] == "refunded"
    # Everything she paid came back: 200 price protection at cut-off, the rest now.
    assert _refunds(s.orders["李阿姨"]) == [("price_protection", 200), ("not_picked_up", 1800)]
    assert balance("escrow", s.orders["李阿姨"]) == 0
    assert any(n["kind"] == "refund.created" and "超时未提货" in n["body"] for n in w.inbox(li))
    # The collected order is untouched; the supplier is paid for it alone.
    assert w.order_status(s.orders["张大爷"]) == "completed"
    assert balance(f"supplier_payable:{w.supplier_id}") == 1700 - 170
    # Exactly once: more rounds refund nothing more, and the code no longer hands anything over.
    clock.advance(timedelta(days=1))
    run_worker()
    assert len(_refunds(s.orders["李阿姨"])) == 2
    problem(w.verify(s.a, li_code), 409, "pickup_code_refunded")
    assert audit_violations() == []


def test_unpicked_orders_complete_without_pickup_by_the_keep_policy(api: Api) -> None:
    s = build(api, unpicked_policy="keep", unpicked_days=2)
    w = s.w
    settle(s)
    assert w.receive(s.b, s.wave_id).status_code == 200
    wang = s.member("王奶奶")
    code = w.code(wang, s.orders["王奶奶"])
    assert balance(f"leader_frozen:{s.b['leader_id']}") == 0

    clock.advance(timedelta(days=2, minutes=1))
    run_worker()
    assert w.order_status(s.orders["王奶奶"]) == "completed"
    assert w.pickup(wang, s.orders["王奶奶"])["status"] == "kept"
    assert _refunds(s.orders["王奶奶"]) == [("price_protection", 300)]
    assert balance("escrow", s.orders["王奶奶"]) == 0
    assert balance(f"supplier_payable:{w.supplier_id}") == 2700 - 270
    assert balance(f"leader_frozen:{s.b['leader_id']}") == 270
    assert scalar("SELECT COUNT(*) FROM outbox_events WHERE topic = 'order.completed'") == 1
    # The goods are still at the counter: a late collection hands them over, paying nobody twice.
    r = w.verify(s.b, code)
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "valid"
    assert w.pickup(wang, s.orders["王奶奶"])["status"] == "picked_up"
    problem(w.verify(s.b, code), 409, "pickup_code_used")
    assert balance(f"supplier_payable:{w.supplier_id}") == 2700 - 270
    assert balance(f"leader_frozen:{s.b['leader_id']}") == 270
    run_worker()
    assert audit_violations() == []
