"""A flash sale's world: an operator, a supplier's SKU, members with an address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.api import auth
from tests.conftest import Api
from tuangou.core import clock


@dataclass
class Flash:
    api: Api
    op: dict[str, str]
    supplier_id: int
    sku_id: int

    def slots(self, *, stock: int = 5, start_in: timedelta = timedelta(0), **kw: Any) -> int:
        """One slot of the SKU starting ``start_in`` from now (a minute ago by default), for an
        hour; returns its id."""
        start = clock.to_local(clock.now() + start_in - timedelta(minutes=1))
        body = {
            "sku_id": self.sku_id,
            "title": "秒杀 · 红富士",
            "price": 990,
            "stock": stock,
            "day": start.date().isoformat(),
            "times": [start.strftime("%H:%M")],
            "minutes": 60,
            **kw,
        }
        r = self.api.c.post("/api/admin/flash", json=body, headers=self.op)
        assert r.status_code == 201, r.text
        return int(r.json()[0]["id"])

    def buy(
        self, member: dict[str, str], slot_id: int, quantity: int = 1, key: str | None = None
    ) -> Any:
        headers = {**auth(member), **({"Idempotency-Key": key} if key else {})}
        return self.api.c.post(
            f"/api/flash/{slot_id}/buy", json={"quantity": quantity}, headers=headers
        )


@pytest.fixture
def flash(api: Api) -> Flash:
    op = api.operator()
    sid, _ = api.supplier(op)
    r = api.c.post("/api/admin/products", json={"supplier_id": sid, "title": "苹果"}, headers=op)
    assert r.status_code == 201, r.text
    r = api.c.post(
        f"/api/admin/products/{r.json()['id']}/skus",
        json={"name": "5斤", "price": 2990, "stock": 2000},
        headers=op,
    )
    assert r.status_code == 201, r.text
    return Flash(api, op, sid, int(r.json()["id"]))
