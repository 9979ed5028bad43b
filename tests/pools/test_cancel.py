"""A member cancels a wave order before the cut-off: a full refund through the ledger, the
units out of the MOQ counts, the limits back, out of the chain list; idempotent; refused after
the cut-off or once settled; and exactly one outcome against the cut-off settlement."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import _auth, audit_violations, run_worker
from tests.pools.conftest import Waves
from tests.pools.support import changed_tables, problem, rows, scalar, snapshot
from tuangou.core import clock
from tuangou.core.db import unit_of_work
from tuangou.pools import service as pools
from tuangou.pools.service import cancelling, settlement


def cancel(waves: Waves, member: dict[str, str], order_id: int) -> Any:
    return waves.c.post(f"/api/wave-orders/{order_id}/cancel", headers=_auth(member))


def item(item_id: int) -> tuple[int, int]:
    (row,) = rows("SELECT sold, held FROM wave_items WHERE id = :i", i=item_id)
    return int(row[0]), int(row[1])


def escrow(order_id: int) -> int:
    return int(
        scalar(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger_entries"
            " WHERE account = 'escrow' AND order_id = :o",
            o=order_id,
        )
    )


def one_wave(waves: Waves, moq: int = 2, limit: int = 3) -> dict[str, Any]:
    apples = waves.sku(title="苹果")
    leader = waves.leader()
    page = waves.publish(
        leader,
        [{"sku_id": apples, "price": 1000, "moq": moq, "stock": 100, "per_member_limit": limit}],
    )
    return {
        "leader": leader,
        "wave_id": page["wave"]["id"],
        "listing": page["listing"]["id"],
        "item": page["items"][0]["item_id"],
    }


def test_a_paid_order_cancelled_before_the_cutoff_is_refunded_in_full(waves: Waves) -> None:
    w = one_wave(waves)
    a, b, c = (waves.member(w["leader"], n) for n in ("甲", "乙", "丙"))
    first = waves.order(a, w["listing"], {w["item"]: 1})["order"]["id"]
    mine = waves.order(b, w["listing"], {w["item"]: 3})["order"]["id"]
    assert item(w["item"]) == (4, 0)
    assert escrow(mine) == 3000

    r = cancel(waves, b, mine)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["order"]["status"] == "refunded"
    assert body["order"]["refunded_amount"] == 3000
    assert body["wave_order"]["seq"] is None
    assert [line["status"] for line in body["lines"]] == ["refunded"]
    assert rows("SELECT reason, amount FROM refunds WHERE order_id = :o", o=mine) == [
        ("cancelled_by_member", 3000)
    ]
    assert escrow(mine) == 0  # the escrow went back towards the member
    assert item(w["item"]) == (1, 0)  # the MOQ counts without it
    # Out of the chain list; the others keep their numbers, and a number is never reused.
    chain = waves.page(w["listing"]).json()["chain"]
    assert [row["seq"] for row in chain] == [1]
    again = waves.order(b, w["listing"], {w["item"]: 3})  # the whole limit is back
    later = waves.order(c, w["listing"], {w["item"]: 1})
    assert [row["seq"] for row in waves.page(w["listing"]).json()["chain"]] == [1, 3, 4]
    assert again["order"]["id"] != mine and later["order"]["id"] != first
    # The member is told, once, in the inbox.
    run_worker()
    inbox = waves.c.get("/api/notifications", headers=_auth(b)).json()["items"]
    refunds = [n for n in inbox if n["kind"] == "refund.created" and n["data"]["order_id"] == mine]
    assert len(refunds) == 1 and "¥30.00" in refunds[0]["body"]
    assert audit_violations() == []


def test_cancelling_twice_refunds_once(waves: Waves) -> None:
    w = one_wave(waves)
    a = waves.member(w["leader"])
    order_id = waves.order(a, w["listing"], {w["item"]: 2})["order"]["id"]
    assert cancel(waves, a, order_id).status_code == 200
    before = snapshot()
    r = cancel(waves, a, order_id)
    assert r.status_code == 200, r.text
    assert r.json()["order"]["status"] == "refunded"
    assert changed_tables(before, snapshot()) == []
    # Even after the cut-off, a retry answers the same.
    clock.advance(timedelta(hours=3, seconds=1))
    assert cancel(waves, a, order_id).status_code == 200
    assert scalar("SELECT COUNT(*) FROM refunds WHERE order_id = :o", o=order_id) == 1


def test_an_unpaid_order_is_released(waves: Waves) -> None:
    w = one_wave(waves)
    a = waves.member(w["leader"])
    order_id = waves.order(a, w["listing"], {w["item"]: 2}, pay=False)["order"]["id"]
    assert item(w["item"]) == (0, 2)
    r = cancel(waves, a, order_id)
    assert r.status_code == 200, r.text
    assert r.json()["order"]["status"] == "cancelled"
    assert item(w["item"]) == (0, 0)
    assert scalar("SELECT COUNT(*) FROM refunds WHERE order_id = :o", o=order_id) == 0


def test_after_the_cutoff_or_once_settled_the_cancel_is_refused(waves: Waves) -> None:
    w = one_wave(waves, moq=1)
    a = waves.member(w["leader"])
    order_id = waves.order(a, w["listing"], {w["item"]: 2})["order"]["id"]
    clock.advance(timedelta(hours=3, seconds=1))
    before = snapshot()
    problem(cancel(waves, a, order_id), 409, "cancel_too_late")
    assert changed_tables(before, snapshot()) == []
    run_worker()  # settles: the order is confirmed
    before = snapshot()
    problem(cancel(waves, a, order_id), 409, "cancel_too_late")
    assert changed_tables(before, snapshot()) == []


def test_nobody_else_may_cancel_it(waves: Waves) -> None:
    w = one_wave(waves)
    a, b = waves.member(w["leader"], "甲"), waves.member(w["leader"], "乙")
    order_id = waves.order(a, w["listing"], {w["item"]: 1})["order"]["id"]
    before = snapshot()
    problem(cancel(waves, b, order_id), 404, "order_not_found")
    problem(cancel(waves, w["leader"], order_id), 404, "order_not_found")
    assert changed_tables(before, snapshot()) == []


# ---------------------------------------------------------------- against the settlement


def _in_thread(work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = work()
        except Exception as exc:  # the outcome is checked by the test
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _cancel_in_tx(user_id: int, order_id: int) -> pools.Cancelled:
    with unit_of_work() as session:
        return pools.cancel_order(session, user_id=user_id, order_id=order_id)


def _user_id(order_id: int) -> int:
    return int(scalar("SELECT user_id FROM orders WHERE id = :o", o=order_id))


def test_a_cancel_holding_the_wave_is_counted_by_the_settlement(
    waves: Waves, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel takes the wave first; the cut-off passes and the settlement starts while
    the cancel is still running: the settlement waits, then counts without its units (the
    item falls below its MOQ and the other order is refunded as such)."""
    w = one_wave(waves, moq=3)
    a, b = waves.member(w["leader"], "甲"), waves.member(w["leader"], "乙")
    kept = waves.order(a, w["listing"], {w["item"]: 1})["order"]["id"]
    gone = waves.order(b, w["listing"], {w["item"]: 2})["order"]["id"]
    held, go_on = threading.Event(), threading.Event()
    hold = cancelling._hold_wave

    def hold_then_wait(session: Any, wave_id: int) -> bool:
        took = hold(session, wave_id)
        held.set()
        assert go_on.wait(60)
        return took

    monkeypatch.setattr(cancelling, "_hold_wave", hold_then_wait)
    canceller, cancelled = _in_thread(lambda: _cancel_in_tx(_user_id(gone), gone))
    assert held.wait(60)
    clock.advance(timedelta(hours=3, seconds=1))
    settler, settled = _in_thread(lambda: pools.settle_wave(w["wave_id"]))
    time.sleep(0.3)  # let the settlement reach the wave's row (it waits there)
    go_on.set()
    canceller.join(60)
    settler.join(60)
    assert "error" not in cancelled, cancelled
    assert "error" not in settled, settled
    assert cancelled["value"].refunded == 2000
    statuses = dict(rows("SELECT id, status FROM orders WHERE id IN (:a, :b)", a=kept, b=gone))
    assert statuses == {kept: "refunded", gone: "refunded"}
    reasons = rows("SELECT order_id, reason FROM refunds ORDER BY order_id")
    assert sorted(reasons) == sorted([(kept, "moq_not_met"), (gone, "cancelled_by_member")])
    assert scalar("SELECT status FROM wave_items WHERE id = :i", i=w["item"]) == "cancelled"
    assert audit_violations() == []


def test_a_settlement_holding_the_wave_refuses_the_last_second_cancel(
    waves: Waves, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settlement has moved the wave to settling and not committed yet; a cancel whose
    clock still reads before the cut-off waits for it, then is refused: the order settles."""
    w = one_wave(waves, moq=1)
    a = waves.member(w["leader"])
    order_id = waves.order(a, w["listing"], {w["item"]: 2})["order"]["id"]
    before_cutoff = clock.now()
    started, go_on = threading.Event(), threading.Event()
    settle_item = settlement.rules.settle_item

    def settle_then_wait(**kw: Any) -> Any:
        started.set()
        assert go_on.wait(60)
        return settle_item(**kw)

    monkeypatch.setattr(
        settlement,
        "rules",
        SimpleNamespace(**{**vars(settlement.rules), "settle_item": settle_then_wait}),
    )
    monkeypatch.setattr(cancelling, "clock", SimpleNamespace(now=lambda: before_cutoff))
    clock.advance(timedelta(hours=3, seconds=1))
    settler, settled = _in_thread(lambda: pools.settle_wave(w["wave_id"]))
    assert started.wait(60)
    canceller, cancelled = _in_thread(lambda: _cancel_in_tx(_user_id(order_id), order_id))
    time.sleep(0.3)  # let the cancel reach the wave's row (it waits there)
    go_on.set()
    settler.join(60)
    canceller.join(60)
    assert settled.get("value") == "settled", settled
    assert type(cancelled.get("error")).__name__ == "CancelTooLate", cancelled
    assert scalar("SELECT status FROM orders WHERE id = :o", o=order_id) == "confirmed"
    assert scalar("SELECT COUNT(*) FROM refunds WHERE order_id = :o", o=order_id) == 0
    assert audit_violations() == []
