"""Flash-sale benchmark: purchases while stock lasts, and sold-out refusals, next to the same
server's no-op, with 1,000 clients.

    python bench/flash.py [--database-url URL] [--clients 1000] [--seconds 10] [--stock 500]

Starts ``tuangou serve`` on a free 127.0.0.1 port (a temporary SQLite file by default), seeds
one member per client and one live flash slot, then drives it with ``--clients`` concurrent
aiohttp clients (one connection each, at most ``--clients`` at once) in three phases:

1. ``GET /api/noop`` for ``--seconds``: the ceiling of this server, client and machine;
2. purchases: every client buys one unit at a time (``POST /api/flash/{id}/buy``, its own
   ``Idempotency-Key``) until it is told ``sold_out``; the rate is the purchase attempts
   answered per second while stock lasted (201s, and refusals while units were left);
3. sold out: after a second to connect (not counted, as in the no-op phase), for
   ``--seconds`` every client keeps trying to buy; each is refused with ``sold_out`` from the
   server's memory, without the database.

It checks that exactly ``--stock`` units were sold (held by the orders made) and the audit's
invariants. The last line is ``flash soldout/noop ratio: X``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The server, seeding and measuring helpers of the join benchmark.
from join import (
    audit,
    count,
    drive,
    free_port,
    ms,
    noop_phase,
    pending_work,
    percentile,
    point_at,
    start_server,
    stop_server,
)


@dataclass
class World:
    slot_id: int
    tokens: list[str]


def seed(clients: int, stock: int) -> World:
    from tuangou.accounts import service as accounts
    from tuangou.catalog import service as catalog
    from tuangou.core import clock
    from tuangou.core.db import run_in_transaction
    from tuangou.flashsales import service as flash

    tag = random.randrange(10**6)

    def world(session: Any) -> World:
        supplier = catalog.create_supplier(session, name=f"秒杀果园 {tag}")
        product = catalog.create_product(session, supplier_id=supplier.id, title="赣南脐橙")
        sku = catalog.create_sku(
            session, product_id=product.id, name="5斤", price=3990, stock=stock
        )
        start = clock.to_local(clock.now() - timedelta(minutes=1))
        (slot,) = flash.create_slots(
            session,
            flash.SlotsInput(
                sku_id=sku.id,
                title="整点秒杀 (bench)",
                price=990,
                stock=stock,
                per_order_cap=1,
                per_member_cap=stock,
                day=start.date(),
                times=[start.strftime("%H:%M")],
                minutes=120,
                hold_minutes=30,
            ),
        )
        tokens = []
        for k in range(clients):
            phone = f"17{tag:06d}{k:03d}"[:11] if clients <= 1000 else f"17{tag:04d}{k:05d}"
            user = accounts.create_user(session, phone=phone, password=None, nickname=f"抢购{k}")
            user.address = {"name": user.nickname, "phone": phone, "line": "幸福里 1 号"}
            session.flush()
            tokens.append(accounts.issue_token(user))
        return World(int(slot.id), tokens)

    return run_in_transaction(world)


@dataclass
class Phase:
    ok: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0


async def buy_phase(
    base: str, world: World, clients: int, *, until_sold_out: bool, seconds: float
) -> Phase:
    """Every client buys, one request after the other: until it hears ``sold_out`` (the
    purchase phase), or for ``seconds`` (the sold-out phase)."""
    phase = Phase()
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=300)
    url = f"{base}/api/flash/{world.slot_id}/buy"
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def client(i: int, stop: float) -> None:
            auth = {"Authorization": f"Bearer {world.tokens[i]}"}
            n = 0
            while time.monotonic() < stop:
                n += 1
                headers = {**auth, "Idempotency-Key": f"flash-{i}-{n}-{random.random()}"}
                t0 = time.perf_counter()
                async with http.post(url, json={"quantity": 1}, headers=headers) as r:
                    body = await r.json(content_type=None)
                    status = r.status
                phase.latencies.append(time.perf_counter() - t0)
                if status == 201:
                    phase.ok += 1
                    continue
                code = body.get("code", str(status)) if isinstance(body, dict) else str(status)
                phase.refused[code] += 1
                if until_sold_out and code == "sold_out":
                    return

        if not until_sold_out:  # as the no-op phase: a second to connect, not counted
            warm = time.monotonic() + 1
            await asyncio.gather(*(client(i, warm) for i in range(clients)))
            phase = Phase()
        t0 = time.monotonic()
        stop = t0 + (300 if until_sold_out else seconds)
        await asyncio.gather(*(client(i, stop) for i in range(clients)))
        phase.elapsed = time.monotonic() - t0
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0, help="of the no-op and sold out")
    parser.add_argument("--stock", type=int, default=500, help="units of the slot")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    if args.clients < 1 or args.clients > 10_000 or args.seconds <= 0 or args.stock < 1:
        parser.error("--clients is 1 to 10,000; --seconds and --stock must be positive")

    tmp = Path(tempfile.mkdtemp(prefix="tuangou-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    label = "sqlite (temporary file)" if not args.database_url else url.split("@")[-1]
    point_at(url)
    world = seed(args.clients, args.stock)
    port = args.port or free_port()
    server = start_server(url, port, args.workers, tmp / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        print(f"tuangou flash-sale benchmark: {label}")
        print(
            f"server: {args.workers} process(es) on {base}; {args.clients} clients;"
            f" {args.stock} units; {args.seconds:g} s for the no-op and the sold-out phase;"
            f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run"
        )
        noop, cpu = drive(noop_phase(base, args.clients, args.seconds))
        noop_rate = noop.ok / args.seconds
        print(
            f"noop     GET /api/noop               {noop_rate:9.1f} req/s"
            f"  (the client used {cpu / (args.seconds + 1):.2f} CPU)"
        )
        buying, cpu = drive(
            buy_phase(base, world, args.clients, until_sold_out=True, seconds=args.seconds)
        )
        attempts = buying.ok + sum(buying.refused.values())
        print(
            f"purchase POST buy while stock lasts  {attempts / buying.elapsed:9.1f} attempts/s"
            f"  ({buying.ok} bought in {buying.elapsed:.1f} s: {buying.ok / buying.elapsed:.1f}/s;"
            f" p50 {ms(percentile(buying.latencies, 50))},"
            f" p99 {ms(percentile(buying.latencies, 99))};"
            f" the client used {cpu / buying.elapsed:.2f} CPU)"
        )
        refused = ", ".join(f"{k} {v}" for k, v in buying.refused.most_common()) or "none"
        print(f"         refused: {refused}")
        soldout, cpu = drive(
            buy_phase(base, world, args.clients, until_sold_out=False, seconds=args.seconds)
        )
        told = soldout.refused["sold_out"]
        soldout_rate = told / soldout.elapsed
        others = {k: v for k, v in soldout.refused.items() if k != "sold_out"}
        print(
            f"soldout  POST buy -> 409 sold_out    {soldout_rate:9.1f} refusals/s"
            f"  (p50 {ms(percentile(soldout.latencies, 50))},"
            f" p99 {ms(percentile(soldout.latencies, 99))};"
            f" other answers: {others or 'none'}, bought {soldout.ok};"
            f" the client used {cpu / soldout.elapsed:.2f} CPU)"
        )
        t1 = time.monotonic()
        while pending_work() and time.monotonic() - t1 < 120:
            time.sleep(0.2)
        violations: list[str] = []
        held = count(f"SELECT held + sold FROM flash_slots WHERE id = {world.slot_id}")
        made = count(
            "SELECT COALESCE(SUM(quantity), 0) FROM orders"
            f" WHERE kind = 'flash' AND campaign_id = {world.slot_id}"
        )
        if not held == made == buying.ok + soldout.ok == args.stock:
            violations.append(
                f"sold {held} units, orders hold {made}, {buying.ok + soldout.ok} bought;"
                f" the slot had {args.stock}"
            )
        try:
            violations += audit()
        except Exception as exc:  # a broken audit is a failed audit, and still a result
            violations.append(f"the audit could not run: {type(exc).__name__}: {exc}")
        print(
            f"units sold {held} of {args.stock}; invariants (tuangou audit): "
            f"{'FAIL' if violations else 'PASS'}"
        )
        for v in violations[:20]:
            print(f"  - {v}")
    finally:
        stop_server(server)
    ratio = soldout_rate / noop_rate if noop_rate else 0.0
    print(f"flash soldout/noop ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
