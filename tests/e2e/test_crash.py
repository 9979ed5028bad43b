"""Crash safety (invariants 8 and 9): SIGKILL the server in the middle of joins and payments on
a durable database, restart it, and check that nothing a client was told is lost, that every
unanswered request can learn its outcome by retrying with its Idempotency-Key, that the worker
finishes what was due, and that ``tuangou audit`` passes.

SQLite runs on a file (WAL); PostgreSQL on a cluster of its own started with durable settings
(fsync on), never the fsync-off cluster of the other tests.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import PG_URL, REQUIRE_PG
from tests.e2e.server import (
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

pytestmark = pytest.mark.server

CLIENTS = 100
# Kill once this many payments were confirmed to clients and members joined this many teams.
KILL_AFTER_PAID = 30
KILL_AFTER_JOINED_TEAMS = 10

NOT_YET_OPEN = ("team_closed", "team_pending")  # a team whose opener has not paid (yet)


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


@dataclass
class Told:
    """What the clients were told, and what they were left not knowing."""

    joined: dict[int, int] = field(default_factory=dict)  # order id -> member (201 replies)
    pay_urls: dict[int, str] = field(default_factory=dict)  # order id -> its pay_url
    paid: dict[int, str] = field(default_factory=dict)  # order id -> ref the gateway charged
    teams: list[int] = field(default_factory=list)  # teams whose opener paid: join these
    joined_teams: int = 0  # 201s of joins (not opens)
    unanswered: list[tuple[Member, str, str]] = field(default_factory=list)  # (who, path, key)
    unanswered_pays: list[int] = field(default_factory=list)  # order ids
    problems: list[str] = field(default_factory=list)


# A server killed mid-response can also cut a body short (ClientPayloadError).
CUT = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)


async def crash_client(
    http: aiohttp.ClientSession,
    base: str,
    campaign_id: int,
    i: int,
    member: Member,
    told: Told,
    killed: asyncio.Event,
) -> None:
    rng = random.Random(i)
    mine: set[int] = set()  # teams this member is in
    for n in range(1000):
        if killed.is_set():
            return
        # Join the oldest teams with seats left (their opener's payment has landed by now);
        # open a new team when there are few.
        others = [t for t in told.teams if t not in mine][:10]
        opener = not others or (i % 4 == 0 and len(others) < 10)
        path = (
            f"/api/campaigns/{campaign_id}/teams"
            if opener
            else f"/api/teams/{rng.choice(others)}/join"
        )
        key = f"crash-{member.user_id}-{n}"
        headers = {**member.headers, "Idempotency-Key": key}
        try:
            reply = await call(http, "POST", base + path, body={"quantity": 1}, headers=headers)
        except CUT:
            told.unanswered.append((member, path, key))
            return
        if reply.status != 201:
            if reply.code == "team_full" and path.endswith("/join"):
                team_id = int(path.split("/")[3])
                if team_id in told.teams:
                    told.teams.remove(team_id)
            elif reply.status >= 500 or reply.code not in NOT_YET_OPEN:
                told.problems.append(f"{path}: {reply.status} {reply.body}")
            await asyncio.sleep(0.01)
            continue
        order_id = reply.body["order"]["id"]
        mine.add(reply.body["team"]["id"])
        told.joined[order_id] = member.user_id
        told.pay_urls[order_id] = reply.body["pay_url"]
        told.joined_teams += not opener
        pay = pay_body(reply.body["pay_url"])
        try:
            paid = await call(http, "POST", f"{base}/api/sandbox/pay", body=pay)
        except CUT:
            told.unanswered_pays.append(order_id)
            return
        if paid.status != 200:
            told.problems.append(f"payment of order {order_id}: {paid.status} {paid.body}")
            continue
        told.paid[order_id] = pay["ref"]
        if opener:
            told.teams.append(reply.body["team"]["id"])


async def traffic_then_kill(
    server: Server, campaign_id: int, members: list[Member]
) -> tuple[Told, int]:
    told, killed = Told(), asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        clients = [
            asyncio.create_task(crash_client(http, server.url, campaign_id, i, m, told, killed))
            for i, m in enumerate(members)
        ]
        for _ in range(6000):  # at most about a minute
            if len(told.paid) >= KILL_AFTER_PAID and told.joined_teams >= KILL_AFTER_JOINED_TEAMS:
                break
            if all(c.done() for c in clients):
                break
            await asyncio.sleep(0.01)
        server.kill()  # SIGKILL, in the middle of everything
        killed.set()
        before_kill = (len(told.paid), told.joined_teams)
        await asyncio.gather(*clients)
    return told, before_kill


async def learn_the_truth(base: str, told: Told) -> Told:
    """After the restart: retry what got no reply (same key), and pay what is unpaid."""
    after = Told()
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:

        async def retry(member: Member, path: str, key: str) -> None:
            headers = {**member.headers, "Idempotency-Key": key}
            reply = await call(http, "POST", base + path, body={"quantity": 1}, headers=headers)
            if reply.status == 201:
                after.joined[reply.body["order"]["id"]] = member.user_id
                after.pay_urls[reply.body["order"]["id"]] = reply.body["pay_url"]
            elif reply.status >= 500 or reply.code not in ("team_full", *NOT_YET_OPEN):
                after.problems.append(f"retry of {path}: {reply.status} {reply.body}")

        async def pay(order_id: int, pay_url: str) -> None:
            body = pay_body(pay_url)
            paid: Reply = await call(http, "POST", f"{base}/api/sandbox/pay", body=body)
            if paid.status == 200:
                after.paid[order_id] = body["ref"]
            elif paid.code != "charge_closed":  # closed: it was charged before the kill
                after.problems.append(f"payment of order {order_id}: {paid.status} {paid.body}")

        await asyncio.gather(*(retry(*request) for request in told.unanswered))
        unpaid = {**told.pay_urls, **after.pay_urls}
        await asyncio.gather(*(pay(o, url) for o, url in unpaid.items() if o not in told.paid))
    return after


def test_sigkill_mid_traffic_loses_nothing(durable_url: str, tmp_path: Path) -> None:
    campaign_id = seed_campaign(
        stock=5000, tiers=[(2, 1990), (4, 1790)], min_size=2, max_size=4, per_member_limit=1000
    )
    members = seed_members(CLIENTS)
    server = Server(durable_url, log_dir=tmp_path)
    server.start()
    try:
        told, (paid, joined_teams) = run_async(traffic_then_kill(server, campaign_id, members))
        assert told.problems == [], (told.problems[:5], server.log())
        # The kill landed mid-traffic: opens, joins and payments had been answered, and
        # requests were in flight.
        assert paid >= KILL_AFTER_PAID and joined_teams >= KILL_AFTER_JOINED_TEAMS
        assert told.unanswered or told.unanswered_pays

        server.start()  # the same database, the same port
        after = run_async(learn_the_truth(server.url, told))
        assert after.problems == [], after.problems[:5]
        wait_until(lambda: pending_work() == 0, timeout=60, what="the worker to catch up")
        worker = run_cli(durable_url, "worker", "--once")
        assert worker.returncode == 0, worker.stdout + worker.stderr
        wait_until(lambda: pending_work() == 0, timeout=60, what="the worker to catch up")
    finally:
        server.stop()

    audit = run_cli(durable_url, "audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "all invariants hold" in audit.stdout

    # Every "joined" sent before the kill is in the database, for that member; and every
    # order in the database was, in the end, answered to the member who made it.
    in_db = dict(rows("SELECT id, user_id FROM orders WHERE campaign_id = :c", c=campaign_id))
    for order_id, user_id in told.joined.items():
        assert in_db.get(order_id) == user_id, order_id
    assert in_db == {**told.joined, **after.joined}
    # Every payment the gateway accepted (before or after the kill) reached its order.
    paid = dict(
        rows(
            """SELECT p.order_id, p.gateway_ref FROM payments p JOIN orders o ON o.id = p.order_id
               WHERE o.campaign_id = :c AND p.status = 'succeeded' AND o.paid_at IS NOT NULL""",
            c=campaign_id,
        )
    )
    for order_id, ref in {**told.paid, **after.paid}.items():
        assert paid.get(order_id) == ref, order_id
    # And in the end every order was paid: nothing stuck half-way.
    assert set(paid) == set(in_db)
    sold, held, stock = rows(
        "SELECT sold, held, stock FROM team_campaigns WHERE id = :c", c=campaign_id
    )[0]
    assert (sold, held) == (len(in_db), 0) and sold <= stock
