"""A flash-sale storm against real server processes over HTTP, on both backends: 1,000
members at once for 50 units sell exactly 50, and the rest are told ``sold_out``."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from tests.conftest import audit_violations, run_worker
from tests.e2e.server import (
    Member,
    Server,
    call,
    pending_work,
    run_async,
    scalar,
    seed_members,
    wait_until,
)
from tests.e2e.test_concurrency import pay_body

pytestmark = pytest.mark.server

CLIENTS = 1000
UNITS = 50


def seed_slot(stock: int) -> int:
    from tuangou.catalog import service as catalog
    from tuangou.core import clock
    from tuangou.core.db import run_in_transaction
    from tuangou.flashsales import service as flash

    def make(session: Any) -> int:
        supplier = catalog.create_supplier(session, name="秒杀果园")
        product = catalog.create_product(session, supplier_id=supplier.id, title="红富士苹果")
        sku = catalog.create_sku(
            session, product_id=product.id, name="5斤", price=2990, stock=stock
        )
        start = clock.to_local(clock.now() - timedelta(minutes=1))
        (slot,) = flash.create_slots(
            session,
            flash.SlotsInput(
                sku_id=sku.id,
                title="整点秒杀",
                price=990,
                stock=stock,
                per_order_cap=1,
                per_member_cap=1,
                day=start.date(),
                times=[start.strftime("%H:%M")],
                minutes=30,
            ),
        )
        return int(slot.id)

    return run_in_transaction(make)


async def storm(base: str, slot: int, members: list[Member]) -> tuple[Counter[str], list[Any]]:
    seen: Counter[str] = Counter()
    bought: list[Any] = []
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as http:

        async def client(member: Member) -> None:
            headers = {**member.headers, "Idempotency-Key": f"storm-{member.user_id}"}
            reply = await call(
                http, "POST", f"{base}/api/flash/{slot}/buy", body={"quantity": 1}, headers=headers
            )
            seen[str(reply.status) if reply.status == 201 else str(reply.code)] += 1
            if reply.status == 201:
                bought.append(reply.body)
                paid = await call(
                    http, "POST", f"{base}/api/sandbox/pay", body=pay_body(reply.body["pay_url"])
                )
                assert paid.status == 200, paid

        await asyncio.gather(*(client(m) for m in members))
    return seen, bought


def test_a_thousand_members_for_fifty_units_buy_exactly_fifty(db_url: str, tmp_path: Any) -> None:
    members = seed_members(CLIENTS)
    slot = seed_slot(UNITS)
    with Server(db_url, log_dir=tmp_path, workers=1) as server:
        seen, bought = run_async(storm(server.url, slot, members))
        assert seen == {"201": UNITS, "sold_out": CLIENTS - UNITS}, seen
        assert len({b["order"]["user_id"] for b in bought}) == UNITS
        wait_until(
            lambda: scalar("SELECT sold FROM flash_slots WHERE id = :id", id=slot) == UNITS,
            timeout=60,
            what="the payments to be confirmed",
        )
        wait_until(lambda: pending_work() == 0, timeout=60, what="the worker to drain")
    run_worker()
    assert scalar("SELECT available + held FROM flash_slots WHERE id = :id", id=slot) == 0
    assert scalar("SELECT COUNT(*) FROM orders WHERE kind = 'flash'") == UNITS
    assert audit_violations() == []
