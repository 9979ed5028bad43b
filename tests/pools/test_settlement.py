"""Cut-off settlement: exactly once, MOQ refunds with the units back, price protection,
unpaid orders released, and payments that arrive too late refunded."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from tests.conftest import _auth, audit_violations, run_worker
from tests.pools.conftest import Waves
from tests.pools.support import changed_tables, problem, rows, scalar, snapshot
from tuangou.core import clock
from tuangou.pools import service as pools
from tuangou.pools import tasks as pool_tasks


def order_view(waves: Waves, order_id: int) -> dict[str, Any]:
    r = waves.c.get(f"/api/wave-orders/{order_id}", headers=waves.op)
    assert r.status_code == 200, r.text
    return dict(r.json())


def refunds(order_id: int) -> list[tuple[str, int]]:
    return [
        (reason, amount)
        for reason, amount in rows(
            "SELECT reason, amount FROM refunds WHERE order_id = :o ORDER BY id", o=order_id
        )
    ]


def test_a_wave_settles_exactly_once_however_often_the_worker_runs(waves: Waves) -> None:
    apples, pears = waves.sku(title="苹果"), waves.sku(title="梨")
    leader = waves.leader()
    page = waves.publish(
        leader,
        [
            {"sku_id": apples, "price": 1000, "moq": 3, "stock": 100, "tiers": [[4, 900]]},
            {"sku_id": pears, "price": 800, "moq": 10, "stock": 100},
        ],
    )
    wave_id, listing = page["wave"]["id"], page["listing"]["id"]
    apple, pear = (i["item_id"] for i in page["items"])
    placed = [
        waves.order(waves.member(leader, f"邻居{n}"), listing, items)
        for n, items in enumerate([{apple: 2, pear: 1}, {apple: 2}, {pear: 2}])
    ]
    ids = [p["order"]["id"] for p in placed]
    clock.advance(timedelta(hours=3, seconds=1))
    done = run_worker()
    assert done["settle waves at cut-off"] == 1
    after_first = snapshot()

    # Again: the worker, settle_wave itself, and the due list have nothing left to do.
    assert run_worker()["settle waves at cut-off"] == 0
    assert pools.settle_wave(wave_id) is None
    assert pool_tasks.settle_due() == 0
    assert changed_tables(after_first, snapshot()) == []

    assert [order_view(waves, i)["order"]["status"] for i in ids] == [
        "confirmed",
        "confirmed",
        "refunded",
    ]
    assert refunds(ids[0]) == [("moq_not_met", 800), ("price_protection", 200)]
    assert refunds(ids[1]) == [("price_protection", 200)]
    assert refunds(ids[2]) == [("moq_not_met", 1600)]
    # One "已成团" message per confirmed order, none for the refunded one.
    confirmed = Counter(
        json_order_id(payload)
        for (payload,) in rows("SELECT payload FROM outbox_events WHERE topic = 'wave.confirmed'")
    )
    assert confirmed == Counter({ids[0]: 1, ids[1]: 1})
    wave = waves.page(listing).json()["wave"]
    assert wave["status"] == "settled" and not wave["open"]
    # The SKUs' books: the 4 apples sold left the apples' stock; both allotments are free.
    skus = {
        sku: (stock, allocated)
        for sku, stock, allocated in rows("SELECT id, stock, allocated FROM skus")
    }
    assert skus[apples] == (10_000 - 4, 0) and skus[pears] == (10_000, 0)
    assert audit_violations() == []


def json_order_id(payload: Any) -> int:
    import json

    data = payload if isinstance(payload, dict) else json.loads(payload)
    return int(data["order_id"])


def test_an_item_below_its_moq_is_refunded_in_full_and_its_units_go_back(waves: Waves) -> None:
    pears = waves.sku(title="梨")
    leader = waves.leader()
    page = waves.publish(
        leader,
        [{"sku_id": pears, "price": 800, "moq": 10, "stock": 20, "per_member_limit": 5}],
    )
    wave_id, listing = page["wave"]["id"], page["listing"]["id"]
    pear = page["items"][0]["item_id"]
    aunt, uncle = waves.member(leader, "李阿姨"), waves.member(leader, "张大爷")
    a = waves.order(aunt, listing, {pear: 5})
    b = waves.order(uncle, listing, {pear: 4})
    assert scalar("SELECT sold FROM wave_items WHERE id = :i", i=pear) == 9
    clock.advance(timedelta(hours=3, seconds=1))
    run_worker()

    for placed, paid in ((a, 4000), (b, 3200)):
        view = order_view(waves, placed["order"]["id"])
        assert view["order"]["status"] == "refunded"
        assert view["order"]["refunded_amount"] == paid
        assert view["lines"][0]["status"] == "refunded"
        assert refunds(placed["order"]["id"]) == [("moq_not_met", paid)]
    item = waves.page(listing).json()["items"][0]
    assert (item["status"], item["ordered"], item["held"], item["available"]) == (
        "cancelled",
        0,
        0,
        20,
    )
    # The members' limits are free again; the supplier's purchase order is empty.
    assert rows("SELECT SUM(quantity) FROM wave_usage WHERE item_id = :i", i=pear) == [(0,)]
    po = waves.c.get(f"/api/supplier/waves/{wave_id}/purchase-order", headers=waves.supplier)
    assert [i["quantity"] for i in po.json()["items"]] == [0]
    assert po.json()["pickup_points"] == []
    # The money went back: escrow holds nothing for these orders, the refunds are sent.
    assert (
        scalar("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE account = 'escrow'") == 0
    )
    assert rows("SELECT DISTINCT status FROM refunds") == [("succeeded",)]
    assert audit_violations() == []


def test_tiers_give_every_buyer_the_price_reached(waves: Waves) -> None:
    apples, eggs = waves.sku(title="苹果"), waves.sku(title="鸡蛋")
    leader = waves.leader()
    page = waves.publish(
        leader,
        [
            {"sku_id": apples, "price": 1000, "moq": 2, "stock": 100,
             "tiers": [[5, 950], [8, 900], [20, 700]]},
            {"sku_id": eggs, "price": 4590, "moq": 1, "stock": 100, "tiers": [[3, 4290]]},
        ],
    )  # fmt: skip
    listing = page["listing"]["id"]
    apple, egg = (i["item_id"] for i in page["items"])
    # 8 apples exactly (the 900 tier, not 700), 2 eggs (below the 4290 tier).
    quantities = [{apple: 3, egg: 1}, {apple: 4}, {apple: 1, egg: 1}]
    placed = [
        waves.order(waves.member(leader, f"邻居{n}"), listing, q) for n, q in enumerate(quantities)
    ]
    clock.advance(timedelta(hours=3, seconds=1))
    run_worker()
    for q, p in zip(quantities, placed, strict=True):
        view = order_view(waves, p["order"]["id"])
        assert view["order"]["status"] == "confirmed"
        finals = {line["item_id"]: line["final_unit_price"] for line in view["lines"]}
        assert finals == {i: {apple: 900, egg: 4590}[i] for i in q}
        back = 100 * q.get(apple, 0)
        assert view["order"]["refunded_amount"] == back
        assert refunds(p["order"]["id"]) == [("price_protection", back)]
        assert view["order"]["paid_amount"] - back == sum(
            {apple: 900, egg: 4590}[i] * n for i, n in q.items()
        )
    items = {i["item_id"]: i for i in waves.page(listing).json()["items"]}
    assert (items[apple]["status"], items[apple]["final_unit_price"]) == ("confirmed", 900)
    assert (items[egg]["status"], items[egg]["final_unit_price"]) == ("confirmed", 4590)
    assert audit_violations() == []


def test_unpaid_orders_are_released_at_the_cutoff(waves: Waves) -> None:
    apples = waves.sku()
    leader = waves.leader()
    page = waves.publish(
        leader,
        [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 10}],
        cutoff_at=(clock.now() + timedelta(minutes=10)).isoformat() + "Z",
        hold_minutes=60,
    )
    wave_id, listing = page["wave"]["id"], page["listing"]["id"]
    apple = page["items"][0]["item_id"]
    paid = waves.order(waves.member(leader, "李阿姨"), listing, {apple: 2})
    uncle = waves.member(leader, "张大爷")
    unpaid = waves.order(uncle, listing, {apple: 3}, pay=False)
    # A second unpaid order: releasing several in one settlement keeps the lock order.
    aunt = waves.member(leader, "王阿姨")
    unpaid2 = waves.order(aunt, listing, {apple: 1}, pay=False)
    # The hold ends at the cut-off, not 60 minutes later.
    expires = scalar("SELECT expires_at FROM orders WHERE id = :o", o=unpaid["order"]["id"])
    cutoff = scalar("SELECT cutoff_at FROM waves WHERE id = :w", w=wave_id)
    assert str(expires)[:19] == str(cutoff)[:19]

    clock.advance(timedelta(minutes=10, seconds=1))
    assert pools.settle_wave(wave_id) == "settled"  # settlement releases it itself
    view = order_view(waves, unpaid["order"]["id"])
    assert view["order"]["status"] == "cancelled"
    assert scalar("SELECT close_reason FROM orders WHERE id = :o", o=unpaid["order"]["id"]) == (
        "wave_cutoff"
    )
    assert view["wave_order"]["seq"] is None
    assert order_view(waves, unpaid2["order"]["id"])["order"]["status"] == "cancelled"
    assert order_view(waves, paid["order"]["id"])["order"]["status"] == "confirmed"
    item = waves.page(listing).json()["items"][0]
    assert (item["ordered"], item["held"]) == (2, 0)
    # Paying it now is refused: the order is closed.
    before = snapshot()
    r = waves.c.post(f"/api/orders/{unpaid['order']['id']}/payments", headers=_auth(uncle))
    problem(r, 409, "order_not_payable")
    assert changed_tables(before, snapshot()) == []
    run_worker()
    assert audit_violations() == []


def test_a_payment_that_arrives_after_the_cutoff_is_refunded_as_late(waves: Waves) -> None:
    apples = waves.sku()
    leader = waves.leader()
    page = waves.publish(
        leader,
        [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 10}],
        cutoff_at=(clock.now() + timedelta(minutes=10)).isoformat() + "Z",
        hold_minutes=60,
    )
    listing = page["listing"]["id"]
    apple = page["items"][0]["item_id"]
    on_time = waves.order(waves.member(leader, "李阿姨"), listing, {apple: 1})
    late = waves.order(waves.member(leader, "张大爷"), listing, {apple: 2}, pay=False)
    # The member pays at the gateway, but its callback is lost; the cut-off passes; the
    # worker then learns of the payment by asking the gateway.
    waves.api.pay(late["pay_url"], outcome="timeout")
    assert order_view(waves, late["order"]["id"])["order"]["status"] == "pending_payment"
    clock.advance(timedelta(minutes=11))
    run_worker()

    view = order_view(waves, late["order"]["id"])
    assert view["order"]["status"] == "cancelled"
    assert (view["order"]["paid_amount"], view["order"]["refunded_amount"]) == (2000, 2000)
    assert refunds(late["order"]["id"]) == [("late_payment", 2000)]
    assert view["wave_order"]["seq"] is None
    item = waves.page(listing).json()["items"][0]
    assert (item["ordered"], item["held"], item["status"]) == (1, 0, "confirmed")
    assert order_view(waves, on_time["order"]["id"])["order"]["status"] == "confirmed"
    page = waves.page(listing).json()
    assert [row["seq"] for row in page["chain"]] == [1]
    assert audit_violations() == []


def test_a_released_wave_order_leaves_the_members_team_buy_limit_alone(waves: Waves) -> None:
    """A wave order's id space is its wave's: releasing it must not touch the per-member
    count of a team-buy campaign that happens to have the same id."""
    campaign = waves.api.campaign(waves.op, waves.supplier_id, per_member_limit=1)
    apples = waves.sku()
    leader = waves.leader()
    member = waves.member(leader, "李阿姨")
    # Make the wave's id equal to the campaign's.
    wave_id = 0
    while wave_id < campaign["id"]:
        page = waves.publish(leader, [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 10}])
        wave_id = page["wave"]["id"]
    assert wave_id == campaign["id"]
    waves.api.open(member, campaign["id"], quantity=1)
    used = scalar(
        "SELECT quantity FROM campaign_usage WHERE campaign_id = :c AND user_id = :u",
        c=campaign["id"],
        u=int(member["user_id"]),
    )
    assert used == 1
    waves.order(member, page["listing"]["id"], {page["items"][0]["item_id"]: 3}, pay=False)
    clock.advance(timedelta(minutes=16))  # the unpaid hold runs out
    done = run_worker()
    assert done["release unpaid holds"] == 1
    assert (
        scalar(
            "SELECT quantity FROM campaign_usage WHERE campaign_id = :c AND user_id = :u",
            c=campaign["id"],
            u=int(member["user_id"]),
        )
        == 1
    )
    # The member's limit in the team buy still counts the unit bought.
    r = waves.c.post(
        f"/api/campaigns/{campaign['id']}/teams", json={"quantity": 1}, headers=_auth(member)
    )
    problem(r, 409, "limit_reached")
    assert audit_violations() == []
