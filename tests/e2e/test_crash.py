"""Crash safety (invariants 8 and 9): SIGKILL the server and the worker again and again in the
middle of joins, payments, wave orders, leaves and cancellations on a durable database,
restart them, and check that nothing a client was told is lost, that every unanswered request
can learn its outcome by retrying with its Idempotency-Key, that the worker finishes what was
due, and that ``tuangou audit`` passes.

SQLite runs on a file (WAL); PostgreSQL on a cluster of its own started with durable settings
(fsync on), never the fsync-off cluster of the other tests.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import PG_URL, REQUIRE_PG
from tests.e2e.server import (
    Launcher,
    Member,
    Server,
    durable_postgres,
    pending_work,
    pointed_at,
    rows,
    run_async,
    run_cli,
    seed_campaign,
    seed_members,
    wait_until,
)
from tests.e2e.test_concurrency import TIMEOUT, Reply, call, pay_body
from tuangou.core import clock

pytestmark = pytest.mark.server


@pytest.fixture(params=["sqlite", "postgresql"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A durable database, migrated, with this process pointed at it."""
    if request.param == "sqlite":
        with pointed_at(f"sqlite:///{tmp_path / 'durable.db'}") as url:
            yield url
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("TUANGOU_TEST_POSTGRES_URL is not set but PostgreSQL is required")
        pytest.skip("PostgreSQL not configured (TUANGOU_TEST_POSTGRES_URL); run scripts/test")
    with durable_postgres() as pg, pointed_at(pg) as url:
        yield url


# A server killed mid-response can also cut a body short (ClientPayloadError).
CUT = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)


# ---------------------------------------------------------------- the kill loop
#
# Invariant 8, many times over: the server is SIGKILLed 20 times and the standalone worker 10
# times, each at a random moment of a short burst of traffic (openings, joins, sandbox
# payments, wave orders, leaves and cancellations, with Idempotency-Keys). After each kill
# the process restarts, the clients retry what got no reply with the same key, the worker
# drains (no callback owed, no event undelivered) and the audit's checks find nothing. At the
# end every success reply is still true, every order in the database was answered to its
# member, replays answer the same, and ``tuangou audit`` passes. The schedule comes from one
# seed, printed (``TUANGOU_KILL_SEED`` replays it; the traffic's interleaving is the
# machine's).

KILLS = (20, 10)  # (server, worker) in the default run
SOAK_KILLS = (
    int(os.environ.get("TUANGOU_SOAK_SERVER_KILLS", "100")),
    int(os.environ.get("TUANGOU_SOAK_WORKER_KILLS", "50")),
)
LOOP_CLIENTS = 8
BURST = (0.3, 1.0)  # seconds of traffic before a kill
ACTIONS = ["open", "join", "wave", "pay", "leave", "cancel"]
WEIGHTS = [2, 4, 3, 6, 1, 1]


@dataclass
class Success:
    """A reply that said the change was made."""

    kind: str
    member: Member
    path: str
    key: str | None
    body: Any
    reply: Any


@dataclass
class Traffic:
    successes: list[Success] = field(default_factory=list)
    unanswered: list[tuple[str, Member, str, Any, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    joinable: list[int] = field(default_factory=list)  # teams whose opener paid
    unpaid: dict[int, tuple[Member, str, int | None]] = field(default_factory=dict)
    teams_of: dict[int, set[int]] = field(default_factory=dict)  # member -> teams
    wave_orders_of: dict[int, list[int]] = field(default_factory=dict)  # member -> orders
    keys: itertools.count = field(default_factory=itertools.count)

    def took(
        self, kind: str, member: Member, path: str, key: str | None, body: Any, r: Any
    ) -> None:
        self.successes.append(Success(kind, member, path, key, body, r))
        if kind in ("open", "join"):
            team = r["team"]["id"]
            self.teams_of.setdefault(member.user_id, set()).add(team)
            opener_team = team if kind == "open" else None
            self.unpaid[r["order"]["id"]] = (member, r["pay_url"], opener_team)
        elif kind == "wave":
            self.wave_orders_of.setdefault(member.user_id, []).append(r["order"]["id"])
            self.unpaid[r["order"]["id"]] = (member, r["pay_url"], None)


# The requests that take an Idempotency-Key (a sandbox payment is idempotent by its ref, and a
# wave order's cancellation answers the cancelled order again).
KEYED = ("open", "join", "wave", "leave")


async def loop_client(
    http: aiohttp.ClientSession,
    base: str,
    seeded: tuple[int, int, int],
    member: Member,
    rng: random.Random,
    traffic: Traffic,
    stop: asyncio.Event,
) -> None:
    campaign_id, listing_id, item_id = seeded
    me = member.user_id
    while not stop.is_set():
        action = rng.choices(ACTIONS, WEIGHTS)[0]
        mine = traffic.teams_of.get(me, set())
        key: str | None = None
        body: Any = None
        if action == "open":
            path, body = f"/api/campaigns/{campaign_id}/teams", {"quantity": 1}
        elif action == "join":
            others = [t for t in traffic.joinable[-6:] if t not in mine]
            if not others:
                continue
            path, body = f"/api/teams/{rng.choice(others)}/join", {"quantity": 1}
        elif action == "wave":
            path, body = f"/api/listings/{listing_id}/orders", {"items": {str(item_id): 1}}
        elif action == "pay":
            owed = [o for o, (m, _, _) in traffic.unpaid.items() if m == member]
            if not owed:
                continue
            order_id = rng.choice(owed)
            path, body = "/api/sandbox/pay", pay_body(traffic.unpaid[order_id][1])
        elif action == "leave":
            if not mine:
                continue
            path = f"/api/teams/{rng.choice(sorted(mine))}/leave"
        else:
            orders_ = traffic.wave_orders_of.get(me)
            if not orders_:
                continue
            path = f"/api/wave-orders/{rng.choice(orders_)}/cancel"
        headers = dict(member.headers)
        if action in KEYED:
            key = f"loop-{me}-{next(traffic.keys)}"
            headers["Idempotency-Key"] = key
        try:
            reply = await call(http, "POST", base + path, body=body, headers=headers)
        except CUT:
            if key is not None:
                traffic.unanswered.append((action, member, path, body, key))
            return
        note(traffic, action, member, path, key, body, reply)
        await asyncio.sleep(0.005)


def note(
    traffic: Traffic, action: str, member: Member, path: str, key: str | None, body: Any, r: Reply
) -> None:
    """Record what a reply said."""
    if r.status >= 500:
        traffic.problems.append(f"{action} {path}: {r.status} {r.body}")
        return
    if r.status not in (200, 201):
        if action == "pay":  # declined, closed, in flight: nothing owed on this link now
            traffic.unpaid = {
                o: v for o, v in traffic.unpaid.items() if pay_body(v[1])["ref"] != body["ref"]
            }
        return
    traffic.took(action, member, path, key, body, r.body)
    if action == "pay":
        paid = [o for o, v in traffic.unpaid.items() if pay_body(v[1])["ref"] == body["ref"]]
        for order_id in paid:
            opener_team = traffic.unpaid.pop(order_id)[2]
            if opener_team is not None:
                traffic.joinable.append(opener_team)


async def burst_then_kill(
    base: str,
    seeded: tuple[int, int, int],
    members: list[Member],
    traffic: Traffic,
    rng: random.Random,
    kill: Any,
) -> None:
    stop = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        clients = [
            asyncio.create_task(
                loop_client(http, base, seeded, m, random.Random(rng.random()), traffic, stop)
            )
            for m in members
        ]
        await asyncio.sleep(rng.uniform(*BURST))
        await asyncio.get_running_loop().run_in_executor(None, kill)  # SIGKILL, mid-traffic
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*clients)


async def learn_and_replay(
    base: str, traffic: Traffic, rng: random.Random
) -> tuple[list[str], int]:
    """Retry what got no reply with its key; replay a few answered requests: same answer."""
    problems: list[str] = []
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        unanswered, traffic.unanswered = traffic.unanswered, []
        for action, member, path, body, key in unanswered:
            headers = {**member.headers, "Idempotency-Key": key}
            note(
                traffic,
                action,
                member,
                path,
                key,
                body,
                await call(http, "POST", base + path, body=body, headers=headers),
            )
        keyed = [s for s in traffic.successes if s.key is not None]
        replays = rng.sample(keyed, min(3, len(keyed)))
        for s in replays:
            headers = {**s.member.headers, "Idempotency-Key": str(s.key)}
            again = await call(http, "POST", base + s.path, body=s.body, headers=headers)
            if again.body != s.reply or not again.replayed:
                problems.append(f"replay of {s.path} ({s.key}): {again.status} {again.body}")
    return problems, len(replays)


def seed_wave_listing(members: list[Member]) -> tuple[int, int]:
    """A leader's wave (one item, large stock, a cut-off far off) in a community the members
    joined: (listing id, item id)."""
    from tests.pools.support import Item, seed_leader, seed_operator, seed_sku, seed_wave
    from tuangou.communities import service as communities
    from tuangou.core.db import run_in_transaction

    leader = seed_leader(seed_operator().user_id)
    _, sku_id = seed_sku(price=1000)
    _, listing_id, item_ids = seed_wave(
        leader,
        [Item(sku_id, stock=100_000, per_member_limit=10_000)],
        cutoff_at=clock.now() + timedelta(days=2),
    )

    def join(session: Any) -> None:
        for m in members:
            communities.join_by_invite(session, leader.invite_code, m.user_id)

    run_in_transaction(join)
    return listing_id, item_ids[0]


def check_successes(traffic: Traffic) -> None:
    """Every success reply is still true in the database."""
    orders_ = {
        oid: (uid, status) for oid, uid, status in rows("SELECT id, user_id, status FROM orders")
    }
    payments_ = dict(rows("SELECT gateway_ref, status FROM payments"))
    seats = {oid for (oid,) in rows("SELECT order_id FROM team_seats")}
    waves = {oid for (oid,) in rows("SELECT order_id FROM wave_orders")}
    closed = ("cancelled", "refunded")
    answered: set[int] = set()
    for s in traffic.successes:
        if s.kind in ("open", "join", "wave"):
            oid = s.reply["order"]["id"]
            answered.add(oid)
            assert orders_.get(oid, (None,))[0] == s.member.user_id, (s.kind, oid)
            assert oid in (seats if s.kind != "wave" else waves), (s.kind, oid)
        elif s.kind == "pay":
            assert payments_.get(s.body["ref"]) == "succeeded", (s.body["ref"], s.reply)
        elif s.kind == "leave":
            oid = s.reply["order"]["id"]
            assert s.reply["order"]["status"] in closed, s.reply
            assert orders_[oid][1] in closed, (oid, orders_[oid])
        else:
            oid = s.reply["order"]["id"]
            assert orders_[oid][1] in closed, (oid, orders_[oid])
    # And nothing was made that nobody was told of (each unanswered request was retried).
    assert set(orders_) == answered, sorted(set(orders_) ^ answered)[:10]


def test_kill_loop_keeps_every_success(durable_url: str, tmp_path: Path) -> None:
    kill_loop(durable_url, tmp_path, *KILLS)


@pytest.mark.soak
def test_kill_loop_soak(durable_url: str, tmp_path: Path) -> None:
    kill_loop(durable_url, tmp_path, *SOAK_KILLS)


def kill_loop(durable_url: str, tmp_path: Path, server_kills: int, worker_kills: int) -> None:
    from tests.conftest import audit_violations

    seed = int(os.environ.get("TUANGOU_KILL_SEED") or random.randrange(2**32))
    print(f"kill loop seed: {seed} (TUANGOU_KILL_SEED={seed} replays the schedule)")
    rng = random.Random(seed)
    begun = time.monotonic()
    campaign_id = seed_campaign(
        stock=100_000,
        tiers=[(2, 1990), (3, 1790)],
        min_size=2,
        max_size=3,
        per_member_limit=100_000,
    )
    members = seed_members(LOOP_CLIENTS)
    listing_id, item_id = seed_wave_listing(members)
    seeded = (campaign_id, listing_id, item_id)
    # The server with its in-process worker off, and a standalone worker: both forked by a
    # launcher that imported them once, so that a restart takes a fork, not seconds. The
    # server that replaces a killed one is started while its predecessor still serves (on a
    # port of its own, like a supervisor's spare process): after the kill it is up already.
    launcher = Launcher(durable_url, {"TUANGOU_RUN_WORKER": "false"})

    def new_server() -> Server:
        return Server(durable_url, log_dir=tmp_path, launcher=launcher).spawn()

    server, spare = new_server().ready(), new_server()
    worker_log = tmp_path / "worker.log"
    worker = launcher.spawn(["worker"], worker_log)
    kills = ["server"] * server_kills + ["worker"] * worker_kills
    rng.shuffle(kills)
    traffic, replayed = Traffic(), 0
    phases: dict[str, float] = {}
    try:
        for n, victim in enumerate(kills):
            target = server if victim == "server" else worker
            lap = time.monotonic()
            run_async(burst_then_kill(server.url, seeded, members, traffic, rng, target.kill))
            lap = spent(phases, "traffic and kill", lap)
            if victim == "server":
                server, spare = spare.ready(), new_server()
            else:
                worker = launcher.spawn(["worker"], worker_log)
            lap = spent(phases, "restart", lap)
            problems, k = run_async(learn_and_replay(server.url, traffic, rng))
            replayed += k
            assert traffic.problems == [] and problems == [], (n, traffic.problems[:5], problems)
            lap = spent(phases, "retries and replays", lap)
            wait_until(lambda: pending_work() == 0, timeout=60, what=f"the drain after kill {n}")
            lap = spent(phases, "drain", lap)
            assert audit_violations() == [], (n, victim, audit_violations()[:5])
            spent(phases, "audit", lap)
    finally:
        server.stop()
        spare.stop()
        worker.stop()
        launcher.close()
    audit = run_cli(durable_url, "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "all invariants hold" in audit.stdout
    check_successes(traffic)
    kinds = {s.kind for s in traffic.successes}
    # The traffic did what it says: every kind of request succeeded at least once.
    assert kinds >= {"open", "join", "wave", "pay"}, kinds
    assert replayed > 0
    print(
        f"kill loop: {len(kills)} kills, {len(traffic.successes)} successes"
        f" ({', '.join(f'{k} {sum(s.kind == k for s in traffic.successes)}' for k in ACTIONS)}),"
        f" {replayed} replays, {time.monotonic() - begun:.0f} s"
        f" ({', '.join(f'{name} {t:.0f} s' for name, t in phases.items())})"
    )


def spent(phases: dict[str, float], name: str, since: float) -> float:
    now = time.monotonic()
    phases[name] = phases.get(name, 0.0) + now - since
    return now
