"""Fulfilment of a supplier's catalogue wave resold by two leaders (帮卖), over HTTP.

``scenario`` builds: one supplier wave of apples (¥10, MOQ 2, ¥9 from 5 units) and pears
(¥8, MOQ 1); leaders A and B each adopt it in their community with their own pickup point;
members 李阿姨 and 张大爷 order at A, 王奶奶 at B; the cut-off passes and the worker settles.
Apples reach 6 units (¥9: price protection), so the members keep 1800, 1700 and 2700 fen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import Api, run_worker
from tests.conftest import rows as rows  # re-exported for this area's tests
from tests.conftest import scalar as scalar
from tuangou.core import clock


def auth(who: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


def balance(account: str, order_id: int | None = None) -> int:
    from tuangou.core.db import unit_of_work
    from tuangou.ledger import service as ledger

    with unit_of_work(readonly=True) as session:
        return ledger.balance(session, account, order_id=order_id)


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = dict(r.json())
    assert body["code"] == code, body
    return body


class World:
    """An operator, a supplier with its staff, and helpers for leaders, members and waves."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.c = api.c
        self.op = api.operator()
        self.supplier_id, self.supplier = api.supplier(self.op, name="烟台果园")
        self.phones: dict[str, str] = {}

    def sku(self, title: str, price: int = 1000) -> int:
        r = self.c.post(
            "/api/admin/products",
            json={"supplier_id": self.supplier_id, "title": title},
            headers=self.op,
        )
        assert r.status_code == 201, r.text
        r = self.c.post(
            f"/api/admin/products/{r.json()['id']}/skus",
            json={"name": "1份", "price": price, "stock": 10000},
            headers=self.op,
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def signup(self, name: str) -> dict[str, Any]:
        who: dict[str, Any] = dict(self.api.signup(name))
        who["phone"] = f"137{self.api._phones:08d}"  # the helper numbers phones in order
        who["user_id"] = int(who["user_id"])
        who["name"] = name
        return who

    def leader(self, name: str, point: str) -> dict[str, Any]:
        who = self.signup(name)
        r = self.c.post(
            "/api/leader/applications",
            json={
                "name": point,
                "address": f"{point} 1 楼",
                "latitude": 31.2304,
                "longitude": 121.4737,
                "opening_hours": "9:00-21:00",
            },
            headers=auth(who),
        )
        assert r.status_code == 201, r.text
        r = self.c.post(f"/api/admin/leader-applications/{r.json()['id']}/approve", headers=self.op)
        assert r.status_code == 200, r.text
        who["leader_id"] = r.json()["leader"]["id"]
        who["pickup_point_id"] = r.json()["pickup_point"]["id"]
        r = self.c.post(
            "/api/leader/communities", json={"name": f"{name}的小区"}, headers=auth(who)
        )
        assert r.status_code == 201, r.text
        who["community_id"] = r.json()["id"]
        who["invite_code"] = r.json()["invite_code"]
        return who

    def member(self, leader: dict[str, Any], name: str) -> dict[str, Any]:
        who = self.signup(name)
        r = self.c.post(f"/api/communities/invite/{leader['invite_code']}/join", headers=auth(who))
        assert r.status_code in (200, 201), r.text
        return who

    def catalogue_wave(self, items: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
        body = {
            "title": "明日达 · 烟台苹果",
            "cutoff_at": (clock.now() + timedelta(hours=3)).isoformat() + "Z",
            "delivery_date": clock.local_date(clock.now() + timedelta(days=1)).isoformat(),
            "items": items,
            **settings,
        }
        r = self.c.post("/api/supplier/waves", json=body, headers=self.supplier)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def adopt(self, leader: dict[str, Any], wave_id: int) -> dict[str, Any]:
        r = self.c.post(
            f"/api/leader/waves/{wave_id}/adopt",
            json={
                "community_id": leader["community_id"],
                "pickup_point_id": leader["pickup_point_id"],
            },
            headers=auth(leader),
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def order(
        self, member: dict[str, Any], listing_id: int, items: dict[int, int], remark: str = ""
    ) -> int:
        r = self.c.post(
            f"/api/listings/{listing_id}/orders",
            json={"items": {str(k): v for k, v in items.items()}, "remark": remark},
            headers=auth(member),
        )
        assert r.status_code == 201, r.text
        self.api.pay(r.json()["pay_url"])
        return int(r.json()["order"]["id"])

    def order_status(self, order_id: int) -> str:
        return str(scalar("SELECT status FROM orders WHERE id = :id", id=order_id))

    # ------------------------------------------------------------ the fulfilment API

    def ship(self, wave_id: int, points: list[int] | None = None, who: Any = None) -> Any:
        return self.c.post(
            f"/api/supplier/waves/{wave_id}/shipments",
            json={"pickup_point_ids": points},
            headers=who or self.supplier,
        )

    def receive(self, leader: dict[str, Any], wave_id: int, point: int | None = None) -> Any:
        point = leader["pickup_point_id"] if point is None else point
        return self.c.post(
            f"/api/leader/waves/{wave_id}/pickup-points/{point}/receive", headers=auth(leader)
        )

    def verify(self, leader: dict[str, Any], code: str, point: int | None = None) -> Any:
        point = leader["pickup_point_id"] if point is None else point
        return self.c.post(
            "/api/leader/pickups/verify",
            json={"pickup_point_id": point, "code": code},
            headers=auth(leader),
        )

    def pickup(self, member: dict[str, Any], order_id: int) -> dict[str, Any]:
        r = self.c.get(f"/api/wave-orders/{order_id}/pickup", headers=auth(member))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def code(self, member: dict[str, Any], order_id: int) -> str:
        code = self.pickup(member, order_id)["code"]
        assert code is not None
        return str(code)

    def inbox(self, who: dict[str, Any], lang: str = "zh-CN") -> list[dict[str, Any]]:
        r = self.c.get("/api/notifications", headers={**auth(who), "Accept-Language": lang})
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


@dataclass
class Scenario:
    w: World
    wave_id: int
    apples: int  # wave item ids
    pears: int
    a: dict[str, Any]  # leader A
    b: dict[str, Any]  # leader B
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, int] = field(default_factory=dict)  # member name -> order id
    kept: dict[str, int] = field(default_factory=dict)  # member name -> kept amount

    def member(self, name: str) -> dict[str, Any]:
        return self.members[name]


def build(api: Api, **settings: Any) -> Scenario:
    w = World(api)
    apples, pears = w.sku("烟台苹果"), w.sku("砀山梨", price=800)
    wave = w.catalogue_wave(
        [
            {"sku_id": apples, "price": 1000, "moq": 2, "stock": 100, "tiers": [[5, 900]]},
            {"sku_id": pears, "price": 800, "moq": 1, "stock": 100},
        ],
        **settings,
    )
    apple_item, pear_item = (i["item_id"] for i in wave["items"])
    a = w.leader("王团长", "幸福里 3 栋便利店")
    b = w.leader("赵团长", "阳光花园快递站")
    listing_a = w.adopt(a, wave["id"])["listing"]["id"]
    listing_b = w.adopt(b, wave["id"])["listing"]["id"]
    s = Scenario(w, wave["id"], apple_item, pear_item, a, b)
    for name, leader, listing, items, remark, kept in (
        ("李阿姨", a, listing_a, {apple_item: 2}, "放门口", 1800),
        ("张大爷", a, listing_a, {apple_item: 1, pear_item: 1}, "", 1700),
        ("王奶奶", b, listing_b, {apple_item: 3}, "晚上来拿", 2700),
    ):
        s.members[name] = w.member(leader, name)
        s.orders[name] = w.order(s.members[name], listing, items, remark)
        s.kept[name] = kept
    return s


def settle(s: Scenario) -> None:
    clock.advance(timedelta(hours=4))
    run_worker()
    assert scalar("SELECT status FROM waves WHERE id = :id", id=s.wave_id) == "settled"
    for order_id in s.orders.values():
        assert s.w.order_status(order_id) == "confirmed"


@pytest.fixture
def scenario(api: Api) -> Scenario:
    """The wave settled: every order confirmed, nothing shipped yet."""
    s = build(api)
    settle(s)
    return s
