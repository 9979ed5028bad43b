"""Read benchmark: the most-read routes, next to the same server's no-op, in one run.

    python bench/read.py [--database-url URL] [--clients 64] [--seconds 10] [--port P]

Starts ``tuangou serve`` on 127.0.0.1 (a temporary SQLite file by default) as
``bench/join.py`` does, and seeds through the services: a team-buy campaign with 100 open
teams (their openers paid, some joined), a community wave whose chain list (接龙) holds 1,000
paid orders, and a member of that community (a bearer token for the API, a page session for
the pages). Then, each for ``--seconds`` after a one-second warm-up, with ``--clients``
concurrent aiohttp clients, one phase at a time:

1. ``GET /api/noop``: the ceiling of this server, client and machine;
2. ``GET /api/campaigns/{id}``: the campaign's detail (the first page of its open teams);
3. ``GET /api/listings/{id}``: the wave's detail (its chain summarised);
4. ``GET /api/listings/{id}/chain``: the chain list's first page;
5. ``GET /``: the member's home page (HTML).

It prints each phase's rate (200s per second), p50 and p99, the reply's size and the ratio
to the no-op. The last line is ``campaign read/noop ratio: X``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The server and measuring helpers of the join benchmark.
from join import (
    bench_campaign,
    drive,
    free_port,
    ms,
    noop_phase,
    percentile,
    point_at,
    start_server,
    stop_server,
)

TEAMS = 100
CHAIN = 1_000
CHAIN_MEMBERS = 100  # the chain's orders come from this many neighbours, ten each


@dataclass
class World:
    campaign_id: int
    listing_id: int
    token: str  # the member's bearer token (the API)
    page_session: str  # the member's page session (the pages' cookie)


def seed() -> World:
    from tuangou.accounts import service as accounts
    from tuangou.catalog import service as catalog
    from tuangou.communities import service as communities
    from tuangou.core import clock
    from tuangou.core.db import run_in_transaction
    from tuangou.payments import service as payments
    from tuangou.pools import service as pools
    from tuangou.teams import service as team_buys

    tag = random.randrange(10**6)
    phones = iter(range(10**5))

    def person(session: Any, name: str) -> Any:
        phone = f"17{tag:06d}{next(phones):03d}"
        user = accounts.create_user(session, phone=phone, password=None, nickname=name)
        user.address = {"name": name, "phone": phone, "line": "幸福里 1 号"}
        session.flush()
        return user

    def campaign(session: Any) -> int:
        c = bench_campaign(
            session,
            tag=f"{tag}",
            title="苹果 · 阶梯拼团 (bench)",
            tiers=[(3, 1990), (5, 1790)],
            stock=10**6,
            min_size=3,
            max_size=5,
            per_member_limit=10**6,
        )
        for k in range(TEAMS):
            seat = team_buys.open_team(
                session, user_id=person(session, f"开团{k}").id, campaign_id=c.id
            )
            payments.sandbox_pay_now(session, seat.started.payment)
            for j in range(k % 3):  # 0, 1 or 2 joiners: forming and formed teams
                joined = team_buys.join_team(
                    session, user_id=person(session, f"团员{k}-{j}").id, team_id=seat.team.id
                )
                payments.sandbox_pay_now(session, joined.started.payment)
        return int(c.id)

    def wave(session: Any) -> tuple[int, int, list[int]]:
        operator = person(session, "运营")
        operator.role = "operator"
        leader_user = person(session, "王团长")
        application = communities.apply(
            session,
            leader_user.id,
            communities.PickupPointInput(
                name="王团长的自提点", address="幸福里 3 栋", latitude=31.2, longitude=121.4
            ),
        )
        approval = communities.approve_application(session, application.id, operator_id=operator.id)
        community = communities.create_community(session, leader_user.id, name="幸福里")
        supplier = catalog.create_supplier(session, name=f"菜园 {tag}")
        product = catalog.create_product(session, supplier_id=supplier.id, title="青菜")
        sku = catalog.create_sku(session, product_id=product.id, name="1斤", price=500, stock=10**6)
        now = clock.now()
        w, listing = pools.publish_wave(
            session,
            user_id=leader_user.id,
            community_id=community.id,
            pickup_point_id=approval.pickup_point.id,
            data=pools.WaveInput(
                title="明日达 (bench)",
                cutoff_at=now + timedelta(days=2),
                delivery_date=(now + timedelta(days=3)).date(),
                items=[
                    pools.ItemInput(
                        sku_id=sku.id, price=500, moq=1, stock=10**6, per_member_limit=1000
                    )
                ],
                commission_bps=1000,
                hold_minutes=120,
            ),
        )
        neighbours = []
        for k in range(CHAIN_MEMBERS + 1):
            user = person(session, f"邻居{k}")
            communities.join_by_invite(session, community.invite_code, user.id)
            neighbours.append(user.id)
        (item,) = pools.items_of(session, w.id)
        return listing.id, item.id, neighbours

    def orders(session: Any, listing_id: int, item_id: int, users: list[int]) -> None:
        for user_id in users:
            placed = pools.place_order(
                session, user_id=user_id, listing_id=listing_id, quantities={item_id: 1}
            )
            payments.sandbox_pay_now(session, placed.started.payment)

    def sessions(session: Any, user_id: int) -> tuple[str, str]:
        user = accounts.get_user(session, user_id)
        return accounts.issue_token(user), accounts.open_page_session(session, user)[0]

    campaign_id = run_in_transaction(campaign)
    listing_id, item_id, neighbours = run_in_transaction(wave)
    member, others = neighbours[0], neighbours[1:]
    lines = [others[k % len(others)] for k in range(CHAIN - 1)]
    lines.insert(CHAIN // 2, member)  # the member's own order, in the middle of the chain
    for start in range(0, CHAIN, 100):  # in batches: each a transaction of its own
        run_in_transaction(
            lambda s, b=lines[start : start + 100]: orders(s, listing_id, item_id, b)
        )
    token, page_session = run_in_transaction(lambda s: sessions(s, member))
    return World(campaign_id, listing_id, token, page_session)


# ---------------------------------------------------------------- the load


@dataclass
class Phase:
    ok: int = 0
    other: int = 0  # replies other than 200
    latencies: list[float] = field(default_factory=list)  # of the 200s, seconds
    size: int = 0  # bytes of the last 200's body


async def read_phase(
    base: str, path: str, headers: dict[str, str], clients: int, seconds: float
) -> Phase:
    phase = Phase()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def client(stop: float) -> None:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                async with http.get(base + path, headers=headers, allow_redirects=False) as r:
                    body = await r.read()
                    status = r.status
                elapsed = time.perf_counter() - t0
                if status == 200:
                    phase.ok += 1
                    phase.latencies.append(elapsed)
                    phase.size = len(body)
                else:
                    phase.other += 1

        warm = time.monotonic() + 1
        await asyncio.gather(*(client(warm) for _ in range(clients)))
        phase.ok, phase.other, phase.latencies = 0, 0, []
        stop = time.monotonic() + seconds
        await asyncio.gather(*(client(stop) for _ in range(clients)))
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")

    tmp = Path(tempfile.mkdtemp(prefix="tuangou-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    label = "sqlite (temporary file)" if not args.database_url else url.split("@")[-1]
    point_at(url)
    t0 = time.monotonic()
    world = seed()
    seeded = time.monotonic() - t0
    port = args.port or free_port()
    server = start_server(url, port, 1, tmp / "server.log")
    base = f"http://127.0.0.1:{port}"
    bearer = {"Authorization": f"Bearer {world.token}"}
    cookie = {"Cookie": f"tuangou_session={world.page_session}"}
    phases = [
        ("campaign", f"/api/campaigns/{world.campaign_id}", {}),
        ("listing", f"/api/listings/{world.listing_id}", bearer),
        ("chain", f"/api/listings/{world.listing_id}/chain", bearer),
        ("home", "/", cookie),
    ]
    rates: dict[str, float] = {}
    try:
        print(f"tuangou read benchmark: {label}")
        print(
            f"server: 1 process on {base}; {args.clients} clients; {args.seconds:g} s per phase;"
            f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run;"
            f" seeded {TEAMS} open teams and a {CHAIN}-line chain in {seeded:.0f} s"
        )
        noop, cpu = drive(noop_phase(base, args.clients, args.seconds))
        noop_rate = noop.ok / args.seconds
        print(
            f"noop      GET /api/noop{'':27} {noop_rate:9.1f} req/s"
            f"  (the client used {cpu / (args.seconds + 1):.2f} CPU)"
        )
        for name, path, headers in phases:
            phase, cpu = drive(read_phase(base, path, headers, args.clients, args.seconds))
            rate = phase.ok / args.seconds
            rates[name] = rate
            others = f"; {phase.other} replies not 200" if phase.other else ""
            print(
                f"{name:9} GET {path:34} {rate:9.1f} req/s"
                f"  (p50 {ms(percentile(phase.latencies, 50))},"
                f" p99 {ms(percentile(phase.latencies, 99))};"
                f" {phase.size:,} bytes; /noop {rate / noop_rate if noop_rate else 0:.2f};"
                f" the client used {cpu / (args.seconds + 1):.2f} CPU{others})"
            )
    finally:
        stop_server(server)
    ratio = rates.get("campaign", 0.0) / noop_rate if noop_rate else 0.0
    print(f"campaign read/noop ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
