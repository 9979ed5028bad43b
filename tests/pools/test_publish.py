"""Publishing a wave and adopting a supplier's catalogue wave: every refusal names what is
wrong with a stable code (and the field), and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import _auth, audit_violations, run_worker
from tests.pools.conftest import Waves
from tests.pools.support import changed_tables, problem, snapshot
from tuangou.core import clock


def wave_body(leader: dict[str, Any], items: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return {
        "community_id": leader["community_id"],
        "pickup_point_id": leader["pickup_point_id"],
        "title": "明日达",
        "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
        "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
        "items": items,
        **kw,
    }


def refused(
    waves: Waves, headers: dict[str, str], body: dict[str, Any], status: int, code: str,
    field: str | None = None, url: str = "/api/leader/waves",
) -> None:  # fmt: skip
    before = snapshot()
    problem(waves.c.post(url, json=body, headers=headers), status, code, field)
    assert changed_tables(before, snapshot()) == []


def test_wave_settings_that_break_a_rule_are_refused_with_their_field(waves: Waves) -> None:
    apples, pears = waves.sku(title="苹果"), waves.sku(title="梨")
    other_supplier, _ = waves.api.supplier(waves.op, name="别家果园")
    r = waves.c.post(
        "/api/admin/products",
        json={"supplier_id": other_supplier, "title": "橙子"},
        headers=waves.op,
    )
    r = waves.c.post(
        f"/api/admin/products/{r.json()['id']}/skus",
        json={"name": "1份", "price": 900, "stock": 100},
        headers=waves.op,
    )
    oranges = r.json()["id"]
    leader = waves.leader()
    apple = {"sku_id": apples, "price": 1000, "moq": 5, "stock": 100}
    pear = {"sku_id": pears, "price": 800, "moq": 5, "stock": 100}
    me = _auth(leader)
    now = clock.now()
    cases: list[tuple[dict[str, Any], str]] = [
        # The cut-off must be ahead, and delivery cannot come before it.
        ({"cutoff_at": (now - timedelta(minutes=1)).isoformat() + "Z"}, "cutoff_at"),
        ({"cutoff_at": now.isoformat() + "Z"}, "cutoff_at"),
        (
            {
                "cutoff_at": (now + timedelta(days=3)).isoformat() + "Z",
                "delivery_date": (now + timedelta(days=1)).date().isoformat(),
            },
            "delivery_date",
        ),
        # One supplier per wave; each SKU once.
        ({"items": [apple, {"sku_id": oranges, "price": 900, "moq": 1, "stock": 10}]}, "items"),
        ({"items": [apple, {**apple}]}, "items"),
        # Tiers: quantities grow, prices strictly fall, all below the base price.
        ({"items": [{**apple, "tiers": [[10, 1000]]}]}, "items[0].tiers"),
        ({"items": [pear, {**apple, "tiers": [[10, 900], [20, 950]]}]}, "items[1].tiers"),
        ({"items": [{**apple, "tiers": [[10, 900], [10, 800]]}]}, "items[0].tiers"),
        ({"items": [{**apple, "tiers": [[10, 0]]}]}, "items[0].tiers"),
        # The stock must cover the MOQ.
        ({"items": [{**apple, "moq": 200}]}, "items[0].stock"),
        ({"title": "   "}, "title"),
    ]
    for override, field in cases:
        body = {**wave_body(leader, [apple]), **override}
        refused(waves, me, body, 422, "invalid_wave", field)
    # More than the SKU's stock in the catalogue.
    refused(waves, me, wave_body(leader, [{**apple, "stock": 20_000}]), 409, "insufficient_stock")
    # A malformed request is invalid input, not a rule.
    refused(waves, me, wave_body(leader, [{**apple, "price": 0}]), 422, "invalid_input")
    refused(waves, me, wave_body(leader, [apple], commission_bps=6000), 422, "invalid_input")
    # After all that, the same leader publishes a valid wave.
    page = waves.publish(leader, [{**apple, "tiers": [[10, 900], [20, 800]]}, pear])
    assert [i["moq"] for i in page["items"]] == [5, 5]
    assert page["wave"]["open"] and page["listing"]["orders"] == 0


def test_only_an_active_leader_publishes_to_their_own_community_and_point(waves: Waves) -> None:
    apples = waves.sku()
    leader, neighbour = waves.leader("王团长"), waves.leader("赵团长")
    member = waves.member(leader)
    item = [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 10}]

    refused(waves, _auth(member), wave_body(leader, item), 403, "not_a_leader")
    # Someone else's community, or someone else's pickup point.
    refused(waves, _auth(neighbour), wave_body(leader, item), 404, "community_not_found")
    body = wave_body(neighbour, item, pickup_point_id=leader["pickup_point_id"])
    refused(waves, _auth(neighbour), body, 404, "pickup_point_not_found")
    # An admin of another leader's community manages it, but does not publish to it.
    r = waves.c.post(
        f"/api/communities/invite/{leader['invite_code']}/join", headers=_auth(neighbour)
    )
    assert r.status_code in (200, 201), r.text
    r = waves.c.post(
        f"/api/leader/communities/{leader['community_id']}/admins",
        json={"user_id": int(neighbour["user_id"])},
        headers=_auth(leader),
    )
    assert r.status_code == 200, r.text
    body = wave_body(leader, item, pickup_point_id=neighbour["pickup_point_id"])
    refused(waves, _auth(neighbour), body, 403, "forbidden")

    # A paused leader cannot publish, until resumed.
    r = waves.c.post(
        f"/api/admin/leaders/{leader['leader_id']}/pause",
        json={"reason": "多次未按时确认收货"},
        headers=waves.op,
    )
    assert r.status_code == 200, r.text
    body = refused_body = wave_body(leader, item)
    before = snapshot()
    r = waves.c.post("/api/leader/waves", json=refused_body, headers=_auth(leader))
    problem(r, 403, "leader_paused")
    assert changed_tables(before, snapshot()) == []
    r = waves.c.post(f"/api/admin/leaders/{leader['leader_id']}/resume", headers=waves.op)
    assert r.status_code == 200, r.text
    r = waves.c.post("/api/leader/waves", json=body, headers=_auth(leader))
    assert r.status_code == 201, r.text


def offer(waves: Waves, items: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    body = {
        "title": "产地直发 · 明日达",
        "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
        "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
        "commission_bps": 1500,
        "items": items,
        **kw,
    }
    r = waves.c.post("/api/supplier/waves", json=body, headers=waves.supplier)
    assert r.status_code == 201, r.text
    return dict(r.json())


def adopt(waves: Waves, leader: dict[str, Any], wave_id: int, **kw: Any) -> Any:
    body = {"community_id": leader["community_id"], "pickup_point_id": leader["pickup_point_id"]}
    return waves.c.post(
        f"/api/leader/waves/{wave_id}/adopt", json={**body, **kw}, headers=_auth(leader)
    )


def test_leaders_adopt_a_catalogue_wave_and_its_moq_counts_across_communities(
    waves: Waves,
) -> None:
    apples = waves.sku()
    wave = offer(waves, [{"sku_id": apples, "price": 1000, "moq": 3, "stock": 50,
                          "tiers": [[3, 950]]}])  # fmt: skip
    item = wave["items"][0]["item_id"]
    east, west = waves.leader("东门团长"), waves.leader("西门团长")
    # Leaders find it in the catalogue.
    catalogue = waves.c.get("/api/catalogue", headers=_auth(east)).json()
    assert wave["id"] in [w["id"] for w in catalogue]

    listings = {}
    for leader in (east, west):
        r = adopt(waves, leader, wave["id"])
        assert r.status_code == 201, r.text
        page = r.json()
        # The supplier's price and the commission rate it offers.
        assert page["listing"]["commission_bps"] == 1500
        assert page["items"][0]["price"] == 1000
        assert page["pickup_point"]["id"] == leader["pickup_point_id"]
        listings[leader["leader_id"]] = page["listing"]["id"]

    a = waves.order(waves.member(east, "李阿姨"), listings[east["leader_id"]], {item: 2})
    b = waves.order(waves.member(west, "张大爷"), listings[west["leader_id"]], {item: 1})
    # Each community has its own chain, numbered from 1; the MOQ counts the whole wave.
    assert a["wave_order"]["listing_id"] == listings[east["leader_id"]]
    for listing in listings.values():
        page = waves.page(listing).json()
        assert [row["seq"] for row in page["chain"]] == [1]
        assert page["items"][0]["ordered"] == 3 and page["items"][0]["reached_moq"]
    clock.advance(timedelta(hours=4))
    run_worker()
    for member_order in (a, b):
        order_id = member_order["order"]["id"]
        status = waves.c.get(f"/api/wave-orders/{order_id}", headers=waves.op).json()
        assert status["order"]["status"] == "confirmed"
        assert status["lines"][0]["final_unit_price"] == 950
    po = waves.c.get(
        f"/api/supplier/waves/{wave['id']}/purchase-order", headers=waves.supplier
    ).json()
    assert {p["pickup_point_id"]: p["items"][0]["quantity"] for p in po["pickup_points"]} == {
        east["pickup_point_id"]: 2,
        west["pickup_point_id"]: 1,
    }
    assert audit_violations() == []


def test_adoption_refusals_change_nothing(waves: Waves) -> None:
    apples, pears = waves.sku(title="苹果"), waves.sku(title="梨")
    wave = offer(waves, [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 50}])
    leader, other = waves.leader("东门团长"), waves.leader("西门团长")
    member = waves.member(leader)
    assert adopt(waves, leader, wave["id"]).status_code == 201

    def refused_adoption(who: dict[str, Any], wave_id: int, status: int, code: str,
                         **kw: Any) -> None:  # fmt: skip
        before = snapshot()
        problem(adopt(waves, who, wave_id, **kw), status, code)
        assert changed_tables(before, snapshot()) == []

    refused_adoption(leader, wave["id"], 409, "already_adopted")
    refused_adoption({**member, "community_id": leader["community_id"],
                      "pickup_point_id": leader["pickup_point_id"]},
                     wave["id"], 403, "not_a_leader")  # fmt: skip
    refused_adoption(other, wave["id"], 404, "community_not_found",
                     community_id=leader["community_id"])  # fmt: skip
    refused_adoption(other, wave["id"], 404, "pickup_point_not_found",
                     pickup_point_id=leader["pickup_point_id"])  # fmt: skip
    own = waves.publish(leader, [{"sku_id": pears, "price": 800, "moq": 1, "stock": 10}])
    refused_adoption(other, own["wave"]["id"], 409, "not_catalogue")
    refused_adoption(other, 999_999, 404, "wave_not_found")
    # A supplier offers only its own products.
    _, stranger = waves.api.supplier(waves.op, name="别家果园")
    before = snapshot()
    r = waves.c.post(
        "/api/supplier/waves",
        json={
            "title": "x",
            "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
            "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
            "items": [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 10}],
        },
        headers=stranger,
    )
    problem(r, 403, "forbidden")
    assert changed_tables(before, snapshot()) == []
    # Past its cut-off, nobody adopts it any more.
    clock.advance(timedelta(hours=3, seconds=1))
    refused_adoption(other, wave["id"], 409, "wave_closed")
    run_worker()
    refused_adoption(other, wave["id"], 409, "wave_closed")
