"""One error shape: malformed input is 422 ``invalid_input`` with a list of errors; every
business refusal has its stable code, and no refusal changes anything."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api import auth, count, scalar, world
from tests.conftest import Api
from tuangou.core import clock

PROBLEM = "application/problem+json"


def _problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(f"/{code}")
    assert body["title"] and body["detail"]
    return dict(body)


# ---------------------------------------------------------------- malformed input


def test_malformed_json_is_invalid_input(api: Api) -> None:
    w = world(api, 1)
    r = api.c.post(
        f"/api/campaigns/{w.campaign['id']}/teams",
        content=b'{"quantity": 1',
        headers={**auth(w.members[0]), "Content-Type": "application/json"},
    )
    body = _problem(r, 422, "invalid_input")
    assert isinstance(body["errors"], list) and body["errors"]
    assert count("orders") == 0


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"quantity": "lots"}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": 1, "address": {"name": "李"}}, "address.phone"),
        ([1, 2], "body"),
    ],
)
def test_wrong_types_are_invalid_input(api: Api, payload: Any, field: str) -> None:
    w = world(api, 1)
    r = api.c.post(
        f"/api/campaigns/{w.campaign['id']}/teams", json=payload, headers=auth(w.members[0])
    )
    body = _problem(r, 422, "invalid_input")
    assert field in [e["field"] for e in body["errors"]], body["errors"]
    assert all(set(e) == {"field", "message"} for e in body["errors"])
    assert count("orders") == 0


def test_missing_fields_are_all_listed(api: Api) -> None:
    r = api.c.post("/api/auth/signup", json={})
    body = _problem(r, 422, "invalid_input")
    assert {"phone", "password"} <= {e["field"] for e in body["errors"]}


def test_bad_path_and_query_parameters(api: Api) -> None:
    op = api.operator()
    _problem(api.c.get("/api/teams/abc"), 422, "invalid_input")
    body = _problem(api.c.get("/api/admin/orders?limit=many", headers=op), 422, "invalid_input")
    assert [e["field"] for e in body["errors"]] == ["limit"]


def test_unknown_route_and_method(api: Api) -> None:
    _problem(api.c.get("/api/no-such-thing"), 404, "not_found")
    _problem(api.c.delete("/api/campaigns"), 405, "method_not_allowed")


# ---------------------------------------------------------------- not found


def test_unknown_things_are_404_with_their_code(api: Api) -> None:
    w = world(api, 1)
    m = auth(w.members[0])
    _problem(api.c.get("/api/teams/999"), 404, "team_not_found")
    _problem(
        api.c.post("/api/teams/999/join", json={"quantity": 1}, headers=m), 404, "team_not_found"
    )
    _problem(api.c.post("/api/teams/999/leave", headers=m), 404, "team_not_found")
    _problem(api.c.get("/api/campaigns/999"), 404, "campaign_not_found")
    _problem(api.c.post("/api/campaigns/999/teams", json={}, headers=m), 404, "campaign_not_found")
    _problem(api.c.get("/api/orders/999", headers=m), 404, "order_not_found")
    _problem(api.c.post("/api/orders/999/cancel", headers=m), 404, "order_not_found")
    _problem(
        api.c.post("/api/admin/orders/999/refund", json={"note": "x"}, headers=w.op),
        404,
        "order_not_found",
    )
    _problem(
        api.c.post("/api/admin/products", json={"supplier_id": 999, "title": "梨"}, headers=w.op),
        404,
        "supplier_not_found",
    )
    _problem(
        api.c.post("/api/admin/products/999/skus", json={"price": 1, "stock": 1}, headers=w.op),
        404,
        "product_not_found",
    )
    body = _campaign_body(999)
    _problem(api.c.post("/api/admin/campaigns", json=body, headers=w.op), 404, "sku_not_found")
    assert count("orders") == 0 and count("teams") == 0


# ---------------------------------------------------------------- business refusals


def test_business_refusals_have_stable_codes(api: Api) -> None:
    w = world(api, 5, tiers=[[2, 1990], [3, 1790]], max_size=3, per_member_limit=2, stock=50)
    a, b, c, d, e = w.members
    cid = w.campaign["id"]
    team = api.open(a, cid)["team"]["id"]

    _problem(api.c.post(f"/api/teams/{team}/join", json={}, headers=auth(a)), 409, "own_team")
    b_order = api.join(b, team, pay=False)["order"]["id"]
    _problem(
        api.c.post(f"/api/teams/{team}/join", json={}, headers=auth(b)), 409, "already_in_team"
    )
    _problem(
        api.c.post(f"/api/orders/{b_order}/confirm-receipt", headers=auth(b)),
        409,
        "order_not_shipped",
    )
    api.join(c, team, pay=False)
    _problem(api.c.post(f"/api/teams/{team}/join", json={}, headers=auth(d)), 409, "team_full")
    # Per-member limit of 2: b holds one unit here and opens a team of their own.
    api.open(b, cid, pay=False)
    _problem(
        api.c.post(f"/api/campaigns/{cid}/teams", json={}, headers=auth(b)), 409, "limit_reached"
    )
    _problem(
        api.c.post(f"/api/campaigns/{cid}/teams", json={"quantity": 2}, headers=auth(d)),
        422,
        "invalid_input",
    )
    orders_before = count("orders")
    # A paid order cannot be cancelled; an unpaid one cannot be shipped.
    a_order = scalar("SELECT id FROM orders WHERE user_id = :u", u=int(a["user_id"]))
    _problem(
        api.c.post(f"/api/orders/{a_order}/cancel", headers=auth(a)), 409, "order_not_cancellable"
    )
    ship = {"carrier": "顺丰", "tracking_no": "SF1"}
    _problem(
        api.c.post(f"/api/supplier/orders/{b_order}/ship", json=ship, headers=w.supplier),
        409,
        "order_not_shippable",
    )
    # A paused campaign opens no teams.
    paused = api.c.patch(f"/api/admin/campaigns/{cid}", json={"status": "paused"}, headers=w.op)
    assert paused.status_code == 200
    _problem(
        api.c.post(f"/api/campaigns/{cid}/teams", json={}, headers=auth(e)),
        409,
        "campaign_not_live",
    )
    assert count("orders") == orders_before
    assert api.team(team)["seats_taken"] == 3
    assert count("team_seats", "user_id = :u", u=int(b["user_id"])) == 2


def test_team_closed_after_settlement(api: Api) -> None:
    w = world(api, 3)
    a, b, c = w.members
    team = api.open(a, w.campaign["id"])["team"]["id"]
    api.join(b, team)
    assert api.team(team)["status"] == "settled"
    _problem(api.c.post(f"/api/teams/{team}/join", json={}, headers=auth(c)), 409, "team_closed")
    _problem(api.c.post(f"/api/teams/{team}/leave", headers=auth(b)), 409, "team_already_formed")


def test_campaign_over_refuses_new_teams(api: Api) -> None:
    w = world(api, 1)
    clock.advance(timedelta(days=3))
    r = api.c.post(f"/api/campaigns/{w.campaign['id']}/teams", json={}, headers=auth(w.members[0]))
    _problem(r, 409, "campaign_not_live")


def test_address_required(api: Api) -> None:
    w = world(api, 0)
    member = api.signup("无地址", address=False)
    r = api.c.post(f"/api/campaigns/{w.campaign['id']}/teams", json={}, headers=auth(member))
    _problem(r, 422, "address_required")
    assert count("orders") == 0
    # Giving the address with the order is enough.
    address = {"name": "李阿姨", "phone": "13800138000", "line": "幸福里 2 号"}
    r = api.c.post(
        f"/api/campaigns/{w.campaign['id']}/teams",
        json={"quantity": 1, "address": address},
        headers=auth(member),
    )
    assert r.status_code == 201
    assert r.json()["order"]["address"] == address


def test_new_member_only(api: Api) -> None:
    w = world(api, 3, new_member_only=True)
    a, b, c = w.members
    first = api.open(a, w.campaign["id"])["team"]["id"]
    api.join(b, first)
    second = api.open(c, w.campaign["id"])["team"]["id"]
    r = api.c.post(f"/api/teams/{second}/join", json={}, headers=auth(b))
    _problem(r, 403, "not_new_member")


# ---------------------------------------------------------------- campaign rules


def _sku(api: Api, op: dict[str, str], sid: int, *, price: int = 3000, stock: int = 1000) -> int:
    r = api.c.post("/api/admin/products", json={"supplier_id": sid, "title": "橙子"}, headers=op)
    assert r.status_code == 201
    r = api.c.post(
        f"/api/admin/products/{r.json()['id']}/skus",
        json={"name": "10斤", "price": price, "stock": stock},
        headers=op,
    )
    assert r.status_code == 201
    return int(r.json()["id"])


def _campaign_body(sku_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku_id": sku_id,
        "ends_at": (clock.now() + timedelta(days=2)).isoformat(),
        "tiers": [[2, 1990], [5, 1790], [10, 1590]],
        "min_size": 2,
        "max_size": 10,
        "stock": 100,
    }
    body.update(changes)
    return body


def _allocated(api: Api, op: dict[str, str], sku_id: int) -> int:
    products = api.c.get("/api/admin/products", headers=op).json()
    return next(s["allocated"] for p in products for s in p["skus"] if s["id"] == sku_id)


BAD_CAMPAIGNS = [
    ("not strictly cheaper", {"tiers": [[2, 1990], [5, 1990], [10, 1590]]}, "tiers"),
    ("dearer later", {"tiers": [[2, 1990], [5, 2090]], "max_size": 5}, "tiers"),
    ("sizes not growing", {"tiers": [[2, 1990], [2, 1790]]}, "tiers"),
    ("first tier is not the min size", {"tiers": [[3, 1990], [5, 1790]]}, "tiers"),
    ("tier beyond max size", {"tiers": [[2, 1990], [5, 1790]], "max_size": 4}, "tiers"),
    ("group price above single price", {"tiers": [[2, 3500]], "max_size": 2}, "tiers"),
    ("window 0 h", {"window_hours": 0}, "window_hours"),
    ("window 73 h", {"window_hours": 73}, "window_hours"),
    ("max below min", {"tiers": [[3, 1990]], "min_size": 3, "max_size": 2}, "max_size"),
    (
        "opener price above group price",
        {"opener_perk": "price", "opener_price": 2000},
        "opener_price",
    ),
    ("opener perk without a price", {"opener_perk": "price"}, "opener_price"),
    (
        "per-order quantity above the member limit",
        {"per_member_limit": 2, "max_quantity_per_order": 3},
        "max_quantity_per_order",
    ),
    (
        "ends before it starts",
        {"ends_at": (clock.now() - timedelta(hours=1)).isoformat()},
        "ends_at",
    ),
]


@pytest.mark.parametrize(
    "changes, field", [c[1:] for c in BAD_CAMPAIGNS], ids=[c[0] for c in BAD_CAMPAIGNS]
)
def test_bad_campaign_is_refused_with_its_field(
    api: Api, changes: dict[str, Any], field: str
) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    sku = _sku(api, op, sid)
    if "ends_at" in changes:  # relative to the test's clock, not the import's
        changes = {**changes, "ends_at": (clock.now() - timedelta(hours=1)).isoformat()}
    r = api.c.post("/api/admin/campaigns", json=_campaign_body(sku, **changes), headers=op)
    body = _problem(r, 422, "invalid_campaign")
    assert body["field"] == field, body
    assert count("team_campaigns") == 0
    assert _allocated(api, op, sku) == 0
    # The same campaign without the fault is accepted.
    good = api.c.post("/api/admin/campaigns", json=_campaign_body(sku), headers=op)
    assert good.status_code == 201, good.text
    assert _allocated(api, op, sku) == 100


def test_stock_allocation_above_sku_stock(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    sku = _sku(api, op, sid, stock=10)
    r = api.c.post("/api/admin/campaigns", json=_campaign_body(sku, stock=11), headers=op)
    _problem(r, 409, "insufficient_stock")
    assert count("team_campaigns") == 0
    assert _allocated(api, op, sku) == 0
    ok = api.c.post("/api/admin/campaigns", json=_campaign_body(sku, stock=6), headers=op)
    assert ok.status_code == 201
    r = api.c.post("/api/admin/campaigns", json=_campaign_body(sku, stock=5), headers=op)
    _problem(r, 409, "insufficient_stock")
    assert count("team_campaigns") == 1
    assert _allocated(api, op, sku) == 6
    # Stock cannot be cut below what campaigns hold.
    r = api.c.put(f"/api/admin/skus/{sku}/stock", json={"stock": 5}, headers=op)
    _problem(r, 409, "stock_below_allocated")
    r = api.c.put(f"/api/admin/skus/{sku}/stock", json={"stock": 6}, headers=op)
    assert r.status_code == 200 and r.json()["stock"] == 6
    r = api.c.post("/api/admin/campaigns", json=_campaign_body(sku, stock=1), headers=op)
    _problem(r, 409, "insufficient_stock")
