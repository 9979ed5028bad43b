"""Coupons over the API, on both backends, through a team buy: the operator's catalogue, a
member buys with points (a retry with the key buys once), the checkout quote, a team opened
with a coupon and the level discount, the opener's free order paid by the subsidy, a coupon
used twice refused."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, _auth, audit_violations, rows
from tuangou.core.db import run_in_transaction


def _points(user_id: int, n: int, experience: int = 0) -> None:
    from tuangou.points import service as points

    run_in_transaction(
        lambda s: points.award(
            s,
            user_id=user_id,
            reason="review",
            key=f"seed:{user_id}",
            points=n,
            experience=experience,
        )
    )


def test_a_team_buy_with_a_coupon_over_the_api(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    body: dict[str, Any] = {
        "name": "满20减3",
        "form": "fixed",
        "amount": 300,
        "min_spend": 1000,
        "points_price": 100,
        "kinds": ["team"],
        "valid_days": 7,
        "stock": 10,
        "per_member_limit": 3,
    }
    r = api.c.post("/api/admin/coupons", json=body, headers=op)
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    bad = api.c.post("/api/admin/coupons", json={**body, "valid_days": None}, headers=op)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_coupon"
    assert [c["id"] for c in api.c.get("/api/coupons").json()] == [cid]
    opener, joiner = api.signup("开团人"), api.signup("参团人")
    _points(int(opener["user_id"]), 150, experience=300)  # 好邻居: 50 bps off
    buy = {"key": "first"}
    r = api.c.post(f"/api/coupons/{cid}/buy", json=buy, headers=_auth(opener))
    assert r.status_code == 201, r.text
    mine = r.json()["id"]
    again = api.c.post(f"/api/coupons/{cid}/buy", json=buy, headers=_auth(opener))
    assert again.status_code == 201 and again.json()["id"] == mine
    short = api.c.post(f"/api/coupons/{cid}/buy", json={"key": "second"}, headers=_auth(opener))
    assert short.status_code == 409 and short.json()["code"] == "not_enough_points"
    listed = api.c.get("/api/me/coupons", headers=_auth(opener)).json()
    assert [(c["id"], c["status"]) for c in listed] == [(mine, "available")]
    quote = api.c.get(
        "/api/me/coupons/quote",
        params={"kind": "team", "amount": 1990, "coupon_id": mine},
        headers=_auth(opener),
    ).json()
    # 50 bps of 1990 is 9.95, half up 10; then 300 off.
    assert (quote["level_discount"], quote["coupon_discount"], quote["to_pay"]) == (10, 300, 1680)
    campaign = api.campaign(op, sid, price=3000, opener_perk="free", subsidy_budget=100_000)
    r = api.c.post(
        f"/api/campaigns/{campaign['id']}/teams",
        json={"quantity": 1, "coupon_id": mine},
        headers=_auth(opener),
    )
    assert r.status_code == 201, r.text
    order = r.json()["order"]
    listed = order["list_amount"]
    level = (listed * 50 + 5000) // 10000
    assert (order["level_discount"], order["coupon_discount"]) == (level, 300)
    assert order["amount"] == listed - level - 300 and order["coupon_id"] == mine
    api.pay(r.json()["pay_url"])
    # The coupon is on this order: a second use is refused and changes nothing.
    used = api.c.post(
        f"/api/campaigns/{campaign['id']}/teams",
        json={"quantity": 1, "coupon_id": mine},
        headers=_auth(opener),
    )
    assert used.status_code == 409 and used.json()["code"] == "coupon_used"
    api.join(joiner, r.json()["team"]["id"])
    # The team formed: the opener's order is free (the subsidy pays what they paid).
    seen = api.order(opener, order["id"])
    assert seen["refunded_amount"] == seen["paid_amount"] == order["amount"]
    assert rows(
        "SELECT reason, discount_amount FROM refunds WHERE order_id = :o", o=order["id"]
    ) == [("opener_free", 0)]
    assert audit_violations() == []
