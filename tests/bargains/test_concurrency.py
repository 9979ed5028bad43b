"""500 friends cut one bargain at once, over real HTTP against a real server process, on
SQLite and PostgreSQL: the cuts never pass the floor, each helper cuts once, and every cut
is the schedule's next one."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from tests.conftest import audit_violations
from tests.e2e.server import Member, Reply, Server, call, rows, run_async, scalar, seed_members
from tuangou.bargains import rules

pytestmark = pytest.mark.server

HELPERS = 500
NEEDED = 40
START, FLOOR = 100_000, 20_000


def seed_bargain(starter: Member) -> tuple[int, str]:
    """A live bargain campaign (start ¥1,000.00, floor ¥200.00, 40 helpers) and one bargain
    started on it; returns the bargain's id and share token."""
    from tuangou.bargains import service as bargains
    from tuangou.catalog import service as catalog
    from tuangou.core import clock
    from tuangou.core.db import run_in_transaction

    def make(session: Any) -> tuple[int, str]:
        now = clock.now()
        supplier = catalog.create_supplier(session, name=f"锅厂{random.randrange(10**9)}")
        product = catalog.create_product(session, supplier_id=supplier.id, title="铁锅")
        sku = catalog.create_sku(session, product_id=product.id, name="32cm", price=START, stock=5)
        campaign = bargains.create_campaign(
            session,
            bargains.CampaignInput(
                sku_id=sku.id,
                ends_at=now + timedelta(days=1),
                start_price=START,
                floor_price=FLOOR,
                helpers_needed=NEEDED,
                stock=5,
                starts_at=now - timedelta(minutes=1),
            ),
        )
        b = bargains.start_bargain(session, user_id=starter.user_id, campaign_id=campaign.id)
        return int(b.id), b.share_token

    return run_in_transaction(make)


async def storm(
    url: str, bargain_id: int, share: str, helpers: list[Member]
) -> list[tuple[Member, Reply]]:
    """Every helper at once; a few of them twice at the same instant (a double tap)."""
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=2)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def cut(member: Member) -> tuple[Member, Reply]:
            reply = await call(
                http,
                "POST",
                f"{url}/api/bargains/{bargain_id}/help",
                body={"share": share},
                headers=member.headers,
            )
            return member, reply

        twice = helpers[:10]
        return await asyncio.gather(*(cut(m) for m in [*helpers, *twice]))


def test_five_hundred_helpers_never_over_cut(db_url: str, tmp_path: Any) -> None:
    starter, *helpers = seed_members(HELPERS + 1)
    bargain_id, share = seed_bargain(starter)
    with Server(db_url, log_dir=tmp_path) as server:
        results = run_async(storm(server.url, bargain_id, share, helpers))

    cut = [(m, r) for m, r in results if r.status == 201]
    refused = [r for _, r in results if r.status != 201]
    assert len(cut) == NEEDED, sorted({(r.status, r.code) for r in refused})
    assert {(r.status, r.code) for r in refused} <= {
        (409, "bargain_complete"),
        (409, "already_helped"),
        (409, "help_limit_reached"),
    }
    # Each helper once, and every reply told the truth: the rows are the 201s.
    winners = sorted(m.user_id for m, _ in cut)
    assert len(set(winners)) == NEEDED
    helps = rows(
        "SELECT helper_id, amount FROM bargain_helps WHERE bargain_id = :b ORDER BY id",
        b=bargain_id,
    )
    assert sorted(h for h, _ in helps) == winners
    # The cuts are the schedule, in order, and sum exactly to start − floor: never more.
    assert [a for _, a in helps] == rules.schedule(START - FLOOR, NEEDED)
    assert sum(a for _, a in helps) == START - FLOOR
    assert sorted(r.body["cut"] for _, r in cut) == sorted(a for _, a in helps)
    assert rows("SELECT price, cuts_taken, status FROM bargains WHERE id = :b", b=bargain_id) == [
        (FLOOR, NEEDED, "complete")
    ]
    assert scalar("SELECT COUNT(*) FROM bargain_usage WHERE helped = 1") == NEEDED
    assert audit_violations() == []
