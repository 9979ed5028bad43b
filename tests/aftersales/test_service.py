"""After-sales under concurrency, and the audit's view of them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.aftersales.conftest import Flow, arrive, pick_up
from tests.conftest import audit_violations
from tests.pools.support import execute, scalar
from tuangou.aftersales import service as aftersales
from tuangou.core.db import run_in_transaction
from tuangou.core.errors import DomainError


def _race(calls: list[Any]) -> list[str]:
    """Run the calls at once (each in its own transaction); their outcomes or error codes."""
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> str:
        barrier.wait()
        try:
            run_in_transaction(call)
            return "ok"
        except DomainError as exc:
            return exc.code

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_deciders_at_once_refund_once(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave)
    flow.settle()
    arrive(order_id)
    pick_up(order_id)
    case_id = flow.report(member, order_id, [{"item_id": wave["apple"], "quantity": 2}]).json()[
        "id"
    ]
    deciders = [
        aftersales.Viewer(int(leader["user_id"]), "member"),
        aftersales.Viewer(1, "operator"),
        aftersales.Viewer(1, "operator"),
    ]
    outcomes = _race(
        [lambda s, v=v: aftersales.accept(s, case_id=case_id, viewer=v) for v in deciders]
    )
    assert sorted(outcomes) == ["aftersale_decided", "aftersale_decided", "ok"]
    assert (
        scalar(
            "SELECT COUNT(*) FROM refunds WHERE order_id = :o AND reason = 'after_sale'", o=order_id
        )
        == 1
    )
    assert scalar("SELECT refunded_amount FROM orders WHERE id = :o", o=order_id) == 2000
    assert audit_violations() == []


def test_reports_racing_for_the_last_units_claim_no_more_than_was_bought(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave, apples=3, pears=0)
    flow.settle()
    arrive(order_id)
    user_id = int(member["user_id"])
    photos = [flow.photo_ids(member)[0] for _ in range(6)]

    def report(photo: str) -> Any:
        return lambda s: aftersales.report(
            s,
            user_id=user_id,
            order_id=order_id,
            kind="missing",
            description="少了一个",
            lines={wave["apple"]: 1},
            photo_ids=[photo],
        )

    outcomes = _race([report(p) for p in photos])
    assert sorted(outcomes) == ["ok"] * 3 + ["refund_exceeds_paid"] * 3
    assert scalar("SELECT COUNT(*) FROM aftersale_cases WHERE order_id = :o", o=order_id) == 3
    pick_up(order_id)
    assert audit_violations() == []


def test_the_audit_names_a_case_out_of_step_with_its_refund(flow: Flow) -> None:
    leader = flow.leader()
    wave = flow.wave(leader)
    member, order_id = flow.order(leader, wave)
    flow.settle()
    arrive(order_id)
    pick_up(order_id)
    case = flow.report(member, order_id, [{"item_id": wave["pear"], "quantity": 1}]).json()
    r = flow.c.post(
        f"/api/aftersales/{case['id']}/accept", headers={"Authorization": flow.op["Authorization"]}
    )
    assert r.status_code == 200, r.text
    assert audit_violations() == []
    execute("UPDATE aftersale_cases SET amount_refunded = 700 WHERE id = :c", c=case["id"])
    assert any(f"case {case['id']}: accepted, refunded 700" in v for v in audit_violations())
    execute("UPDATE aftersale_cases SET amount_refunded = 800 WHERE id = :c", c=case["id"])
    assert audit_violations() == []
    execute("UPDATE aftersale_cases SET status = 'open' WHERE id = :c", c=case["id"])
    assert any(f"case {case['id']}: open" in v for v in audit_violations())
