"""Several server processes and several workers on one PostgreSQL: a storm of joins, openings
and payments on one campaign from hundreds of concurrent clients, served by four
``tuangou serve`` processes with two ``tuangou worker`` processes beside them.

PostgreSQL only: on SQLite, processes take turns on the one write lock and a second process
only meets the busy handler (bench/README.md), so four of them prove nothing more than one.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.server import (
    Member,
    Server,
    call,
    pending_work,
    rows,
    run_async,
    run_cli,
    scalar,
    seed_campaign,
    seed_members,
    start_worker,
    wait_until,
)
from tests.e2e.test_concurrency import pay_body

pytestmark = pytest.mark.server

STOCK, CLIENTS, MAX_SIZE = 90, 120, 5
RETRIED = "retrying transaction"  # what tuangou.core.db logs before running one again


@dataclass
class Storm:
    teams: list[int] = field(default_factory=list)  # teams opened, shared by the clients
    answered: dict[int, int] = field(default_factory=dict)  # order id -> member, from 201s
    paid: dict[int, str] = field(default_factory=dict)  # order id -> gateway ref, from 200s
    opened: int = 0
    joined: int = 0
    sold_out: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


async def storm_client(
    http: aiohttp.ClientSession, base: str, campaign_id: int, i: int, member: Member, out: Storm
) -> None:
    """One unit: open a team (one client in six, or after many refusals), else join a team
    someone opened; then pay it. Stops at the first 201, or at ``sold_out`` when there is
    not even a team to join."""
    rng = random.Random(i)
    opener = i % 6 == 0
    for _ in range(600):  # a joiner waits (at most 30 s) for someone to open a team
        if opener or out.teams:
            break
        await asyncio.sleep(0.05)
    for attempt in range(60):
        opening = opener or not out.teams or attempt >= 45
        if opening:
            path = f"/api/campaigns/{campaign_id}/teams"
        else:
            path = f"/api/teams/{rng.choice(out.teams[-20:])}/join"
        headers = {**member.headers, "Idempotency-Key": f"storm-{member.user_id}-{attempt}"}
        reply = await call(http, "POST", base + path, body={"quantity": 1}, headers=headers)
        if reply.status == 201:
            order = reply.body["order"]
            out.answered[order["id"]] = member.user_id
            if opening:
                out.opened += 1
                out.teams.append(reply.body["team"]["id"])
            else:
                out.joined += 1
            pay = pay_body(reply.body["pay_url"])
            paid = await call(http, "POST", f"{base}/api/sandbox/pay", body=pay)
            if paid.status == 200:
                out.paid[order["id"]] = pay["ref"]
            else:
                out.problems.append(f"payment refused: {paid}")
            return
        out.refusals[reply.code or str(reply.status)] += 1
        if reply.code == "sold_out" and not (opening and out.teams):
            out.sold_out += 1  # nothing left, not even a seat in a team to join
            return
        if reply.code == "sold_out":  # no unit to open a team with: join one instead
            opener = False
            continue
        if reply.code not in ("team_full", "team_closed", "team_pending", "too_few_to_open"):
            out.problems.append(f"{path}: unexpected {reply.status} {reply.body}")
            return
        # A member tries again a moment later (a team is closed until its opener's payment
        # is confirmed by a worker).
        await asyncio.sleep(rng.uniform(0.05, 0.3))


async def storm(base: str, campaign_id: int, members: list[Member]) -> Storm:
    out = Storm()
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=2)
    timeout = aiohttp.ClientTimeout(total=180)  # a busy machine answers slowly
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(
            *(storm_client(http, base, campaign_id, i, m, out) for i, m in enumerate(members))
        )
    return out


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_storm_on_four_server_processes_and_two_workers(db_url: str, tmp_path: Path) -> None:
    campaign_id = seed_campaign(
        stock=STOCK,
        tiers=[(2, 1990), (5, 1790)],
        min_size=2,
        max_size=MAX_SIZE,
        per_member_limit=1,
    )
    members = seed_members(CLIENTS)
    workers = [start_worker(db_url, tmp_path / f"worker-{n}.log") for n in range(2)]
    server = Server(db_url, workers=4, log_dir=tmp_path)
    try:
        server.start(timeout=300)  # four processes importing the app on a busy machine
        out = run_async(storm(server.url, campaign_id, members))
        wait_until(lambda: pending_work() == 0, timeout=60, what="the workers to drain")
    finally:
        server.stop()
        for w in workers:
            w.stop()
    logs = "".join(log.read_text(errors="replace") for log in tmp_path.glob("*.log"))

    assert out.problems == [], "\n".join(out.problems[:6])
    # A storm indeed: both ways in, more demand than stock, every answered order paid.
    assert out.opened > 0 and out.joined > 0 and out.sold_out > 0
    assert len(out.paid) == len(out.answered) > 0

    audited = run_cli(db_url, "audit")
    assert audited.returncode == 0, audited.stdout + audited.stderr

    # Stock exact: every unit was sold to someone who was told so, none held, none twice.
    sold, held, stock = rows(
        "SELECT sold, held, stock FROM team_campaigns WHERE id = :c", c=campaign_id
    )[0]
    units = scalar(
        "SELECT COALESCE(SUM(quantity), 0) FROM orders WHERE campaign_id = :c"
        " AND status IN ('paid', 'confirmed')",
        c=campaign_id,
    )
    assert held == 0 and sold == units == len(out.answered) <= stock
    in_db = dict(rows("SELECT id, user_id FROM orders WHERE campaign_id = :c", c=campaign_id))
    assert in_db == out.answered
    # No team over its size, nobody in a team twice.
    for team_id, seats, distinct in rows(
        """SELECT s.team_id, COUNT(*), COUNT(DISTINCT s.user_id) FROM team_seats s
           JOIN teams t ON t.id = s.team_id WHERE t.campaign_id = :c
           AND s.status IN ('held', 'paid') GROUP BY s.team_id""",
        c=campaign_id,
    ):
        assert seats == distinct <= MAX_SIZE, team_id

    # No transaction of a server or a worker process ran again after a deadlock or a lock
    # (each logs it); the db_url fixture checks PostgreSQL's own deadlock count after the test.
    assert "worker started" in logs and RETRIED not in logs
