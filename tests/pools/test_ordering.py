"""Joining the chain (跟团): refusals change nothing; the chain list and MOQ progress."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.conftest import _auth, audit_violations, run_worker
from tests.pools.conftest import Waves
from tests.pools.support import changed_tables, problem, rows, scalar, snapshot
from tuangou.core import clock


def post_order(
    waves: Waves, who: dict[str, str], listing: int, items: dict[int, int], share: str = ""
) -> Any:
    return waves.c.post(
        f"/api/listings/{listing}/orders" + (f"?share={share}" if share else ""),
        json={"items": {str(k): v for k, v in items.items()}},
        headers=_auth(who),
    )


def refused(waves: Waves, who: dict[str, str], listing: int, items: dict[int, int],
            status: int, code: str, share: str = "") -> None:  # fmt: skip
    before = snapshot()
    problem(post_order(waves, who, listing, items, share), status, code)
    assert changed_tables(before, snapshot()) == []


def test_order_refusals_change_nothing(waves: Waves) -> None:
    apples, pears = waves.sku(title="苹果"), waves.sku(title="梨")
    leader = waves.leader()
    page = waves.publish(
        leader,
        [
            {"sku_id": apples, "price": 1000, "moq": 1, "stock": 5, "per_member_limit": 3},
            {"sku_id": pears, "price": 800, "moq": 1, "stock": 100, "per_member_limit": 10},
        ],
    )
    listing = page["listing"]["id"]
    apple, pear = (i["item_id"] for i in page["items"])
    aunt, uncle = waves.member(leader, "李阿姨"), waves.member(leader, "张大爷")
    stranger = waves.api.signup("路人")

    # A stranger does not know of the wave (404, as for none); an invitee (with the share
    # link) is told to join the community first.
    refused(waves, stranger, listing, {apple: 1}, 404, "listing_not_found")
    token = page["listing"]["share_path"].partition("?share=")[2]
    refused(waves, stranger, listing, {apple: 1}, 403, "not_community_member", share=token)
    # Quantities: none, zero, negative; an item that is not in the wave.
    refused(waves, aunt, listing, {apple: 0}, 422, "below_limit")
    refused(waves, aunt, listing, {apple: 0, pear: 0}, 422, "below_limit")
    refused(waves, aunt, listing, {apple: -1, pear: 2}, 422, "below_limit")
    refused(waves, aunt, listing, {999_999: 1}, 422, "invalid_input")
    # Above the per-member limit: in one order, and across two.
    refused(waves, aunt, listing, {apple: 4}, 409, "above_limit")
    waves.order(aunt, listing, {apple: 2})
    refused(waves, aunt, listing, {apple: 2}, 409, "above_limit")
    # Sold out: the last units are held (unpaid) or sold. An order with pears too takes
    # none of the pears either (one transaction).
    waves.order(uncle, listing, {apple: 2}, pay=False)
    waves.order(waves.member(leader, "陈小姐"), listing, {apple: 1})
    refused(waves, aunt, listing, {pear: 1, apple: 1}, 409, "sold_out")
    refused(waves, waves.member(leader, "刘婷"), listing, {pear: 2, apple: 1}, 409, "sold_out")
    progress = waves.page(listing).json()["items"]
    assert (progress[0]["ordered"], progress[0]["held"], progress[0]["available"]) == (3, 2, 0)
    assert progress[1]["ordered"] == progress[1]["held"] == 0

    # Past the cut-off, before the worker has settled: closed.
    clock.advance(timedelta(hours=3))
    refused(waves, aunt, listing, {pear: 1}, 409, "wave_closed")
    run_worker()
    refused(waves, aunt, listing, {pear: 1}, 409, "wave_closed")
    assert audit_violations() == []


def test_the_chain_lists_paid_orders_in_payment_order_with_masked_names(waves: Waves) -> None:
    apples, pears = waves.sku(title="苹果"), waves.sku(title="梨")
    leader = waves.leader()
    page = waves.publish(
        leader,
        [
            {"sku_id": apples, "price": 1000, "moq": 1, "stock": 50, "title": "苹果"},
            {"sku_id": pears, "price": 800, "moq": 1, "stock": 50, "title": "梨"},
        ],
    )
    listing = page["listing"]["id"]
    apple, pear = (i["item_id"] for i in page["items"])
    aunt, uncle, miss = (waves.member(leader, n) for n in ("李阿姨", "张大爷", "陈小姐"))
    # The aunt orders first but pays after the uncle: the chain follows the payments.
    first = waves.order(aunt, listing, {apple: 2, pear: 1}, pay=False)
    second = waves.order(uncle, listing, {pear: 3})
    waves.order(miss, listing, {apple: 1}, pay=False)  # never pays: not in the chain
    waves.api.pay(first["pay_url"])

    page = waves.page(listing).json()
    chain = page["chain"]
    assert [(row["seq"], row["name"]) for row in chain] == [(1, "张*爷"), (2, "李*姨")]
    assert chain[1]["items"] == [{"title": "苹果", "quantity": 2}, {"title": "梨", "quantity": 1}]
    assert chain[0]["items"] == [{"title": "梨", "quantity": 3}]
    assert all(row["paid_at"] for row in chain)
    # The member sees their number; nobody's phone appears on the public page.
    mine = waves.c.get(f"/api/wave-orders/{first['order']['id']}", headers=_auth(aunt)).json()
    assert mine["wave_order"]["seq"] == 2
    other = waves.c.get(f"/api/wave-orders/{second['order']['id']}", headers=_auth(uncle)).json()
    assert other["wave_order"]["seq"] == 1
    text = json.dumps(page, ensure_ascii=False)
    for (phone,) in rows("SELECT phone FROM users"):
        assert phone not in text
    assert "李阿姨" not in text and "张大爷" not in text
    # Another member cannot read someone else's order.
    problem(
        waves.c.get(f"/api/wave-orders/{first['order']['id']}", headers=_auth(miss)),
        404,
        "order_not_found",
    )


def test_moq_progress_counts_paid_units_and_shows_the_next_tier(waves: Waves) -> None:
    apples = waves.sku()
    leader = waves.leader()
    page = waves.publish(
        leader,
        [{"sku_id": apples, "price": 1000, "moq": 5, "stock": 50,
          "tiers": [[5, 900], [10, 800]]}],
    )  # fmt: skip
    listing = page["listing"]["id"]
    apple = page["items"][0]["item_id"]
    item = page["items"][0]
    assert (item["ordered"], item["reached_moq"], item["current_unit_price"]) == (0, False, 1000)
    assert item["next_tier"] == {"quantity": 5, "unit_price": 900, "more_needed": 5}

    members = [waves.member(leader, f"邻居{i}") for i in range(4)]
    waves.order(members[0], listing, {apple: 3})
    waves.order(members[1], listing, {apple: 1}, pay=False)
    item = waves.page(listing).json()["items"][0]
    # Unpaid units are held, not counted towards the MOQ.
    assert (item["ordered"], item["held"], item["available"]) == (3, 1, 46)
    assert not item["reached_moq"] and item["next_tier"]["more_needed"] == 2
    waves.order(members[2], listing, {apple: 2})
    item = waves.page(listing).json()["items"][0]
    assert (item["ordered"], item["reached_moq"], item["current_unit_price"]) == (5, True, 900)
    assert item["next_tier"] == {"quantity": 10, "unit_price": 800, "more_needed": 5}
    waves.order(members[3], listing, {apple: 5})
    item = waves.page(listing).json()["items"][0]
    assert (item["ordered"], item["current_unit_price"], item["next_tier"]) == (10, 800, None)
    # The leader's Today screen shows the same totals.
    mine = waves.c.get("/api/leader/waves", headers=_auth(leader)).json()
    assert mine[0]["items"][0]["ordered"] == 10
    assert scalar("SELECT sold FROM wave_items WHERE id = :i", i=apple) == 10


def test_an_order_that_the_cutoff_overtakes_is_refused_as_closed(waves: Waves, monkeypatch) -> None:
    """The cut-off passes while the order is being made (after the first check): refused
    as ``wave_closed``, and nothing of it remains."""
    from tuangou.orders import service as orders

    apples = waves.sku()
    leader = waves.leader()
    page = waves.publish(
        leader,
        [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 10}],
        cutoff_at=(clock.now() + timedelta(minutes=5)).isoformat() + "Z",
    )
    member = waves.member(leader)
    create_order = orders.create_order

    def slow_create_order(session: Any, **kw: Any) -> Any:
        order = create_order(session, **kw)
        clock.advance(timedelta(minutes=5))  # the cut-off instant passes right here
        return order

    monkeypatch.setattr(orders, "create_order", slow_create_order)
    refused(waves, member, page["listing"]["id"], {page["items"][0]["item_id"]: 1}, 409,
            "wave_closed")  # fmt: skip
