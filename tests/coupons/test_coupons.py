"""Coupons and the level discount at checkout, on both backends: one coupon on one order,
funding through the subsidy account, exact refunds, coupons given back, refusals that
change nothing, idempotent purchase, and the audit's witness."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import audit_violations, rows, scalar
from tests.coupons.world import HOURS_TO_CUTOFF, World, buy, coupon, key, order, world
from tests.pools.support import changed_tables, snapshot
from tuangou.core import clock
from tuangou.core.db import run_in_transaction
from tuangou.coupons import errors
from tuangou.coupons import service as coupons
from tuangou.orders import service as orders
from tuangou.points import errors as points_errors
from tuangou.points import service as points
from tuangou.pools import service as pools


def status_of(member_coupon_id: int) -> tuple[str, Any, Any]:
    status, order_id, expires = rows(
        "SELECT status, order_id, expires_at FROM member_coupons WHERE id = :i",
        i=member_coupon_id,
    )[0]
    return status, order_id, expires


def money(order_id: int) -> dict[str, int]:
    cols = (
        "list_amount",
        "level_discount",
        "coupon_discount",
        "amount",
        "paid_amount",
        "refunded_amount",
        "subsidy_amount",
    )
    got = rows(f"SELECT {', '.join(cols)} FROM orders WHERE id = :o", o=order_id)[0]
    return dict(zip(cols, (int(v) for v in got), strict=True))


def escrow(order_id: int) -> int:
    return int(
        scalar(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger_entries"
            " WHERE account = 'escrow' AND order_id = :o",
            o=order_id,
        )
    )


def test_two_concurrent_orders_with_one_coupon_succeed_once(db: str) -> None:
    w = world(1)
    (m,) = w.members
    mine = buy(m, coupon())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def place() -> None:
        barrier.wait()
        try:
            order(w, m, 3, mine, pay=False)
            outcomes.append("ok")
        except errors.Used:
            outcomes.append("used")

    threads = [threading.Thread(target=place) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "used"]
    assert int(scalar("SELECT COUNT(*) FROM orders WHERE coupon_id = :c", c=mine)) == 1
    assert status_of(mine)[0] == "used"
    assert audit_violations() == []


def test_the_discounts_are_funded_by_the_subsidy_and_refunds_split_exactly(db: str) -> None:
    w = world(2)
    a, b = w.members
    # Member a is 好邻居 (50 bps off) and holds a 15% coupon capped at ¥2.
    run_in_transaction(
        lambda s: points.award(
            s, user_id=a.user_id, reason="review", key="seed-exp", points=300, experience=300
        )
    )
    mine = buy(a, coupon(form="percent", percent_bps=1500, cap=200, min_spend=0, amount=0))
    oid = order(w, a, 3, mine)
    got = money(oid)
    # Level first: 50 bps of 3000 = 15; then the coupon on 2985: 15% = 448, capped at 200.
    assert (got["list_amount"], got["level_discount"], got["coupon_discount"]) == (3000, 15, 200)
    assert got["amount"] == got["paid_amount"] == 2785
    assert escrow(oid) == 3000  # as if the full price had been paid
    # Two more units from b: 5 in all, the 900 tier; price protection of 3 × 100 for a.
    order(w, b, 2, None)
    clock.advance(HOURS_TO_CUTOFF)
    assert pools.settle_wave(w.wave_id) == "settled"
    # Protection 300 at the price before discounts: the discounts' share is
    # floor(300 × 215 / 3000) = 21, the member's 279.
    assert rows(
        "SELECT reason, amount, discount_amount FROM refunds WHERE order_id = :o", o=oid
    ) == [("price_protection", 279, 21)]

    # A refund of one unit (900 at the price reached), as an after-sale refund makes it.
    def after_sale(session: Any) -> None:
        o = orders.get(session, oid, lock=True)
        orders.refund(session, o, amount=900, reason="manual", key="manual:part")

    run_in_transaction(after_sale)
    # Cumulative: floor(1200 × 215 / 3000) = 86 for the discounts, so 65 now, 835 to a.
    assert rows(
        "SELECT amount, discount_amount FROM refunds WHERE order_id = :o ORDER BY id", o=oid
    ) == [(279, 21), (835, 65)]
    after = money(oid)
    assert after["refunded_amount"] == 279 + 835
    assert escrow(oid) == 3000 - 1200  # two units at 900 remain
    assert after["paid_amount"] - after["refunded_amount"] + 215 - 86 == 1800
    assert audit_violations() == []


@pytest.mark.parametrize("late", [False, True])
def test_a_full_refund_gives_the_coupon_back_unless_it_expired(db: str, late: bool) -> None:
    w = world(1, moq=50)  # the item will miss its MOQ: everyone is refunded in full
    (m,) = w.members
    mine = buy(m, coupon(valid_days=1))
    _, _, expires = status_of(mine)
    oid = order(w, m, 3, mine)
    assert status_of(mine)[:2] == ("used", oid)
    if late:
        clock.advance(timedelta(days=1, hours=1))
    else:
        clock.advance(HOURS_TO_CUTOFF)
    assert pools.settle_wave(w.wave_id) == "settled"
    got = money(oid)
    assert got["refunded_amount"] == got["paid_amount"] == 2700
    assert escrow(oid) == 0
    status, on_order, still = status_of(mine)
    assert (status, on_order) == (("expired", None) if late else ("available", None))
    assert str(still)[:19] == str(expires)[:19]  # the same expiry
    assert audit_violations() == []


def test_a_released_unpaid_order_gives_the_coupon_back(db: str) -> None:
    w = world(1)
    (m,) = w.members
    mine = buy(m, coupon())
    oid = order(w, m, 3, mine, pay=False)
    assert status_of(mine)[0] == "used"
    run_in_transaction(lambda s: orders.cancel(s, user_id=m.user_id, order_id=oid))
    assert status_of(mine)[:2] == ("available", None)
    # ...and it applies again.
    again = order(w, m, 3, mine)
    assert money(again)["coupon_discount"] == 300
    assert audit_violations() == []


def test_refusals_change_nothing(db: str) -> None:
    w = world(2)
    a, b = w.members
    flash_only = buy(a, coupon(kinds=("flash",)))
    big = buy(a, coupon(min_spend=5000))
    soon = buy(a, coupon(valid_days=None, valid_until=clock.now() + timedelta(hours=1)))
    used = buy(a, coupon())
    order(w, a, 3, used)
    sold_out = coupon(stock=0)
    before = snapshot()
    for coupon_id, quantity, refusal in (
        (flash_only, 3, errors.NotApplicable),
        (big, 3, errors.NotApplicable),
        (used, 3, errors.Used),
    ):
        with pytest.raises(refusal):
            order(w, a, quantity, coupon_id)
    with pytest.raises(errors.CouponNotFound):
        order(w, b, 3, flash_only)  # not b's
    with pytest.raises(errors.SoldOut):
        buy(b, sold_out)
    assert changed_tables(before, snapshot()) == []
    clock.advance(timedelta(hours=1, minutes=1))
    before = snapshot()
    with pytest.raises(errors.Expired):
        order(w, a, 3, soon)
    assert changed_tables(before, snapshot()) == []
    assert run_in_transaction(lambda s: coupons.shown_status(coupons.get_mine(s, a.user_id, soon)))
    assert [r[0] for r in rows("SELECT status FROM member_coupons WHERE id = :i", i=soon)] == [
        "available"
    ]


def test_buying_with_points_is_idempotent_and_guarded(db: str) -> None:
    w = world(1, balance=250)
    (m,) = w.members
    cid = coupon(points_price=100, per_member_limit=2, stock=10)
    k = key()
    first = buy(m, cid, k)
    assert buy(m, cid, k) == first  # a retry buys once
    assert run_in_transaction(lambda s: points.balance_of(s, m.user_id)) == 150
    second = buy(m, cid)
    assert second != first
    with pytest.raises(errors.LimitReached):
        buy(m, cid)
    other = coupon(points_price=100)
    with pytest.raises(points_errors.NotEnoughPoints):
        buy(m, other)
    assert run_in_transaction(lambda s: points.balance_of(s, m.user_id)) == 50
    assert int(scalar("SELECT stock FROM coupons WHERE id = :c", c=cid)) == 8
    assert int(scalar("SELECT stock FROM coupons WHERE id = :c", c=other)) == 100
    assert audit_violations() == []


def test_the_audit_catches_a_tampered_discount(db: str) -> None:
    w: World = world(1)
    (m,) = w.members
    oid = order(w, m, 3, buy(m, coupon()))
    assert audit_violations() == []
    from tests.pools.support import execute

    execute(
        "UPDATE orders SET coupon_discount = coupon_discount + 1, amount = amount - 1"
        " WHERE id = :o",
        o=oid,
    )
    found = audit_violations()
    assert any(f"order {oid}: discounts" in v for v in found), found
