"""Helpers for community-wave tests: a leader with a community, members in it, a wave."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import Api, _auth
from tuangou.core import clock


class Waves:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.c = api.c
        self.op = api.operator()
        self.supplier_id, self.supplier = api.supplier(self.op, name=f"农场{id(self)}")

    def sku(self, price: int = 1000, stock: int = 10000, title: str = "苹果") -> int:
        r = self.c.post(
            "/api/admin/products",
            json={"supplier_id": self.supplier_id, "title": title},
            headers=self.op,
        )
        assert r.status_code == 201, r.text
        r = self.c.post(
            f"/api/admin/products/{r.json()['id']}/skus",
            json={"name": "1份", "price": price, "stock": stock},
            headers=self.op,
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def leader(self, name: str = "王团长") -> dict[str, Any]:
        who = self.api.signup(name)
        r = self.c.post(
            "/api/leader/applications",
            json={
                "name": f"{name}的自提点",
                "address": "幸福里 3 栋",
                "latitude": 31.2,
                "longitude": 121.4,
                "opening_hours": "9:00-21:00",
            },
            headers=_auth(who),
        )
        assert r.status_code == 201, r.text
        r = self.c.post(f"/api/admin/leader-applications/{r.json()['id']}/approve", headers=self.op)
        assert r.status_code == 200, r.text
        me = self.c.get("/api/leader/me", headers=_auth(who)).json()
        r = self.c.post(
            "/api/leader/communities", json={"name": f"{name}的小区"}, headers=_auth(who)
        )
        assert r.status_code == 201, r.text
        community = r.json()
        return {
            **who,
            "leader_id": me["id"] if "id" in me else me["leader"]["id"],
            "pickup_point_id": me["pickup_points"][0]["id"],
            "community_id": community["id"],
            "invite_code": community["invite_code"],
        }

    def member(self, leader: dict[str, Any], name: str = "李阿姨") -> dict[str, str]:
        who = self.api.signup(name)
        r = self.c.post(f"/api/communities/invite/{leader['invite_code']}/join", headers=_auth(who))
        assert r.status_code in (200, 201), r.text
        return who

    def publish(
        self, leader: dict[str, Any], items: list[dict[str, Any]], **kw: Any
    ) -> dict[str, Any]:
        body = {
            "community_id": leader["community_id"],
            "pickup_point_id": leader["pickup_point_id"],
            "title": "明日达",
            "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
            "delivery_date": (clock.now() + timedelta(days=1)).date().isoformat(),
            "items": items,
            **kw,
        }
        r = self.c.post("/api/leader/waves", json=body, headers=_auth(leader))
        assert r.status_code == 201, r.text
        return dict(r.json())

    def page(self, listing_id: int) -> Any:
        """The wave's page (GET /api/listings/{id}) as an operator reads it."""
        return self.c.get(f"/api/listings/{listing_id}", headers=self.op)

    def order(
        self,
        member: dict[str, str],
        listing_id: int,
        items: dict[int, int],
        pay: bool = True,
        remark: str = "",
    ) -> dict[str, Any]:
        r = self.c.post(
            f"/api/listings/{listing_id}/orders",
            json={"items": {str(k): v for k, v in items.items()}, "remark": remark},
            headers=_auth(member),
        )
        assert r.status_code == 201, r.text
        body = dict(r.json())
        if pay:
            self.api.pay(body["pay_url"])
        return body


@pytest.fixture
def waves(api: Api) -> Waves:
    return Waves(api)
