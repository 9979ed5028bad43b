"""Setting up bargain campaigns over the HTTP API, for the bargain tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Api, _auth
from tuangou.core import clock


def sku(api: Api, op: dict[str, str], supplier_id: int, *, price: int = 3000) -> int:
    r = api.c.post(
        "/api/admin/products", json={"supplier_id": supplier_id, "title": "砍价锅"}, headers=op
    )
    assert r.status_code == 201, r.text
    r = api.c.post(
        f"/api/admin/products/{r.json()['id']}/skus",
        json={"name": "28cm", "price": price, "stock": 1000},
        headers=op,
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def campaign(api: Api, **settings: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """An operator and a bargain campaign (start ¥30.00, floor ¥10.00, 4 helpers)."""
    op = api.operator()
    sid, _ = api.supplier(op)
    body: dict[str, Any] = {
        "sku_id": sku(api, op, sid),
        "ends_at": (clock.now() + timedelta(days=3)).isoformat(),
        "start_price": 3000,
        "floor_price": 1000,
        "helpers_needed": 4,
        "stock": 10,
    }
    body.update(settings)
    r = api.c.post("/api/admin/bargain-campaigns", json=body, headers=op)
    assert r.status_code == 201, r.text
    return op, dict(r.json())


def start(api: Api, who: dict[str, str], campaign_id: int) -> dict[str, Any]:
    r = api.c.post(f"/api/bargain-campaigns/{campaign_id}/bargains", headers=_auth(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


def help_(api: Api, who: dict[str, str], bargain: dict[str, Any], **headers: str) -> Any:
    return api.c.post(
        f"/api/bargains/{bargain['id']}/help",
        json={"share": bargain["share_token"]},
        headers={**_auth(who), **headers},
    )


def view(api: Api, who: dict[str, str], bargain_id: int, share: str | None = None) -> Any:
    params = {"share": share} if share else {}
    return api.c.get(f"/api/bargains/{bargain_id}", params=params, headers=_auth(who))


def buy(api: Api, who: dict[str, str], bargain_id: int) -> Any:
    return api.c.post(f"/api/bargains/{bargain_id}/order", json={}, headers=_auth(who))


def member(api: Api, nickname: str = "团员") -> dict[str, str]:
    """A member with a shipping address, made directly (no password: no slow hashing), as
    :meth:`Api.signup` returns one: the bearer header and the user id."""
    from tuangou.accounts import addresses
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    phone = api.phone()

    def make(session: Any) -> tuple[int, str]:
        user = accounts.create_user(session, phone=phone, password=None, nickname=nickname)
        addresses.add_address(
            session,
            user.id,
            name=nickname,
            phone=phone,
            region="浙江省 杭州市 西湖区",
            detail="幸福里 1 号",
            make_default=True,
        )
        return user.id, accounts.issue_token(user)

    user_id, token = run_in_transaction(make)
    return {"Authorization": f"Bearer {token}", "user_id": str(user_id)}
