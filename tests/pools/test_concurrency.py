"""Waves under concurrency, against a real server process over real HTTP (and real worker
processes), on SQLite and PostgreSQL:

* many members ordering the last units of a hot item at the same instant;
* members ordering (and paying) right through the cut-off instant;
* two worker processes settling the same wave at once.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest

from tests.conftest import audit_violations, run_worker
from tests.e2e.server import Reply, Server, call, pending_work, run_async, start_worker, wait_until
from tests.pools.support import (
    Item,
    Person,
    adopt,
    execute,
    rows,
    scalar,
    seed_catalogue_wave,
    seed_leader,
    seed_members,
    seed_operator,
    seed_paid_order,
    seed_sku,
    seed_sku_of,
    seed_wave,
)
from tuangou.core import clock
from tuangou.pools import rules

pytestmark = pytest.mark.server

TIMEOUT = aiohttp.ClientTimeout(total=120)


def pay_body(pay_url: str) -> dict[str, Any]:
    q = {k: v[0] for k, v in parse_qs(urlparse(pay_url).query).items()}
    return {"ref": q["ref"], "amount": int(q["amount"]), "sig": q["sig"], "outcome": "approve"}


def drain() -> None:
    """The server's worker finishes what is due; then the jobs run here until idle too."""
    wait_until(lambda: pending_work() == 0, timeout=120, what="the worker to drain")
    run_worker()


def item_row(item_id: int) -> dict[str, Any]:
    (row,) = rows(
        "SELECT price, tiers, moq, stock, sold, held, status, final_unit_price"
        " FROM wave_items WHERE id = :i",
        i=item_id,
    )
    keys = ("price", "tiers", "moq", "stock", "sold", "held", "status", "final_unit_price")
    found = dict(zip(keys, row, strict=True))
    if isinstance(found["tiers"], str):
        found["tiers"] = json.loads(found["tiers"])
    return found


def assert_settled_by_the_rules(item_id: int) -> None:
    """An item's outcome is what the rules say of its final total."""
    item = item_row(item_id)
    outcome = rules.settle_item(
        price=item["price"],
        tiers=rules.ordered_pairs(item["tiers"]),
        moq=item["moq"],
        total=item["sold"] if item["status"] == "confirmed" else 0,
    )
    if item["status"] == "confirmed":
        assert outcome.confirmed and item["final_unit_price"] == outcome.final_unit_price, item
    else:
        assert item["status"] == "cancelled" and item["sold"] == 0, item


# ---------------------------------------------------------------- the last units


def test_members_racing_for_the_last_units_never_oversell(db_url: str, tmp_path: Any) -> None:
    op = seed_operator()
    supplier_id, hot_sku = seed_sku(title="车厘子")
    plenty_sku = seed_sku_of(supplier_id, title="鸡蛋")
    leader = seed_leader(op.user_id)
    stock = 25
    _, listing, (hot, plenty) = seed_wave(
        leader,
        [
            Item(hot_sku, price=3990, moq=1, stock=stock, per_member_limit=2),
            Item(plenty_sku, price=990, moq=1, stock=10_000, per_member_limit=5),
        ],
    )
    members = seed_members(leader, 80)
    wanted = {m.user_id: 2 if i % 3 == 0 else 1 for i, m in enumerate(members)}

    async def race(base: str) -> list[tuple[Person, Reply]]:
        sessions = [
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), timeout=TIMEOUT)
            for _ in members
        ]
        try:
            for http in sessions:  # every connection open before the start
                assert (await call(http, "GET", f"{base}/api/noop")).status == 200
            barrier = asyncio.Barrier(len(members))

            async def order(http: aiohttp.ClientSession, m: Person) -> tuple[Person, Reply]:
                await barrier.wait()
                reply = await call(
                    http, "POST", f"{base}/api/listings/{listing}/orders",
                    body={"items": {str(hot): wanted[m.user_id], str(plenty): 1}},
                    headers={**m.headers, "Idempotency-Key": f"hot-{m.user_id}"},
                )  # fmt: skip
                return m, reply

            results = await asyncio.gather(
                *(order(h, m) for h, m in zip(sessions, members, strict=True))
            )
            for _, reply in results:
                if reply.status == 201:
                    paid = await call(
                        sessions[0], "POST", f"{base}/api/sandbox/pay",
                        body=pay_body(reply.body["pay_url"]),
                    )  # fmt: skip
                    assert paid.status == 200, paid
            return list(results)
        finally:
            for http in sessions:
                await http.close()

    with Server(db_url, log_dir=tmp_path) as server:
        results = run_async(race(server.url))
        drain()
        log = server.log()
    assert "Traceback" not in log, log

    won = {m.user_id: r for m, r in results if r.status == 201}
    lost = [(m, r) for m, r in results if r.status != 201]
    assert {(r.status, r.code) for _, r in lost} <= {(409, "sold_out")}, lost[:3]
    assert won and lost
    # Never oversold, and nobody was refused while enough was left for them.
    sold_to_winners = sum(wanted[u] for u in won)
    assert sold_to_winners <= stock
    left = stock - sold_to_winners
    assert left < min(wanted[m.user_id] for m, _ in lost)
    hot_item = item_row(hot)
    assert (hot_item["sold"], hot_item["held"]) == (sold_to_winners, 0)
    # A refused order took nothing of the other item either (one transaction).
    assert (item_row(plenty)["sold"], item_row(plenty)["held"]) == (len(won), 0)
    # Every 201 is a committed order of that member, and there is no other order.
    in_db = dict(
        rows(
            "SELECT o.user_id, o.status FROM orders o JOIN wave_orders w ON w.order_id = o.id"
            " WHERE w.listing_id = :l",
            l=listing,
        )
    )
    assert set(in_db) == set(won)
    assert set(in_db.values()) == {"paid"}
    for user_id, reply in won.items():
        assert reply.body["order"]["user_id"] == user_id
    seqs = [s for (s,) in rows("SELECT seq FROM wave_orders WHERE listing_id = :l", l=listing)]
    assert sorted(seqs) == list(range(1, len(won) + 1))
    assert audit_violations() == []


# ---------------------------------------------------------------- the cut-off instant


@dataclass
class Traffic:
    created: dict[int, int] = field(default_factory=dict)  # order id -> member
    refused: Counter[tuple[int, str | None]] = field(default_factory=Counter)
    closed: set[int] = field(default_factory=set)  # members told "wave_closed"
    paid: int = 0


def test_no_order_is_accepted_at_or_after_the_cutoff(db_url: str, tmp_path: Any) -> None:
    op = seed_operator()
    _, sku = seed_sku(title="苹果")
    leader = seed_leader(op.user_id)
    members = seed_members(leader, 24)
    out = Traffic()

    async def client(http: aiohttp.ClientSession, base: str, listing: int, item: int,
                     m: Person, rng: random.Random) -> None:  # fmt: skip
        for attempt in range(2000):
            reply = await call(
                http, "POST", f"{base}/api/listings/{listing}/orders",
                body={"items": {str(item): 1}},
                headers={**m.headers, "Idempotency-Key": f"cut-{m.user_id}-{attempt}"},
            )  # fmt: skip
            if reply.status == 201:
                out.created[reply.body["order"]["id"]] = m.user_id
                if rng.random() < 0.7:  # most pay at once; the callback may come too late
                    paid = await call(
                        http, "POST", f"{base}/api/sandbox/pay",
                        body=pay_body(reply.body["pay_url"]),
                    )  # fmt: skip
                    out.paid += paid.status == 200
                continue
            out.refused[(reply.status, reply.code)] += 1
            if reply.code == "wave_closed":
                out.closed.add(m.user_id)
                return
            await asyncio.sleep(0.01)

    async def traffic(base: str, listing: int, item: int) -> None:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            await asyncio.gather(
                *(
                    client(http, base, listing, item, m, random.Random(i))
                    for i, m in enumerate(members)
                )
            )

    with Server(db_url, log_dir=tmp_path) as server:
        # The wave closes a few seconds from now, while the members keep ordering.
        wave_id, listing, (item,) = seed_wave(
            leader,
            [Item(sku, price=1000, moq=1, stock=1_000_000, per_member_limit=100_000,
                  tiers=((50, 950),))],
            cutoff_at=clock.now() + timedelta(seconds=3),
        )  # fmt: skip
        run_async(traffic(server.url, listing, item))
        wait_until(
            lambda: scalar("SELECT status FROM waves WHERE id = :w", w=wave_id) == "settled",
            timeout=120,
            what="the server's worker to settle the wave",
        )
        drain()
        log = server.log()
    assert "Traceback" not in log, log

    assert out.created, "some orders went in before the cut-off"
    assert out.closed == {m.user_id for m in members}, "everyone was told it closed"
    assert set(out.refused) == {(409, "wave_closed")}, out.refused
    cutoff = scalar("SELECT cutoff_at FROM waves WHERE id = :w", w=wave_id)
    found = rows(
        "SELECT o.id, o.user_id, o.status, o.created_at, o.paid_at, o.paid_amount,"
        " o.refunded_amount FROM orders o JOIN wave_orders w ON w.order_id = o.id"
        " WHERE w.listing_id = :l",
        l=listing,
    )
    # Every 201 is an order, and every order was answered with a 201.
    assert {oid: uid for oid, uid, *_ in found} == out.created
    as_text = str  # SQLite returns strings, PostgreSQL datetimes: compare as ISO text
    final = item_row(item)["final_unit_price"]
    for _oid, _uid, status, created_at, paid_at, paid, refunded in found:
        assert as_text(created_at) < as_text(cutoff), (created_at, cutoff)
        if paid_at is not None:
            assert as_text(paid_at) < as_text(cutoff), (paid_at, cutoff)
            assert status == "confirmed" and refunded == 1000 - final, (status, refunded)
        else:
            # Never paid in time: released; a payment that came late went back in full.
            assert status == "cancelled" and paid == refunded, (status, paid, refunded)
    late = scalar(
        "SELECT COUNT(*) FROM refunds r JOIN wave_orders w ON w.order_id = r.order_id"
        " WHERE w.listing_id = :l AND r.reason = 'late_payment'",
        l=listing,
    )
    confirmed = sum(1 for row in found if row[2] == "confirmed")
    assert confirmed + late == out.paid
    item_after = item_row(item)
    assert (item_after["sold"], item_after["held"]) == (confirmed, 0)
    assert_settled_by_the_rules(item)
    assert audit_violations() == []


# ---------------------------------------------------------------- two workers, one wave


def test_two_workers_settle_a_wave_exactly_once(db_url: str, tmp_path: Any) -> None:
    op = seed_operator()
    supplier_id, apple_sku = seed_sku(title="苹果")
    pear_sku = seed_sku_of(supplier_id, title="梨")
    wave_id, (apples, pears) = seed_catalogue_wave(
        supplier_id,
        [
            Item(apple_sku, price=1000, moq=10, stock=10_000, tiers=((100, 900), (400, 850))),
            Item(pear_sku, price=800, moq=100_000, stock=100_000),  # never reached
        ],
    )
    leaders = [seed_leader(op.user_id, name) for name in ("东门团长", "西门团长")]
    listings = [adopt(leader, wave_id) for leader in leaders]
    rng = random.Random(3)
    baskets: dict[int, dict[int, int]] = {}
    for leader, listing in zip(leaders, listings, strict=True):
        for member in seed_members(leader, 330):
            roll = rng.random()
            basket = (
                {apples: rng.randint(1, 3)}
                if roll < 0.6
                else {apples: 1, pears: 2}
                if roll < 0.85
                else {pears: 1}
            )
            baskets[seed_paid_order(member, listing, basket)] = basket
    total_apples = sum(b.get(apples, 0) for b in baskets.values())
    assert total_apples >= 400  # the top tier is reached: 150 back per apple
    run_worker()  # the sandbox's duplicate callbacks
    events_before = scalar("SELECT COUNT(*) FROM outbox_events WHERE topic = 'wave.confirmed'")
    assert events_before == 0

    workers = [
        start_worker(db_url, tmp_path / f"worker-{n}.log", {"TUANGOU_WORKER_INTERVAL": "0.02"})
        for n in range(2)
    ]
    try:
        wait_until(
            lambda: all("worker started" in w.log() for w in workers),
            timeout=60,
            what="both workers to start",
        )
        # The cut-off passes under both running workers.
        moved = execute(
            "UPDATE waves SET cutoff_at = :t WHERE id = :w",
            t=clock.now() - timedelta(seconds=1),
            w=wave_id,
        )
        assert moved == 1
        wait_until(
            lambda: scalar("SELECT status FROM waves WHERE id = :w", w=wave_id) == "settled",
            timeout=180,
            what="the wave to settle",
        )
        wait_until(lambda: pending_work() == 0, timeout=120, what="the workers to drain")
        assert all(w.alive() for w in workers), [w.log() for w in workers]
    finally:
        for w in workers:
            w.stop()
    logs = [w.log() for w in workers]
    assert not any("Traceback" in log for log in logs), logs

    status = dict(rows("SELECT id, status FROM orders WHERE kind = 'wave'"))
    refunds: dict[int, list[tuple[str, int]]] = {}
    for order_id, reason, amount in rows(
        "SELECT order_id, reason, amount FROM refunds ORDER BY id"
    ):
        refunds.setdefault(order_id, []).append((reason, amount))
    for order_id, basket in baskets.items():
        protection = 150 * basket.get(apples, 0)
        cancelled = 800 * basket.get(pears, 0)
        expected = sorted(
            [("price_protection", protection)] * bool(protection)
            + [("moq_not_met", cancelled)] * bool(cancelled)
        )
        assert sorted(refunds.get(order_id, [])) == expected, order_id
        assert status[order_id] == ("confirmed" if apples in basket else "refunded")
    # One "已成团" message per confirmed order: nothing was settled twice.
    confirmed_events = Counter(
        int((p if isinstance(p, dict) else json.loads(p))["order_id"])
        for (p,) in rows("SELECT payload FROM outbox_events WHERE topic = 'wave.confirmed'")
    )
    assert confirmed_events == Counter({o: 1 for o, b in baskets.items() if apples in b})
    apple_item = item_row(apples)
    assert (apple_item["sold"], apple_item["final_unit_price"]) == (total_apples, 850)
    assert (item_row(pears)["sold"], item_row(pears)["status"]) == (0, "cancelled")
    assert_settled_by_the_rules(apples)
    assert audit_violations() == []
