"""Two leaders' phones (or one double tap) verifying the same code at once complete the order
once: one answer is ``valid``, the other ``pickup_code_used``, and escrow is released once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import Api, audit_violations
from tests.fulfilment.conftest import auth, balance, build, rows, settle


def test_concurrent_verifications_of_the_same_code_complete_once(api: Api) -> None:
    s = build(api)
    w = s.w
    # More members at A, so that several codes race at once.
    listing = rows(
        "SELECT id FROM wave_listings WHERE wave_id = :w AND leader_id = :l",
        w=s.wave_id,
        l=s.a["leader_id"],
    )[0][0]
    for i in range(4):
        name = f"邻居{i}号"
        s.members[name] = w.member(s.a, name)
        s.orders[name] = w.order(s.members[name], listing, {s.apples: 1})
    settle(s)
    assert w.receive(s.a, s.wave_id).status_code == 200
    at_a = [n for n in s.orders if n != "王奶奶"]
    codes = {n: w.code(s.member(n), s.orders[n]) for n in at_a}
    payable_before = balance(f"supplier_payable:{w.supplier_id}")

    tries = [code for code in codes.values() for _ in range(2)]
    start = threading.Barrier(len(tries))

    def verify(code: str) -> tuple[str, int, Any]:
        start.wait()
        r = w.c.post(
            "/api/leader/pickups/verify",
            json={"pickup_point_id": s.a["pickup_point_id"], "code": code},
            headers=auth(s.a),
        )
        return code, r.status_code, r.json()

    with ThreadPoolExecutor(len(tries)) as pool:
        results = list(pool.map(verify, tries))

    for code in codes.values():
        answers = sorted(
            (status, body.get("result") or body.get("code"))
            for c, status, body in results
            if c == code
        )
        assert answers == [(200, "valid"), (409, "pickup_code_used")], results
    for name in at_a:
        order_id = s.orders[name]
        assert w.order_status(order_id) == "completed"
        assert balance("escrow", order_id) == 0
        assert rows(
            "SELECT COUNT(*) FROM ledger_transfers WHERE kind = 'release' AND order_id = :id",
            id=order_id,
        ) == [(1,)]
        assert rows("SELECT COUNT(*) FROM commissions WHERE order_id = :id", id=order_id) == [(1,)]
    completed_events = rows("SELECT COUNT(*) FROM outbox_events WHERE topic = 'pickup.completed'")
    assert completed_events == [(len(at_a),)]
    kept = sum(s.kept.get(n, 900) for n in at_a)  # each neighbour keeps one apple at ¥9
    assert balance(f"supplier_payable:{w.supplier_id}") - payable_before == kept - kept // 10
    assert audit_violations() == []
