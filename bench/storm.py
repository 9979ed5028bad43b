"""Storm benchmark: many members at once on one team campaign of a few units, as members
behave, and the latency they see.

    python bench/storm.py [--database-url URL] [--users 1000] [--concurrency 200]
                          [--stock 100] [--port PORT]

Starts ``tuangou serve`` (with its worker) on 127.0.0.1 like bench/join.py, seeds through the
services ``--users`` members (each with an address) and one campaign of ``--stock`` units in
teams of two, then lets the members loose, ``--concurrency`` at a time. Each member:

1. opens the campaign's detail (``GET /api/campaigns/{id}``);
2. joins an open team it saw there that has a seat left, or else opens a team
   (``POST /api/teams/{id}/join`` / ``POST /api/campaigns/{id}/teams``, with an
   ``Idempotency-Key``); refused (``team_full``, ``team_closed``, ``sold_out``,
   ``too_few_to_open``), it looks at the detail again half a second later, three tries in all;
3. with a seat, pays on the sandbox (``POST /api/sandbox/pay``), then polls its order
   (``GET /api/orders/{id}``) and the detail every half second, six times at most, until its
   team has formed;
4. refused three times, or its team formed, it stops.

It prints the reply mix, p50/p90/p99 of every request and of the campaign detail alone,
the units sold (never more than ``--stock``), and the audit (``tuangou audit``'s checks) once
the worker drained. Last line, exactly: ``storm p99 ms: X`` (the p99 of all requests, in whole
milliseconds). Load goes only to 127.0.0.1 and is bounded (each member makes at most about
twenty requests; at most 120 s waiting for the worker).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from join import (
    audit,
    bench_campaign,
    count,
    drive,
    free_port,
    pending_work,
    percentile,
    point_at,
    start_server,
    stop_server,
)

POLLS = 6  # at most this many polls of the order and the detail after paying
POLL_EVERY = 0.5  # seconds between polls
TRIES = 3  # a refused member looks at the detail again, at most this many times in all
# Refusals after which a member looks again: a team filled or not confirmed yet, or no team
# can open now (a team may show up with a seat once its opener's payment is confirmed).
RETRIED = ("team_full", "team_closed", "sold_out", "too_few_to_open")


@dataclass
class World:
    campaign_id: int
    tokens: list[str]


def seed(users: int, stock: int) -> World:
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    tag = random.randrange(10**6)

    def world(session: Any) -> World:
        campaign = bench_campaign(
            session,
            tag=f"storm {tag}",
            title="水蜜桃 · 两人团 (storm)",
            product="阳山水蜜桃",
            sku="6个装",
            price=5990,
            tiers=[(2, 3990)],
            stock=stock,
            min_size=2,
            max_size=2,
            per_member_limit=1,
        )
        tokens = []
        for k in range(users):
            phone = f"17{tag:06d}{k:03d}"
            user = accounts.create_user(session, phone=phone, password=None, nickname=f"团员{k}")
            user.address = {"name": user.nickname, "phone": phone, "line": "幸福里 2 号"}
            session.flush()
            tokens.append(accounts.issue_token(user))
        return World(campaign.id, tokens)

    return run_in_transaction(world)


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)  # every request, seconds
    detail: list[float] = field(default_factory=list)  # the campaign detail alone
    replies: Counter[str] = field(default_factory=Counter)  # "POST join 201", "… sold_out"
    outcome: Counter[str] = field(default_factory=Counter)  # how each member's visit ended
    seats: int = 0  # 201s of joins and openings


async def storm(base: str, world: World, users: int, concurrency: int) -> Load:
    load = Load()
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=300)
    campaign = f"{base}/api/campaigns/{world.campaign_id}"
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def call(kind: str, method: str, url: str, **kw: Any) -> tuple[int, Any]:
            t0 = time.perf_counter()
            for attempt in range(3):
                try:
                    async with http.request(method, url, **kw) as r:
                        body = await r.json(content_type=None) if r.content_length != 0 else None
                        status = r.status
                    break
                except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
                    # A kept-alive connection the server closed as the request went out (its
                    # idle timeout): sent again on a new one (the POSTs carry their key).
                    load.replies["connection closed by the server, sent again"] += 1
                    if attempt == 2:
                        raise
            elapsed = time.perf_counter() - t0
            load.latencies.append(elapsed)
            if kind == "detail":
                load.detail.append(elapsed)
            code = body.get("code") if isinstance(body, dict) and status >= 400 else None
            load.replies[f"{method} {kind} {status}{' ' + code if code else ''}"] += 1
            return status, body

        async def member(i: int) -> None:
            rng = random.Random(i)
            auth = {"Authorization": f"Bearer {world.tokens[i]}"}
            async with gate:
                seat = None
                code = None
                for attempt in range(TRIES):
                    if attempt:
                        await asyncio.sleep(POLL_EVERY)
                    _, detail = await call("detail", "GET", campaign)
                    teams = [
                        t
                        for t in (detail or {}).get("open_teams", [])
                        if t.get("seats_left", 0) > 0
                    ]
                    headers = {**auth, "Idempotency-Key": f"storm-{i}-{attempt}"}
                    if teams:
                        team = rng.choice(teams)
                        kind, url = "join", f"{base}/api/teams/{team['id']}/join"
                    else:
                        kind, url = "open", f"{campaign}/teams"
                    status, body = await call(kind, "POST", url, json={}, headers=headers)
                    if status == 201:
                        seat = body
                        break
                    code = (body or {}).get("code") or str(status)
                    if code not in RETRIED:
                        break
                if seat is None:
                    load.outcome[f"refused {code}"] += 1
                    return
                load.seats += 1
                q = {k: v[0] for k, v in parse_qs(urlparse(seat["pay_url"]).query).items()}
                pay = {"ref": q["ref"], "amount": int(q["amount"]), "sig": q["sig"]}
                await call("pay", "POST", f"{base}/api/sandbox/pay", json=pay)
                order = f"{base}/api/orders/{seat['order']['id']}"
                for _ in range(POLLS):
                    await asyncio.sleep(POLL_EVERY)
                    _, mine = await call("order", "GET", order, headers=auth)
                    if (mine or {}).get("status") in ("confirmed", "shipped", "completed"):
                        load.outcome["team formed"] += 1
                        return
                    await call("detail", "GET", campaign)
                load.outcome["paid, team not formed yet"] += 1

        await asyncio.gather(*(member(i) for i in range(users)))
    return load


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--stock", type=int, default=100, help="units of the campaign")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    if not 1 <= args.users <= 10_000 or args.concurrency < 1 or args.stock < 2:
        parser.error("--users is 1 to 10000, --concurrency at least 1, --stock at least 2")

    tmp = Path(tempfile.mkdtemp(prefix="tuangou-bench-storm-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    label = "sqlite (temporary file)" if not args.database_url else url.split("@")[-1]
    point_at(url)
    world = seed(args.users, args.stock)
    port = args.port or free_port()
    server = start_server(url, port, 1, tmp / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        print(f"tuangou storm benchmark: {label}")
        print(
            f"{args.users} members, {args.concurrency} at a time, on one campaign of"
            f" {args.stock} units in teams of two; {os.cpu_count()} CPUs,"
            f" load average {os.getloadavg()[0]:.1f} before the run"
        )
        t0 = time.monotonic()
        load, cpu = drive(storm(base, world, args.users, args.concurrency))
        elapsed = time.monotonic() - t0
        total = len(load.latencies)
        print(
            f"{total} requests in {elapsed:.1f} s ({total / elapsed:.0f}/s;"
            f" the client used {cpu / elapsed:.2f} CPU)"
        )
        print("replies:")
        grouped: dict[str, int] = defaultdict(int)
        for reply, n in sorted(load.replies.items()):
            grouped[reply] += n
        for reply, n in grouped.items():
            print(f"  {reply:44s} {n:6d}")
        print("members: " + ", ".join(f"{k} {v}" for k, v in load.outcome.most_common()))
        for name, values in (("all requests", load.latencies), ("campaign detail", load.detail)):
            print(
                f"{name:16s} p50 {ms(percentile(values, 50)):6d} ms"
                f"  p90 {ms(percentile(values, 90)):6d} ms"
                f"  p99 {ms(percentile(values, 99)):6d} ms  ({len(values)} requests)"
            )
        t1 = time.monotonic()
        while pending_work() and time.monotonic() - t1 < 120:
            time.sleep(0.2)
        sold, held, reserved, stock = (
            count(f"SELECT {c} FROM team_campaigns WHERE id = {world.campaign_id}")
            for c in ("sold", "held", "reserved", "stock")
        )
        print(
            f"units: {sold} sold, {held} held, {reserved} reserved of {stock}"
            f" ({load.seats} seats taken; the worker drained {time.monotonic() - t1:.1f} s"
            " after the storm)"
        )
        try:
            violations = audit()
            if pending_work():
                violations.append("the worker did not drain within 120 s")
            if sold + held + reserved > stock:
                violations.append(f"oversold: {sold} + {held} + {reserved} > {stock}")
        except Exception as exc:  # a broken audit is a failed audit, and still a result
            violations = [f"the audit could not run: {type(exc).__name__}: {exc}".splitlines()[0]]
        print(f"invariants (tuangou audit): {'FAIL' if violations else 'PASS'}")
        for v in violations[:20]:
            print(f"  - {v}")
    finally:
        stop_server(server)
    print(f"storm p99 ms: {ms(percentile(load.latencies, 99))}")
    if violations:
        sys.exit(1)


if __name__ == "__main__":
    main()
