"""The coupon pages over HTTP, on both backends: a member buys a coupon in the coupon centre,
sees it in 我的优惠券, chooses it at a wave's checkout and pays the rest; a refusal shows next
to the choice and changes nothing; an operator creates, edits and pauses a coupon."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Api, audit_violations
from tests.pools.support import Item, seed_leader, seed_operator, seed_sku, seed_wave
from tests.web.pages import alerts, form_of, log_in, member, post, rows, scalar
from tuangou.core.db import run_in_transaction


def _coupon(**kw: Any) -> int:
    from tuangou.coupons import service as coupons

    data = {
        "name": "满20减3",
        "form": "fixed",
        "amount": 300,
        "min_spend": 2000,
        "points_price": 100,
        "kinds": ("wave",),
        "stock": 5,
        "valid_days": 7,
        **kw,
    }
    return run_in_transaction(lambda s: coupons.create(s, coupons.CouponData(**data)).id)


def test_a_member_buys_a_coupon_and_uses_it_at_a_wave_checkout(
    api: Api, client: TestClient
) -> None:
    from tuangou.communities import service as communities
    from tuangou.points import service as points

    leader = seed_leader(seed_operator().user_id)
    _, sku = seed_sku(price=1000)
    _, listing, (item,) = seed_wave(leader, [Item(sku, price=1000)])
    uid = member(client, api.phone())

    def setup(s: Any) -> None:
        communities.join_by_invite(s, leader.invite_code, uid)
        points.award(s, user_id=uid, reason="admin_adjust", key="seed", points=150)

    run_in_transaction(setup)
    cid = _coupon()
    _coupon(name="秒杀专享", kinds=("flash",))
    assert 'href="/me/coupons"' in client.get("/me").text
    centre = client.get("/me/coupons/centre")
    assert centre.status_code == 200
    assert "满20减3" in centre.text and "100" in centre.text
    body = form_of(client, "/me/coupons/centre", "key", need_key=True)
    bought = client.post(f"/me/coupons/centre/{cid}/buy", data=body, follow_redirects=False)
    assert bought.status_code == 303 and "done=bought" in bought.headers["location"]
    again = client.post(f"/me/coupons/centre/{cid}/buy", data=body, follow_redirects=False)
    assert again.status_code == 303  # the same key: bought once
    assert scalar("SELECT COUNT(*) FROM member_coupons WHERE user_id = :u", u=uid) == 1
    assert run_in_transaction(lambda s: points.balance_of(s, uid)) == 50
    mine = client.get(bought.headers["location"])
    assert mine.status_code == 200 and "满20减3" in mine.text and 'role="status"' in mine.text
    (held,) = [r[0] for r in rows("SELECT id FROM member_coupons WHERE user_id = :u", u=uid)]
    # A second coupon of the flash kind is not offered at a wave's checkout.
    page = client.get(f"/w/{listing}")
    assert f'<option value="{held}"' in page.text and "秒杀专享" not in page.text
    # Below the minimum spend: refused next to the choice, nothing changes.
    small = {**form_of(client, f"/w/{listing}", "idem"), f"qty_{item}": "1", "coupon_id": held}
    refused = client.post(f"/w/{listing}", data=small, follow_redirects=False)
    assert refused.status_code == 409 and alerts(refused.text)
    assert scalar("SELECT COUNT(*) FROM orders WHERE user_id = :u", u=uid) == 0
    order = {**form_of(client, f"/w/{listing}", "idem"), f"qty_{item}": "3", "coupon_id": held}
    placed = client.post(f"/w/{listing}", data=order, follow_redirects=False)
    assert placed.status_code == 303 and "/pay/" in placed.headers["location"]
    assert rows(
        "SELECT list_amount, coupon_discount, amount FROM orders WHERE user_id = :u", u=uid
    ) == [(3000, 300, 2700)]
    (oid,) = [r[0] for r in rows("SELECT id FROM orders WHERE user_id = :u", u=uid)]
    shown = client.get(f"/orders/{oid}")
    assert shown.status_code == 200 and 'id="order-coupon-discount"' in shown.text
    used = client.get("/me/coupons?tab=used")
    assert "满20减3" in used.text
    assert "满20减3" not in client.get("/me/coupons?tab=available").text
    assert audit_violations() == []


def test_an_operator_creates_edits_and_pauses_a_coupon(api: Api, client: TestClient) -> None:
    from tuangou.accounts import service as accounts

    phone = api.phone()
    run_in_transaction(
        lambda s: accounts.create_user(
            s, phone=phone, password="secret123", nickname="运营", role="operator"
        )
    )
    log_in(client, phone)
    assert "/ops/coupons" in client.get("/ops").text
    body = {
        "name": "满50减8",
        "form": "fixed",
        "amount": "8",
        "min_spend": "50",
        "points_price": "200",
        "stock": "20",
        "per_member_limit": "2",
        "valid_days": "14",
        "kind_wave": "on",
        "kind_team": "on",
    }
    bad = post(
        client, "/ops/coupons", {**body, "kind_wave": "", "kind_team": ""}, form_page="/ops/coupons"
    )
    assert bad.status_code == 400 and alerts(bad.text)
    assert scalar("SELECT COUNT(*) FROM coupons") == 0
    made = post(client, "/ops/coupons", body, form_page="/ops/coupons")
    assert made.status_code == 303, alerts(made.text)
    assert rows("SELECT name, amount, min_spend, kinds, active FROM coupons") == [
        ("满50减8", 800, 5000, "team,wave", True)
    ]
    cid = scalar("SELECT id FROM coupons")
    page = client.get(f"/ops/coupons/{cid}")
    assert page.status_code == 200 and 'value="满50减8"' in page.text
    edited = post(
        client,
        f"/ops/coupons/{cid}",
        {**body, "form": "percent", "percent": "15", "cap": "10", "amount": ""},
        form_page=f"/ops/coupons/{cid}",
    )
    assert edited.status_code == 303, alerts(edited.text)
    assert rows("SELECT form, percent_bps, cap FROM coupons") == [("percent", 1500, 1000)]
    paused = post(client, f"/ops/coupons/{cid}/status", {"active": "0"}, form_page="/ops/coupons")
    assert paused.status_code == 303
    assert scalar("SELECT active FROM coupons") in (False, 0)
    listing = client.get(client.get("/ops/coupons").url)
    assert "满50减8" in listing.text
