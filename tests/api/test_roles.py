"""Every endpoint checks who is calling: role, and ownership of the order or team."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api import auth, count, settled_pair, world
from tests.conftest import Api

# Routes anyone may call without logging in: (method, path template).
PUBLIC = {
    ("GET", "/api/noop"),
    ("GET", "/api/health"),
    ("GET", "/api/ready"),
    ("POST", "/api/auth/signup"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/code"),
    ("POST", "/api/auth/code/login"),
    ("GET", "/api/campaigns"),
    ("GET", "/api/campaigns/{campaign_id}"),
    ("GET", "/api/campaigns/{campaign_id}/teams"),  # the detail's later pages of open teams
    ("GET", "/api/teams/{team_id}"),  # the share link
    ("GET", "/api/communities/invite/{code}"),  # a community's invite link
    # The categories' strip, and search (team buys only, without a log-in).
    ("GET", "/api/categories"),
    # The bargain campaigns running now (a bargain itself needs a log-in).
    ("GET", "/api/bargain-campaigns"),
    ("GET", "/api/bargain-campaigns/{campaign_id}"),
    ("GET", "/api/search"),
    # Verified buyers' reviews of what anyone may buy (a wave's need a log-in), and a photo
    # of public content (anyone else's: 404, as for one that does not exist).
    ("GET", "/api/campaigns/{campaign_id}/reviews"),
    ("GET", "/api/products/{product_id}/reviews"),
    ("GET", "/api/skus/{sku_id}/reviews"),
    ("GET", "/api/waves/{wave_id}/reviews"),  # for whoever may see one of its listings
    ("GET", "/api/reviews/{review_id}"),
    ("GET", "/api/photos/{photo_id}"),
    # The member levels and what each gives.
    ("GET", "/api/levels"),
    # The coupon centre (领券中心): what is on offer and its price in points.
    ("GET", "/api/coupons"),
    # 附近: pickup points and open waves around a point (waves' titles only for who may see them).
    ("GET", "/api/nearby"),
    # The verifiable record: its public key, signed checkpoints and consistency proofs.
    ("GET", "/api/journal/key"),
    ("GET", "/api/journal/checkpoints"),
    ("GET", "/api/journal/checkpoints/latest"),
    ("GET", "/api/journal/checkpoints/{size}"),
    ("GET", "/api/journal/proofs/consistency"),
    # A wave's page with its chain list (接龙): for an invitee too, with its share link's token
    # (anyone else gets 404, as for a listing that does not exist).
    ("GET", "/api/listings/{listing_id}"),
    ("GET", "/api/listings/{listing_id}/chain"),  # its chain list's pages, by the same rule
    # The sandbox stands for an outside payment provider: its page, its API, its callback.
    # Each checks a signature instead of a log-in (its charges are for operators only).
    ("GET", "/api/sandbox/pay"),
    ("POST", "/api/sandbox/pay"),
    ("POST", "/api/payments/webhooks/sandbox"),
    # WeChat Pay's and Alipay's notices: signed by the gateway, not logged in.
    ("POST", "/api/payments/webhooks/wechat"),
    ("POST", "/api/payments/webhooks/alipay"),
}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every /api route the application serves."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are flat
        contexts: Any = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    found = set()
    for route in contexts:
        path = getattr(route, "path", None)
        for method in getattr(route, "methods", None) or ():
            if path and path.startswith("/api/") and method != "HEAD":
                found.add((method, path))
    return sorted(found)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    return client.request(method, concrete(path), json={}, headers=headers)


@pytest.fixture
def routes(client: TestClient) -> list[tuple[str, str]]:
    found = api_routes(client.app)  # type: ignore[arg-type]
    assert len(found) > 30  # the walk found the routers
    return found


def test_public_list_names_real_routes(routes: list[tuple[str, str]]) -> None:
    assert set(routes) >= PUBLIC, PUBLIC - set(routes)


def test_every_other_route_refuses_anonymous(
    client: TestClient, routes: list[tuple[str, str]]
) -> None:
    checked = 0
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        r = _call(client, method, path, {})
        assert r.status_code == 401, (method, path, r.status_code, r.text)
        assert r.json()["code"] == "unauthenticated", (method, path)
        checked += 1
    assert checked >= 20


def test_operator_routes_refuse_members_and_suppliers(
    api: Api, routes: list[tuple[str, str]]
) -> None:
    op = api.operator()
    _, supplier = api.supplier(op)
    member = auth(api.signup())
    admin = [(m, p) for m, p in routes if p.startswith("/api/admin/")]
    assert len(admin) >= 10
    admin.append(("GET", "/api/sandbox/charges/{ref}"))  # the gateway's console
    for who in (member, supplier):
        for method, path in admin:
            r = _call(api.c, method, path, who)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["code"] == "forbidden"
    # Nothing was created by the refused calls.
    assert count("suppliers") == 1
    assert count("products") == 0


def test_supplier_routes_refuse_members_and_operators(
    api: Api, routes: list[tuple[str, str]]
) -> None:
    """Members never reach a supplier route; an operator may read some (to follow a
    supplier up) but never acts as the supplier."""
    op = api.operator()
    member = auth(api.signup())
    supplier_routes = [(m, p) for m, p in routes if p.startswith("/api/supplier/")]
    assert len(supplier_routes) >= 2
    for who in (member, op):
        for method, path in supplier_routes:
            if who is op and method == "GET":
                continue
            r = _call(api.c, method, path, who)
            assert r.status_code == 403, (who is op, method, path, r.text)
            assert r.json()["code"] == "forbidden"


def test_anonymous_browses_and_opens_share_links_but_cannot_join(api: Api) -> None:
    w = world(api)
    opened = api.open(w.members[0], w.campaign["id"])
    team_id = opened["team"]["id"]
    live = api.c.get("/api/campaigns")
    assert live.status_code == 200
    assert [c["id"] for c in live.json()] == [w.campaign["id"]]
    page = api.c.get(f"/api/campaigns/{w.campaign['id']}")
    assert page.status_code == 200
    assert [t["id"] for t in page.json()["open_teams"]] == [team_id]
    share = api.c.get(f"/api/teams/{team_id}")
    assert share.status_code == 200
    assert share.json()["chain"][0]["name"] == "团*0"
    # The share link never shows a phone number.
    opener_phone = api.c.get("/api/me", headers=auth(w.members[0])).json()["phone"]
    assert opener_phone not in share.text
    assert opener_phone[-4:] not in share.text
    for path in (f"/api/teams/{team_id}/join", f"/api/campaigns/{w.campaign['id']}/teams"):
        r = api.c.post(path, json={"quantity": 1})
        assert r.status_code == 401
        assert r.json()["code"] == "unauthenticated"
    assert count("orders") == 1
    assert api.team(team_id)["seats_taken"] == 1


def test_members_cannot_touch_each_others_orders(api: Api) -> None:
    w = world(api, 3)
    a, b, stranger = w.members
    paid = api.open(a, w.campaign["id"])["order"]["id"]
    unpaid = api.open(b, w.campaign["id"], pay=False)["order"]["id"]
    for order_id in (paid, unpaid):
        for method, path in (
            ("GET", f"/api/orders/{order_id}"),
            ("POST", f"/api/orders/{order_id}/cancel"),
            ("POST", f"/api/orders/{order_id}/confirm-receipt"),
            ("POST", f"/api/orders/{order_id}/payments"),
        ):
            r = api.c.request(method, path, headers=auth(stranger))
            assert r.status_code == 404, (method, path, r.text)
            assert r.json()["code"] == "order_not_found"
    # The orders are untouched: one payment each, the unpaid one still payable.
    assert api.order(a, paid)["status"] == "paid"
    assert api.order(b, unpaid)["status"] == "pending_payment"
    assert count("payments") == 2
    # A member's list holds only their own orders.
    mine = api.c.get("/api/orders", headers=auth(a)).json()
    assert [o["id"] for o in mine] == [paid]
    assert api.c.get("/api/orders", headers=auth(stranger)).json() == []
    # And the owner may do what the stranger could not.
    assert api.c.post(f"/api/orders/{unpaid}/cancel", headers=auth(b)).status_code == 200


def test_member_cannot_leave_a_team_they_are_not_in(api: Api) -> None:
    w = world(api, 2)
    team_id = api.open(w.members[0], w.campaign["id"])["team"]["id"]
    r = api.c.post(f"/api/teams/{team_id}/leave", headers=auth(w.members[1]))
    assert r.status_code == 409
    assert r.json()["code"] == "not_in_team"
    assert api.team(team_id)["paid_members"] == 1


def test_suppliers_see_and_ship_only_their_own_orders(api: Api) -> None:
    w, (mine, _) = settled_pair(api)
    other_id, other = api.supplier(w.op, "茶园")
    other_campaign = api.campaign(w.op, other_id)
    x, y = api.signup("甲"), api.signup("乙")
    theirs = api.open(x, other_campaign["id"])["order"]["id"]
    api.join(y, api.order(x, theirs)["team_id"])

    listed = api.c.get("/api/supplier/orders", headers=w.supplier).json()
    assert sorted(o["id"] for o in listed) == sorted(
        o["id"]
        for o in api.c.get("/api/admin/orders", headers=w.op).json()
        if o["supplier_id"] == w.supplier_id
    )
    assert all(o["supplier_id"] == w.supplier_id for o in listed) and len(listed) == 2
    assert theirs not in {o["id"] for o in listed}

    r = api.c.get(f"/api/orders/{theirs}", headers=other)
    assert r.status_code == 200  # the other supplier sees its own
    r = api.c.get(f"/api/orders/{theirs}", headers=w.supplier)
    assert r.status_code == 404
    assert r.json()["code"] == "order_not_found"
    ship = {"carrier": "顺丰", "tracking_no": "SF1"}
    r = api.c.post(f"/api/supplier/orders/{theirs}/ship", json=ship, headers=w.supplier)
    assert r.status_code == 404
    assert r.json()["code"] == "order_not_found"
    assert api.order(x, theirs)["status"] == "confirmed"
    r = api.c.post(f"/api/supplier/orders/{mine}/ship", json=ship, headers=w.supplier)
    assert r.status_code == 200
    assert r.json()["status"] == "shipped"
    # A supplier's staff is not the buyer: it cannot confirm receipt for the member.
    r = api.c.post(f"/api/orders/{mine}/confirm-receipt", headers=w.supplier)
    assert r.status_code == 403
    assert r.json()["code"] == "staff_account"


def test_operator_lists_every_order_and_refunds(api: Api) -> None:
    w, order_ids = settled_pair(api)
    listed = api.c.get("/api/admin/orders", headers=w.op)
    assert listed.status_code == 200
    assert sorted(o["id"] for o in listed.json()) == sorted(order_ids)
    by_status = api.c.get("/api/admin/orders?status=confirmed", headers=w.op).json()
    assert len(by_status) == 2
    seen = api.c.get(f"/api/orders/{order_ids[0]}", headers=w.op)
    assert seen.status_code == 200
    r = api.c.post(f"/api/admin/orders/{order_ids[0]}/refund", json={"note": "缺货"}, headers=w.op)
    assert r.status_code == 201, r.text
    assert r.json()["order"]["status"] == "refunded"
    # A member cannot refund, not even their own order.
    r = api.c.post(
        f"/api/admin/orders/{order_ids[1]}/refund",
        json={"note": "我想要退款"},
        headers=auth(w.members[1]),
    )
    assert r.status_code == 403
    assert api.order(w.members[1], order_ids[1])["status"] == "confirmed"
