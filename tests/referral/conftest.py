"""Helpers of the referral tests: members who sign up with each other's invite codes, a
leader's wave they buy from, orders picked up (completed) and refunded after sale."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.aftersales.conftest import arrive, pick_up
from tests.conftest import Api, _auth, run_worker, scalar
from tests.pools.conftest import Waves
from tuangou.core import clock
from tuangou.core.db import run_in_transaction

APPLE = 1000  # fen


class Ref:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.c = api.c
        self.waves = Waves(api)
        self.op = self.waves.op
        self.apples = self.waves.sku(title="苹果", price=APPLE)
        self.leader = self.waves.leader("王团长")
        self.listing = 0
        self.item = 0

    def code(self, who: dict[str, str]) -> str:
        r = self.c.get("/api/me/referral", headers=_auth(who))
        assert r.status_code == 200, r.text
        return str(r.json()["code"])

    def signup(self, name: str, code: str | None = None) -> Any:
        phone = self.api.phone()
        body: dict[str, Any] = {
            "phone": phone,
            "password": "secret123",
            "nickname": name,
            "address": {"name": name, "phone": phone, "line": "幸福里 1 号"},
        }
        if code is not None:
            body["invite_code"] = code
        return self.c.post("/api/auth/signup", json=body)

    def member(self, name: str, invited_by: dict[str, str] | None = None) -> dict[str, str]:
        r = self.signup(name, self.code(invited_by) if invited_by else None)
        assert r.status_code == 201, r.text
        who = {
            "Authorization": f"Bearer {r.json()['token']}",
            "user_id": str(r.json()["user"]["id"]),
        }
        r = self.c.post(
            f"/api/communities/invite/{self.leader['invite_code']}/join", headers=_auth(who)
        )
        assert r.status_code in (200, 201), r.text
        return who

    def wave(self) -> None:
        page = self.waves.publish(
            self.leader, [{"sku_id": self.apples, "price": APPLE, "moq": 1, "stock": 1000}]
        )
        self.listing = int(page["listing"]["id"])
        self.item = int(page["items"][0]["item_id"])

    def buy(self, who: dict[str, str], apples: int = 5) -> int:
        if not self.listing:
            self.wave()
        placed = self.waves.order(who, self.listing, {self.item: apples})
        return int(placed["order"]["id"])

    def settle(self) -> None:
        clock.advance(timedelta(hours=4))
        run_worker()
        self.listing = 0

    def complete(self, *order_ids: int) -> None:
        for order_id in order_ids:
            arrive(order_id)
            pick_up(order_id)

    def settings(self, **changes: Any) -> Any:
        body = {"level1_bps": 1000, "level2_bps": 500, **changes}
        return self.c.put("/api/admin/referral/settings", json=body, headers=self.op)

    def refund(self, order_id: int, amount: int, key: str) -> None:
        """An after-sale refund of a completed order, as an accepted case makes it."""
        from tuangou.commission import service as commission
        from tuangou.orders import service as orders

        def work(session: Any) -> None:
            order = orders.get(session, order_id, lock=True)
            orders.refund_after_release(
                session,
                order,
                amount=amount,
                reason="after_sale",
                key=key,
                note="售后",
                reversal=commission.reversal_legs(session, order, amount),
            )

        run_in_transaction(work)
        run_worker()

    def withdraw(self, who: dict[str, str], amount: int) -> Any:
        return self.c.post(
            "/api/me/referral/withdrawals", json={"amount": amount}, headers=_auth(who)
        )

    def me(self, who: dict[str, str]) -> dict[str, Any]:
        r = self.c.get("/api/me/referral", headers=_auth(who))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def wallet(self, who: dict[str, str]) -> dict[str, int]:
        return dict(self.me(who)["wallet"])

    def lines(self, order_id: int) -> dict[int, tuple[int, int, int, int]]:
        """level -> (earner, amount, reversed, rate) of an order's referral lines."""
        from tests.conftest import rows

        found = rows(
            "SELECT level, user_id, amount, reversed_amount, rate_bps FROM referral_commissions"
            " WHERE order_id = :o",
            o=order_id,
        )
        return {int(lv): (int(u), int(a), int(r), int(b)) for lv, u, a, r, b in found}

    def kept(self, order_id: int) -> int:
        return int(
            scalar("SELECT paid_amount - refunded_amount FROM orders WHERE id = :o", o=order_id)
        )


def uid(who: dict[str, str]) -> int:
    return int(who["user_id"])


@pytest.fixture
def ref(api: Api) -> Ref:
    return Ref(api)
