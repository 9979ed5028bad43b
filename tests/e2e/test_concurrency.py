"""Concurrency against a real server process, over real HTTP, on SQLite and PostgreSQL.

* a hot campaign with small stock and a few hundred members joining, paying and retrying
  at once (invariants 1-4, 6 and 9);
* a scarce team campaign: a thousand members for a hundred units in teams of two, where the
  units must end in teams that formed, not in teams that can no longer fill;
* twenty members racing for the last seat of a two-person team (invariant 2);
* two worker processes settling the same due teams at once (invariant 3).
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
from tests.e2e.server import (
    Member,
    Reply,
    Server,
    call,
    execute,
    pending_work,
    rows,
    run_async,
    scalar,
    seed_campaign,
    seed_members,
    start_worker,
    wait_until,
)

pytestmark = pytest.mark.server

TIMEOUT = aiohttp.ClientTimeout(total=60)


def pay_body(pay_url: str, outcome: str = "approve") -> dict[str, Any]:
    q = {k: v[0] for k, v in parse_qs(urlparse(pay_url).query).items()}
    return {"ref": q["ref"], "amount": int(q["amount"]), "sig": q["sig"], "outcome": outcome}


def drain_worker() -> None:
    """Let the server's worker finish what is due, then run the jobs here until idle too."""
    wait_until(lambda: pending_work() == 0, timeout=60, what="the worker to drain")
    run_worker()


# ---------------------------------------------------------------- a hot campaign


@dataclass
class Traffic:
    answered: dict[int, int] = field(default_factory=dict)  # order id -> member, from 201s
    paid: dict[int, str] = field(default_factory=dict)  # order id -> gateway ref, from 200s
    sold_out: set[int] = field(default_factory=set)  # members told "sold out"
    opened: int = 0
    joined: int = 0
    replays: int = 0
    twins: int = 0
    reused: int = 0
    double_pay_refused: int = 0
    problems: list[str] = field(default_factory=list)  # anything a client should not see


async def hot_client(
    http: aiohttp.ClientSession,
    base: str,
    campaign_id: int,
    i: int,
    member: Member,
    out: Traffic,
) -> None:
    rng = random.Random(i)
    opener = i % 10 == 0
    last: tuple[str, dict[str, Any], str] | None = None
    candidates: list[int] = []  # teams the campaign page showed as joinable
    for attempt in range(60):
        if opener or (attempt >= 30 and attempt % 10 == 0):  # nobody to join for long: open
            path = f"/api/campaigns/{campaign_id}/teams"
        else:
            if not candidates:
                view = await call(http, "GET", f"{base}/api/campaigns/{campaign_id}")
                candidates = [t["id"] for t in view.body["open_teams"] if t["joinable"]]
                rng.shuffle(candidates)
            if not candidates:
                await asyncio.sleep(rng.uniform(0.2, 0.5))
                continue
            path = f"/api/teams/{candidates.pop()}/join"
        body = {"quantity": 1}
        key = f"hot-{member.user_id}-{attempt}"
        headers = {**member.headers, "Idempotency-Key": key}
        last = (path, body, key)
        if i % 7 == 2 and attempt < 3:
            # The same request sent twice at once (a double tap): one effect, one answer.
            first, second = await asyncio.gather(
                call(http, "POST", base + path, body=body, headers=headers),
                call(http, "POST", base + path, body=body, headers=headers),
            )
            out.twins += 1
            if (first.status, first.body) != (second.status, second.body):
                out.problems.append(f"twins differ: {first} / {second}")
            reply = first
        else:
            reply = await call(http, "POST", base + path, body=body, headers=headers)
        if i % 5 == 1:
            # A retry after a lost reply: the same answer, replayed, nothing new made.
            again = await call(http, "POST", base + path, body=body, headers=headers)
            out.replays += 1
            if (again.status, again.body) != (reply.status, reply.body) or not again.replayed:
                out.problems.append(f"replay differs: {reply} / {again}")
        if reply.status == 201:
            order = reply.body["order"]
            if order["user_id"] != member.user_id:
                out.problems.append(f"order {order['id']} answered to the wrong member")
            out.answered[order["id"]] = member.user_id
            if "/join" in path:
                out.joined += 1
            else:
                out.opened += 1
            pay = pay_body(reply.body["pay_url"])
            paid = await call(http, "POST", f"{base}/api/sandbox/pay", body=pay)
            if paid.status != 200 or paid.body["gateway_status"] != "succeeded":
                out.problems.append(f"payment refused: {paid}")
            else:
                out.paid[order["id"]] = pay["ref"]
            if i % 6 == 0:
                twice = await call(http, "POST", f"{base}/api/sandbox/pay", body=pay)
                if twice.status == 409 and twice.code == "charge_closed":
                    out.double_pay_refused += 1
                else:
                    out.problems.append(f"a second payment of one charge: {twice}")
            break
        if reply.status == 409 and reply.code == "sold_out":
            out.sold_out.add(member.user_id)
            break
        if reply.status == 409 and reply.code == "too_few_to_open":
            # The units left are open teams' reserved seats: join one instead.
            opener = False
            candidates = []
            continue
        if reply.status == 409 and reply.code in ("team_full", "team_closed", "team_pending"):
            continue
        out.problems.append(f"{path}: unexpected {reply.status} {reply.body}")
        break
    if i % 11 == 3 and last is not None:
        path, body, key = last
        other = await call(
            http,
            "POST",
            base + path,
            body={**body, "quantity": 2},
            headers={**member.headers, "Idempotency-Key": key},
        )
        out.reused += 1
        if other.status != 422 or other.code != "idempotency_key_reused":
            out.problems.append(f"a reused key with another body: {other}")


async def hot_traffic(base: str, campaign_id: int, members: list[Member]) -> Traffic:
    out = Traffic()
    # Idle connections are dropped well before the server's 5 s keep-alive ends, so a request is
    # never written on a connection the server is closing (a reset no real reply stands for).
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        await asyncio.gather(
            *(hot_client(http, base, campaign_id, i, m, out) for i, m in enumerate(members))
        )
    return out


def test_hot_campaign_under_hundreds_of_clients(db_url: str, tmp_path: Any) -> None:
    stock, clients = 50, 200
    campaign_id = seed_campaign(stock=stock, tiers=[(2, 1990), (3, 1790)], min_size=2, max_size=3)
    members = seed_members(clients)
    with Server(db_url, log_dir=tmp_path) as server:
        out = run_async(hot_traffic(server.url, campaign_id, members))
        drain_worker()
        log = server.log()

    assert out.problems == [], ("\n".join(out.problems[:6]), log)
    # Both ways in were used, every kind of retry happened, and the demand exceeded the stock.
    assert out.opened > 0 and out.joined > 0
    assert out.replays > 0 and out.twins > 0 and out.reused > 0 and out.double_pay_refused > 0
    assert len(out.answered) + len(out.sold_out) == clients

    # Invariants 1-4: no oversell, seats, settlement, money.
    assert audit_violations() == []
    sold, held, campaign_stock = rows(
        "SELECT sold, held, stock FROM team_campaigns WHERE id = :c", c=campaign_id
    )[0]
    assert sold + held <= campaign_stock
    # Every unit was sold to someone who was told so, and all of them paid.
    assert (sold, held) == (stock, 0)

    # Invariant 9: a 201 means the order exists, for that member; no order nobody was told of.
    in_db = dict(rows("SELECT id, user_id FROM orders WHERE campaign_id = :c", c=campaign_id))
    assert in_db == out.answered
    assert len(out.answered) == stock
    # Every payment the gateway confirmed reached its order, once.
    payments = rows(
        "SELECT order_id, gateway_ref, status FROM payments WHERE order_id IN "
        "(SELECT id FROM orders WHERE campaign_id = :c)",
        c=campaign_id,
    )
    assert sorted((o, ref) for o, ref, _ in payments) == sorted(out.paid.items())
    assert {s for _, _, s in payments} == {"succeeded"}
    statuses = Counter(
        s for (s,) in rows("SELECT status FROM orders WHERE campaign_id = :c", c=campaign_id)
    )
    assert set(statuses) <= {"paid", "confirmed"}
    # No team over its size, none with a member twice.
    for team_id, seats, distinct in rows(
        """SELECT team_id, COUNT(*), COUNT(DISTINCT user_id) FROM team_seats
           WHERE status IN ('held', 'paid') GROUP BY team_id"""
    ):
        assert seats == distinct <= 3, team_id


# ---------------------------------------------------------------- scarce stock, teams of two


@dataclass
class Scarce:
    paid: int = 0  # orders paid at the gateway
    gave_up: int = 0  # members who found the campaign sold out
    refusals: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


async def scarce_client(
    http: aiohttp.ClientSession,
    base: str,
    campaign_id: int,
    member: Member,
    gate: asyncio.Semaphore,
    out: Scarce,
) -> None:
    """A member who does what the campaign page offers: join the first open team it lists,
    else open one while 可开团 says one can, else wait for the teams being paid for (their
    seats are reserved) until the campaign is sold out."""
    rng = random.Random(member.user_id)
    async with gate:
        for attempt in range(80):
            view = (await call(http, "GET", f"{base}/api/campaigns/{campaign_id}")).body
            joinable = [t["id"] for t in view["open_teams"] if t["joinable"]]
            if joinable:
                path = f"/api/teams/{rng.choice(joinable)}/join"
            elif view["openable_teams"] > 0:
                path = f"/api/campaigns/{campaign_id}/teams"
            elif view["available"] <= 0 and view["reserved"] <= 0:
                out.gave_up += 1
                return
            else:  # only seats of teams whose opener is paying: they open in a moment
                await asyncio.sleep(rng.uniform(0.05, 0.15))
                continue
            reply = await call(
                http,
                "POST",
                base + path,
                body={"quantity": 1},
                headers={**member.headers, "Idempotency-Key": f"scarce-{attempt}"},
            )
            if reply.status == 201:
                paid = await call(
                    http, "POST", f"{base}/api/sandbox/pay", body=pay_body(reply.body["pay_url"])
                )
                if paid.status != 200:
                    out.problems.append(f"payment refused: {paid}")
                out.paid += 1
                return
            if reply.status == 409 and reply.code in (
                "team_full",
                "team_closed",
                "team_pending",
                "sold_out",
                "too_few_to_open",
            ):
                out.refusals[str(reply.code)] += 1
                continue
            out.problems.append(f"{path}: unexpected {reply.status} {reply.body}")
            return
        out.problems.append(f"member {member.user_id} neither bought nor saw the end")


async def scarce_traffic(base: str, campaign_id: int, members: list[Member]) -> Scarce:
    out = Scarce()
    gate = asyncio.Semaphore(50)  # clients in flight at once; the rest queue behind them
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=connector, timeout=TIMEOUT) as http:
        await asyncio.gather(
            *(scarce_client(http, base, campaign_id, m, gate, out) for m in members)
        )
    return out


def test_scarce_stock_ends_in_formed_teams(db_url: str, tmp_path: Any) -> None:
    """1,000 members, 100 units, teams of two, one unit each. A team opens only with both of
    its units set aside, and members join open teams before opening new ones: the units end
    in settled teams, not in one-member teams left to fail when the free stock ran out."""
    stock, clients = 100, 1000
    campaign_id = seed_campaign(
        stock=stock, tiers=[(2, 1990)], min_size=2, max_size=2, per_member_limit=1
    )
    members = seed_members(clients)
    # The sandbox's callbacks (which open the teams) come from the server's worker: often.
    env = {"TUANGOU_WORKER_INTERVAL": "0.05"}
    with Server(db_url, log_dir=tmp_path, env=env) as server:
        out = run_async(scarce_traffic(server.url, campaign_id, members))
        drain_worker()
        log = server.log()

    assert out.problems == [], ("\n".join(out.problems[:6]), log)
    assert out.paid + out.gave_up == clients
    sold, held, reserved, campaign_stock = rows(
        "SELECT sold, held, reserved, stock FROM team_campaigns WHERE id = :c", c=campaign_id
    )[0]
    # No oversell; the campaign sold out: nothing free, held or reserved is left.
    assert sold + held + reserved <= campaign_stock == stock
    assert (sold, held, reserved) == (stock, 0, 0), out
    # At least 90% of the units are in teams that formed and settled (here: all of them).
    settled = scalar(
        """SELECT COALESCE(SUM(o.quantity), 0) FROM orders o
           JOIN team_seats s ON s.order_id = o.id JOIN teams t ON t.id = s.team_id
           WHERE t.campaign_id = :c AND t.status = 'settled' AND o.status = 'confirmed'""",
        c=campaign_id,
    )
    assert settled >= 0.9 * stock, (settled, out)
    assert (
        scalar(
            "SELECT COUNT(*) FROM teams WHERE campaign_id = :c AND status <> 'settled'",
            c=campaign_id,
        )
        == 0
    )
    assert audit_violations() == []


# ---------------------------------------------------------------- the last seat


async def race_for_the_last_seat(
    base: str, campaign_id: int, opener: Member, joiners: list[Member]
) -> tuple[int, list[tuple[Member, Reply]]]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        opened = await call(
            http,
            "POST",
            f"{base}/api/campaigns/{campaign_id}/teams",
            body={"quantity": 1},
            headers={**opener.headers, "Idempotency-Key": "open"},
        )
        assert opened.status == 201, opened
        team_id = opened.body["team"]["id"]
        paid = await call(
            http, "POST", f"{base}/api/sandbox/pay", body=pay_body(opened.body["pay_url"])
        )
        assert paid.status == 200, paid
        for _ in range(600):
            team = await call(http, "GET", f"{base}/api/teams/{team_id}")
            if team.body["status"] == "open":
                break
            await asyncio.sleep(0.05)
        assert team.body["status"] == "open", team

    # Every joiner on its own connection, already open, released at the same instant.
    sessions = [
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), timeout=TIMEOUT)
        for _ in joiners
    ]
    try:
        for http in sessions:
            assert (await call(http, "GET", f"{base}/api/noop")).status == 200
        barrier = asyncio.Barrier(len(joiners))

        async def join(http: aiohttp.ClientSession, member: Member) -> tuple[Member, Reply]:
            await barrier.wait()
            reply = await call(
                http,
                "POST",
                f"{base}/api/teams/{team_id}/join",
                body={"quantity": 1},
                headers={**member.headers, "Idempotency-Key": f"join-{member.user_id}"},
            )
            return member, reply

        pairs = zip(sessions, joiners, strict=True)
        results = await asyncio.gather(*(join(h, m) for h, m in pairs))
        for _, reply in results:
            if reply.status == 201:
                pay = pay_body(reply.body["pay_url"])
                await call(sessions[0], "POST", f"{base}/api/sandbox/pay", body=pay)
        return team_id, list(results)
    finally:
        for http in sessions:
            await http.close()


def test_twenty_members_race_for_one_seat(db_url: str, tmp_path: Any) -> None:
    campaign_id = seed_campaign(stock=100, tiers=[(2, 1990)], min_size=2, max_size=2)
    opener, *joiners = seed_members(21)
    with Server(db_url, log_dir=tmp_path) as server:
        team_id, results = run_async(
            race_for_the_last_seat(server.url, campaign_id, opener, joiners)
        )
        drain_worker()

    won = [(m, r) for m, r in results if r.status == 201]
    lost = [r for _, r in results if r.status != 201]
    assert len(won) == 1, [(r.status, r.code) for _, r in results]
    assert len(lost) == 19
    refusals = {(409, "team_full"), (409, "team_closed"), (409, "team_pending")}
    assert {(r.status, r.code) for r in lost} <= refusals
    winner = won[0][0]
    seated = rows(
        "SELECT user_id FROM team_seats WHERE team_id = :t AND status IN ('held', 'paid')",
        t=team_id,
    )
    assert sorted(u for (u,) in seated) == sorted([opener.user_id, winner.user_id])
    orders = rows(
        "SELECT o.user_id, o.status FROM orders o JOIN team_seats s ON s.order_id = o.id"
        " WHERE s.team_id = :t",
        t=team_id,
    )
    assert sorted(orders) == sorted([(opener.user_id, "confirmed"), (winner.user_id, "confirmed")])
    assert scalar("SELECT status FROM teams WHERE id = :t", t=team_id) == "settled"
    assert rows("SELECT sold, held FROM team_campaigns WHERE id = :c", c=campaign_id) == [(2, 0)]
    assert audit_violations() == []


# ---------------------------------------------------------------- two workers, one settlement


def make_teams(campaign_id: int, paid_sizes: list[int]) -> list[tuple[int, list[int]]]:
    """Teams whose members have all paid; returns (team id, order ids) for each."""
    from tuangou.core.db import run_in_transaction
    from tuangou.payments import service as payments
    from tuangou.teams import service as teams

    members = seed_members(sum(paid_sizes))
    made = []
    for size in paid_sizes:
        group, members = members[:size], members[size:]

        def build(session: Any, group: list[Member] = group) -> tuple[int, list[int]]:
            seat = teams.open_team(session, user_id=group[0].user_id, campaign_id=campaign_id)
            assert payments.sandbox_pay_now(session, seat.started.payment) == "paid"
            order_ids = [seat.order.id]
            for m in group[1:]:
                joined = teams.join_team(session, user_id=m.user_id, team_id=seat.team.id)
                assert payments.sandbox_pay_now(session, joined.started.payment) == "paid"
                order_ids.append(joined.order.id)
            return seat.team.id, order_ids

        made.append(run_in_transaction(build))
    return made


def test_two_workers_settle_each_due_team_once(db_url: str, tmp_path: Any) -> None:
    from tuangou.core import clock

    campaign_id = seed_campaign(stock=200, tiers=[(2, 1990), (3, 1790)], min_size=2, max_size=4)
    # 1 paid: fails (full refund); 2 paid: succeeds at 1990; 3 paid: 1790, 200 back each.
    sizes = [1, 2, 3] * 10
    made = make_teams(campaign_id, sizes)
    run_worker()  # the sandbox's duplicate callbacks and the formed-team events
    assert scalar("SELECT COUNT(*) FROM teams WHERE status IN ('open', 'formed')") == 30
    events_before = set(rows("SELECT id FROM outbox_events"))

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
        # Every team falls due at once, under both running workers.
        moved = execute(
            "UPDATE teams SET deadline = :t WHERE status IN ('open', 'formed')",
            t=clock.now() - timedelta(minutes=1),
        )
        assert moved == 30
        wait_until(
            lambda: scalar("SELECT COUNT(*) FROM teams WHERE status IN ('open', 'formed')") == 0,
            timeout=60,
            what="the teams to settle",
        )
        wait_until(lambda: pending_work() == 0, timeout=60, what="the workers to drain")
        assert all(w.alive() for w in workers), [w.log() for w in workers]
    finally:
        for w in workers:
            w.stop()
    logs = [w.log() for w in workers]
    assert not any("Traceback" in log for log in logs), logs

    outcome = dict(rows("SELECT id, status FROM teams WHERE campaign_id = :c", c=campaign_id))
    for (team_id, order_ids), size in zip(made, sizes, strict=True):
        assert outcome[team_id] == ("failed" if size == 1 else "settled")
        assert len(order_ids) == size

    # One settlement event per order, nothing else twice.
    events = [
        (topic, json.loads(payload) if isinstance(payload, str) else payload)
        for eid, topic, payload in rows("SELECT id, topic, payload FROM outbox_events")
        if (eid,) not in events_before
    ]
    per_order = Counter(
        (topic, p["order_id"]) for topic, p in events if topic in ("team.settled", "team.failed")
    )
    expected = Counter()
    for (_, order_ids), size in zip(made, sizes, strict=True):
        for order_id in order_ids:
            expected["team.failed" if size == 1 else "team.settled", order_id] += 1
    assert per_order == expected

    # Refunds: the failed teams' orders in full, the 3-member teams' price difference, once.
    refunds = Counter(
        (reason, order_id, amount)
        for reason, order_id, amount in rows("SELECT reason, order_id, amount FROM refunds")
    )
    want = Counter()
    for (_, order_ids), size in zip(made, sizes, strict=True):
        for order_id in order_ids:
            if size == 1:
                want["team_failed", order_id, 1990] += 1
            elif size == 3:
                want["price_protection", order_id, 200] += 1
    assert refunds == want
    assert scalar("SELECT COUNT(*) FROM refunds WHERE status <> 'succeeded'") == 0
    # The journal has each refund and its sending once.
    transfers = Counter(kind for (kind,) in rows("SELECT kind FROM ledger_transfers"))
    assert transfers["refund"] == sum(want.values())
    assert transfers["refund_sent"] == sum(want.values())
    # Each member heard the outcome once.
    heard = Counter(
        (user_id, kind)
        for user_id, kind in rows(
            "SELECT user_id, kind FROM notifications WHERE kind IN ('team.settled', 'team.failed')"
        )
    )
    assert heard and set(heard.values()) == {1}
    assert sum(heard.values()) == sum(sizes)
    assert audit_violations() == []
