from datetime import timedelta

from tests.conftest import audit_violations, run_worker
from tests.pools.conftest import Waves
from tuangou.core import clock


def test_wave_confirms_at_cutoff_with_price_protection_and_refunds_below_moq(waves: Waves) -> None:
    apples, pears = waves.sku(title="苹果"), waves.sku(title="梨")
    leader = waves.leader()
    page = waves.publish(
        leader,
        [
            {"sku_id": apples, "price": 1000, "moq": 3, "stock": 100, "tiers": [[4, 900]]},
            {"sku_id": pears, "price": 800, "moq": 10, "stock": 100},
        ],
    )
    listing = page["listing"]["id"]
    apple_item, pear_item = (i["item_id"] for i in page["items"])
    a, b = waves.member(leader, "李阿姨"), waves.member(leader, "张大爷")
    first = waves.order(a, listing, {apple_item: 2, pear_item: 1}, remark="放门口")
    waves.order(b, listing, {apple_item: 2})
    page = waves.page(listing).json()
    assert [row["seq"] for row in page["chain"]] == [1, 2]
    assert page["chain"][0]["name"] == "李*姨"
    assert page["items"][0]["ordered"] == 4 and page["items"][0]["reached_moq"]
    clock.advance(timedelta(hours=4))
    run_worker()
    order = waves.c.get(
        f"/api/wave-orders/{first['order']['id']}", headers={"Authorization": a["Authorization"]}
    ).json()
    assert order["order"]["status"] == "confirmed"
    # apples at 900 (tier reached): 2 × 100 back; pears below MOQ: 800 back.
    assert order["order"]["refunded_amount"] == 200 + 800
    po = waves.c.get(
        f"/api/supplier/waves/{page['wave']['id']}/purchase-order", headers=waves.supplier
    ).json()
    assert [(i["title"].startswith("苹果"), i["quantity"]) for i in po["items"]] == [
        (True, 4),
        (False, 0),
    ]
    assert audit_violations() == []
