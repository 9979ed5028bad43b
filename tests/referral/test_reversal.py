"""A refund takes referral commission back in proportion, through the ledger: before and
after the after-sale window, after a withdrawal (a debt, never a negative balance), and
racing a withdrawal. Both backends."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from tests.conftest import _auth, run_worker, scalar
from tests.conftest import audit_violations as all_violations
from tests.referral.conftest import Ref, uid
from tuangou.core import clock
from tuangou.core.db import run_in_transaction


def audit_violations() -> list[str]:
    """The audit's findings but one: these refunds are made as an accepted after-sale case
    makes them, without the case."""
    return [v for v in all_violations() if "after-sale refund with no case" not in v]


def _chain(ref: Ref) -> tuple[dict[str, str], dict[str, str], int]:
    """a invited b, who invited c; c's order of 5 apples (5000) is completed: b earns 500,
    a 250."""
    a = ref.member("甲")
    b = ref.member("乙", invited_by=a)
    c = ref.member("丙", invited_by=b)
    order = ref.buy(c)
    ref.settle()
    ref.complete(order)
    assert ref.lines(order) == {1: (uid(b), 500, 0, 1000), 2: (uid(a), 250, 0, 500)}
    return a, b, order


def test_partial_then_full_refund_before_the_window(ref: Ref) -> None:
    a, b, order = _chain(ref)
    ref.refund(order, 1000, "part")  # a fifth
    assert ref.lines(order)[1][2] == 100 and ref.lines(order)[2][2] == 50
    assert ref.wallet(b)["frozen"] == 400
    ref.refund(order, 3333, "more")
    ref.refund(order, ref.kept(order), "rest")
    assert ref.lines(order)[1][2] == 500 and ref.lines(order)[2][2] == 250  # all, to the fen
    assert ref.wallet(b)["frozen"] == 0 and ref.wallet(a)["frozen"] == 0
    assert audit_violations() == []


def test_refund_after_the_window_and_after_a_withdrawal_leaves_a_debt(ref: Ref) -> None:
    _a, b, order = _chain(ref)
    clock.advance(timedelta(days=8))
    run_worker()
    assert ref.wallet(b)["available"] == 500
    ref.refund(order, 1000, "after-window")  # a fifth: 100 from what is available
    assert ref.wallet(b)["available"] == 400
    r = ref.withdraw(b, 400)
    assert r.status_code == 201, r.text
    ref.refund(order, ref.kept(order), "after-withdrawal")  # the rest: 400 more
    w = ref.wallet(b)
    assert (w["available"], w["withdrawing"], w["debt"]) == (0, 400, 400)
    assert ref.lines(order)[1][2] == 500
    assert audit_violations() == []
    # The debt is paid off first from the next commission that becomes available.
    c2 = ref.member("丁", invited_by=b)
    nxt = ref.buy(c2)
    ref.settle()
    ref.complete(nxt)
    clock.advance(timedelta(days=8))
    run_worker()
    w = ref.wallet(b)
    assert (w["available"], w["debt"]) == (100, 0)  # 500 earned, 400 owed
    # A rejected withdrawal comes back to the available balance.
    [pending] = ref.c.get("/api/me/referral/withdrawals", headers=_auth(b)).json()
    r = ref.c.post(
        f"/api/admin/withdrawals/{pending['id']}/reject",
        json={"reason": "账户信息不全"},
        headers=ref.op,
    )
    assert r.status_code == 200, r.text
    assert ref.wallet(b)["available"] == 500
    assert audit_violations() == []


def test_a_reversal_racing_a_withdrawal_leaves_nothing_negative(ref: Ref) -> None:
    _a, b, order = _chain(ref)
    clock.advance(timedelta(days=8))
    run_worker()
    from tuangou.commission import service as commission
    from tuangou.orders import service as orders
    from tuangou.referral import service as referral

    start = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def refund() -> None:
        def work(session: Any) -> None:
            order_row = orders.get(session, order, lock=True)
            amount = order_row.paid_amount - order_row.refunded_amount
            orders.refund_after_release(
                session,
                order_row,
                amount=amount,
                reason="after_sale",
                key="race",
                note="售后",
                reversal=commission.reversal_legs(session, order_row, amount),
            )

        start.wait()
        try:
            run_in_transaction(work)
            outcomes["refund"] = "ok"
        except Exception as exc:
            outcomes["refund"] = exc

    def withdraw() -> None:
        start.wait()
        try:
            run_in_transaction(lambda s: referral.request_withdrawal(s, user_id=uid(b), amount=500))
            outcomes["withdraw"] = "ok"
        except Exception as exc:
            outcomes["withdraw"] = exc

    threads = [threading.Thread(target=refund), threading.Thread(target=withdraw)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcomes["refund"] == "ok", outcomes
    w = ref.wallet(b)
    assert min(w.values()) >= 0
    assert w["available"] + w["withdrawing"] - w["debt"] == 0  # all 500 went back
    if outcomes["withdraw"] == "ok":
        assert (w["withdrawing"], w["debt"]) == (500, 500)
    else:
        assert (w["available"], w["debt"]) == (0, 0)
    assert (
        scalar(
            "SELECT COUNT(*) FROM referral_wallets WHERE available < 0 OR frozen < 0 OR debt < 0"
        )
        == 0
    )
    assert audit_violations() == []


def test_the_audit_catches_a_tampered_line(ref: Ref) -> None:
    _a, _b, order = _chain(ref)
    assert audit_violations() == []
    from sqlalchemy import text

    from tuangou.core.db import unit_of_work

    with unit_of_work() as s:
        s.execute(
            text("UPDATE referral_commissions SET amount = amount + 1 WHERE order_id = :o"),
            {"o": order},
        )
    found = audit_violations()
    assert any("referral commission" in v and "release paid" in v for v in found), found
