"""Join benchmark: join-and-pay cycles per second, next to the same server's floor and no-op.

    python bench/join.py [--database-url URL] [--clients 64] [--seconds 10] [--workers 1]
                         [--server uvicorn|granian] [--worker-processes 0]

Seeds members and one hot campaign with large stock, then serves tuangou's app with the
database-free routes of ``bench/floor.py`` (tuangou's own app, two routes added) on a free
127.0.0.1 port, with ``--workers`` processes of ``--server`` (each with its in-process
worker, as ``tuangou serve``), and drives it with ``--clients`` concurrent aiohttp clients in
three phases of ``--seconds`` each:

1. ``GET /api/noop``: the ceiling of this server, client and machine;
2. the cycle floor: a join-shaped request and a payment-shaped one that do no database work;
3. joins: each client joins an open team (``POST /api/teams/{id}/join``), or now and then
   opens one (``POST /api/campaigns/{id}/teams``); each 201 created the order and its sandbox
   payment, and the client then pays it (``POST /api/sandbox/pay``).

It reports the cycle rates with p50/p99 of the join and the pay requests, the lag from each
payment's 200 to its confirmation in the database, and whether the invariants hold after the
worker drained (``tuangou audit``'s checks). ``join/noop ratio: X`` comes before the last line,
which is ``join/floor ratio: X``: join-and-pay cycles per second over the floor's cycles per
second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
from sqlalchemy import bindparam, text

TIERS = [(2, 1990), (5, 1890), (10, 1790), (20, 1690), (50, 1590)]
MAX_SIZE = 50
STOCK = 10_000_000


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """``tuangou serve`` as an operator runs it: ``workers`` processes, each with its
    in-process worker (the other benchmarks' server)."""
    args = ["-m", "tuangou.cli", "serve", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--workers", str(workers)]
    return launch(args, {"DATABASE_URL": url, "TUANGOU_RUN_WORKER": "true"}, port, log)


def start_floor_server(
    url: str, port: int, workers: int, log: Path, *, server: str = "uvicorn", replies: Path
) -> subprocess.Popen[bytes]:
    """tuangou's app with the floor's routes (``bench/floor.py``), served as ``tuangou serve``
    serves it: ``workers`` processes of ``server``, each with its in-process worker."""
    from floor import start

    env = {"TUANGOU_RUN_WORKER": "true"}
    return start(url, port, replies, log, server=server, workers=workers, env=env)


def launch(args: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start ``python args`` (a server on 127.0.0.1:``port``) with ``env`` added to this
    process's environment, and return once it answers ``/api/health``."""
    env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    env.pop("TUANGOU_CLOCK_OFFSET_SECONDS", None)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180  # several processes on a busy machine start slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited on start; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    stop_server(proc)
    raise SystemExit(f"the server did not answer /api/health; see {log}")


def start_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    """A standalone ``tuangou worker`` loop beside the server's in-process one."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    env.pop("TUANGOU_CLOCK_OFFSET_SECONDS", None)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tuangou.cli", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(20)


# ---------------------------------------------------------------- seeding (through the services)


def point_at(url: str) -> None:
    from tuangou import wiring
    from tuangou.core import migrate, secret
    from tuangou.core.config import reset_settings
    from tuangou.core.db import make_engine, set_engine

    wiring.compose()
    os.environ["DATABASE_URL"] = url
    reset_settings()
    engine = make_engine(url)
    migrate.upgrade(engine)
    set_engine(engine)
    secret.reset()
    secret.secret_key()


@dataclass
class World:
    campaign_id: int
    tokens: list[str]  # one member per client
    teams: list[int]  # open teams (their openers paid)


def bench_campaign(
    session: Any,
    *,
    tag: str,
    title: str,
    tiers: Any,
    stock: int,
    min_size: int,
    max_size: int,
    per_member_limit: int,
    product: str = "红富士苹果",
    sku: str = "5斤",
    price: int = 2990,
) -> Any:
    """A supplier, a product, a SKU of ``stock`` units and a live team campaign on all of it
    (the benchmarks' world; through the services, in ``session``)."""
    from tuangou.catalog import service as catalog
    from tuangou.core import clock
    from tuangou.teams import service as team_buys

    now = clock.now()
    supplier = catalog.create_supplier(session, name=f"果园 {tag}")
    made = catalog.create_product(session, supplier_id=supplier.id, title=product)
    item = catalog.create_sku(session, product_id=made.id, name=sku, price=price, stock=stock)
    return team_buys.create_campaign(
        session,
        team_buys.CampaignInput(
            sku_id=item.id,
            title=title,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(days=3),
            tiers=tiers,
            stock=stock,
            min_size=min_size,
            max_size=max_size,
            per_member_limit=per_member_limit,
        ),
    )


def seed(clients: int, teams: int) -> World:
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction
    from tuangou.payments import service as payments
    from tuangou.teams import service as team_buys

    tag = random.randrange(10**6)

    def members(session: Any, n: int, offset: int) -> list[Any]:
        made = []
        for k in range(n):
            phone = f"16{tag:06d}{offset + k:03d}"
            user = accounts.create_user(session, phone=phone, password=None, nickname=f"团员{k}")
            user.address = {"name": user.nickname, "phone": phone, "line": "幸福里 1 号"}
            made.append(user)
        session.flush()
        return made

    def world(session: Any) -> World:
        campaign = bench_campaign(
            session,
            tag=f"{tag}",
            title="苹果 · 阶梯拼团 (bench)",
            tiers=TIERS,
            stock=STOCK,
            min_size=2,
            max_size=MAX_SIZE,
            per_member_limit=STOCK,
        )
        joiners = members(session, clients, 0)
        return World(campaign.id, [accounts.issue_token(u) for u in joiners], teams=[])

    w = run_in_transaction(world)

    def open_teams(session: Any) -> list[int]:
        opened = []
        for opener in members(session, teams, clients):
            seat = team_buys.open_team(session, user_id=opener.id, campaign_id=w.campaign_id)
            payments.sandbox_pay_now(session, seat.started.payment)
            opened.append(seat.team.id)
        return opened

    w.teams = run_in_transaction(open_teams)
    return w


def count(sql: str) -> int:
    from tuangou.core.db import unit_of_work

    with unit_of_work(readonly=True) as session:
        return int(session.execute(text(sql)).scalar() or 0)


def succeeded_payments() -> int:
    return count("SELECT COUNT(*) FROM payments WHERE status = 'succeeded'")


def pending_work() -> int:
    return count("SELECT COALESCE(SUM(callbacks_due), 0) FROM sandbox_charges") + count(
        "SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL"
    )


def audit() -> list[str]:
    from tuangou import audit as checks
    from tuangou.core.db import unit_of_work

    with unit_of_work(readonly=True) as session:
        return [v for check in checks.run(session) for v in check.violations]


# ---------------------------------------------------------------- the load


@dataclass
class Phase:
    ok: int = 0
    latencies: list[float] = field(default_factory=list)  # of the 201s, seconds
    refused: Counter[str] = field(default_factory=Counter)
    pays: int = 0
    opened: int = 0
    pay_latencies: list[float] = field(default_factory=list)  # of the 200s, seconds
    paid_at: dict[str, datetime] = field(default_factory=dict)  # ref -> the 200's UTC time


async def noop_phase(base: str, clients: int, seconds: float) -> Phase:
    phase = Phase()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def client(stop: float) -> None:
            while time.monotonic() < stop:
                async with http.get(f"{base}/api/noop") as r:
                    await r.read()
                    if r.status == 200:
                        phase.ok += 1

        warm = time.monotonic() + 1
        await asyncio.gather(*(client(warm) for _ in range(clients)))
        phase.ok = 0
        stop = time.monotonic() + seconds
        await asyncio.gather(*(client(stop) for _ in range(clients)))
    return phase


async def join_phase(
    base: str, world: World, clients: int, seconds: float, *, pay: bool = True
) -> Phase:
    phase = Phase()
    run = random.randrange(10**9)  # a sweep's runs share members: keys must not repeat
    joinable = list(world.teams)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def client(i: int, stop: float) -> None:
            rng = random.Random(f"{run}-{i}")  # another run picks other teams
            auth = {"Authorization": f"Bearer {world.tokens[i]}"}
            mine: set[int] = set()
            n = 0
            while time.monotonic() < stop:
                n += 1
                choices = [t for t in rng.sample(joinable, min(8, len(joinable))) if t not in mine]
                opening = not choices or rng.random() < 0.05
                if opening:
                    path = f"/api/campaigns/{world.campaign_id}/teams"
                else:
                    team_id = choices[0]
                    path = f"/api/teams/{team_id}/join"
                headers = {**auth, "Idempotency-Key": f"bench-{run}-{i}-{n}"}
                t0 = time.perf_counter()
                async with http.post(base + path, json={"quantity": 1}, headers=headers) as r:
                    body = await r.json(content_type=None)
                    status = r.status
                elapsed = time.perf_counter() - t0
                if status != 201:
                    code = body.get("code", str(status)) if isinstance(body, dict) else str(status)
                    phase.refused[code] += 1
                    if not opening and code in ("team_full", "team_closed", "already_in_team"):
                        mine.add(team_id)
                        if code != "already_in_team" and team_id in joinable:
                            joinable.remove(team_id)
                    continue
                phase.ok += 1
                phase.latencies.append(elapsed)
                mine.add(body["team"]["id"])
                if opening:
                    phase.opened += 1
                    joinable.append(body["team"]["id"])
                if not pay:
                    continue
                q = {k: v[0] for k, v in parse_qs(urlparse(body["pay_url"]).query).items()}
                pay_in = {"ref": q["ref"], "amount": int(q["amount"]), "sig": q["sig"]}
                t0 = time.perf_counter()
                async with http.post(f"{base}/api/sandbox/pay", json=pay_in) as r:
                    body = await r.json(content_type=None)
                    status = r.status
                if status != 200:
                    code = body.get("code", str(status)) if isinstance(body, dict) else str(status)
                    phase.refused[f"pay {code}"] += 1
                if status == 200:
                    phase.paid_at[pay_in["ref"]] = datetime.now(UTC).replace(tzinfo=None)
                    phase.pays += 1
                    phase.pay_latencies.append(time.perf_counter() - t0)

        stop = time.monotonic() + seconds
        await asyncio.gather(*(client(i, stop) for i in range(clients)))
    return phase


class PaymentWatch(threading.Thread):
    """Polls the number of confirmed payments while the join phase runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.samples.append((time.monotonic(), succeeded_payments()))
            self.halt.wait(0.25)

    def rate(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self.samples[0], self.samples[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def drive(coro: Any) -> tuple[Any, float]:
    """Run the load, on uvloop when it is installed; returns the result and the CPU seconds
    this client process used (if it is near the wall time, the client is the bottleneck)."""
    cpu = time.process_time()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(coro)
    else:
        result = uvloop.run(coro)
    return result, time.process_time() - cpu


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def confirmation_lags(paid_at: dict[str, datetime]) -> tuple[list[float], int]:
    """Seconds from each payment's 200 to its confirmation (the worker's compare-and-set to
    ``succeeded`` sets ``updated_at`` in the transaction that also counts it in its team), and
    how many of them are not confirmed. A confirmation stamped before the 200 arrived counts
    as no lag. The stamp is taken before the commit, so the lag is slightly underestimated."""
    from tuangou.core.db import unit_of_work

    refs = list(paid_at)
    lags: list[float] = []
    confirmed = 0
    with unit_of_work(readonly=True) as session:
        for k in range(0, len(refs), 500):
            chunk = refs[k : k + 500]
            rows = session.execute(
                text(
                    "SELECT gateway_ref, updated_at FROM payments"
                    " WHERE status = 'succeeded' AND gateway_ref IN :refs"
                ).bindparams(bindparam("refs", expanding=True)),
                {"refs": chunk},
            )
            for ref, updated_at in rows:
                if isinstance(updated_at, str):  # SQLite through a textual query
                    updated_at = datetime.fromisoformat(updated_at)
                lags.append(max(0.0, (updated_at - paid_at[ref]).total_seconds()))
                confirmed += 1
    return lags, len(refs) - confirmed


@dataclass
class Result:
    workers: int
    noop_rate: float
    floor_rate: float  # join-and-pay cycles per second with no database work
    join_rate: float  # 201s per second
    cycle_rate: float  # joins followed by a paid payment, per second
    violations: list[str]
    lags: list[float]

    @property
    def ratio(self) -> float:
        return self.cycle_rate / self.floor_rate if self.floor_rate else 0.0


def measure(
    url: str,
    world: World,
    tmp: Path,
    *,
    clients: int,
    seconds: float,
    workers: int = 1,
    server: str = "uvicorn",
    worker_processes: int = 0,
    port: int = 0,
    pay: bool = True,
) -> Result:
    """Serve, run the three phases (no-op, cycle floor, joins) and drain; print as it goes."""
    from floor import capture, floor_phase

    port = port or free_port()
    replies = tmp / "replies.json"
    log = tmp / f"server-{server}-{workers}.log"
    proc = start_floor_server(url, port, workers, log, server=server, replies=replies)
    helpers = [start_worker(url, tmp / f"worker-{n}.log") for n in range(worker_processes)]
    base = f"http://127.0.0.1:{port}"
    try:
        floor_pay = capture(base, world, replies)
        print(
            f"server: {server}, {workers} process(es) on {base}"
            f" (+{worker_processes} worker processes); {clients} clients;"
            f" {seconds:g} s per phase; {os.cpu_count()} CPUs,"
            f" load average {os.getloadavg()[0]:.1f} before the run"
        )
        noop, cpu = drive(noop_phase(base, clients, seconds))
        noop_rate = noop.ok / seconds
        print(
            f"noop   GET /api/noop                 {noop_rate:9.1f} req/s"
            f"  (the client used {cpu / (seconds + 1):.2f} CPU)"
        )
        tokens = world.tokens[:clients]
        cycles, cpu = drive(floor_phase(base, tokens, world.teams[0], floor_pay, seconds))
        floor_rate = cycles / seconds
        print(
            f"floor  join + pay, no database       {floor_rate:9.1f} cycles/s"
            f"  (floor/noop {floor_rate / noop_rate if noop_rate else 0:.2f};"
            f" the client used {cpu / seconds:.2f} CPU)"
        )

        before = succeeded_payments()
        watch = PaymentWatch()
        watch.start()
        t0 = time.monotonic()
        joins, cpu = drive(join_phase(base, world, clients, seconds, pay=pay))
        elapsed = time.monotonic() - t0
        watch.halt.set()
        watch.join()
        join_rate = joins.ok / seconds
        cycle_rate = (joins.pays if pay else joins.ok) / seconds
        refused = ", ".join(f"{k} {v}" for k, v in joins.refused.most_common()) or "none"
        print(
            f"join   POST join/open -> 201         {join_rate:9.1f} joins/s"
            f"  (p50 {ms(percentile(joins.latencies, 50))},"
            f" p99 {ms(percentile(joins.latencies, 99))},"
            f" mean {ms(statistics.fmean(joins.latencies) if joins.latencies else 0)};"
            f" {joins.ok} joins of which {joins.opened} opened a team;"
            f" the client used {cpu / elapsed:.2f} CPU)"
        )
        print(f"       refused: {refused}")
        print(
            f"pay    POST /api/sandbox/pay -> 200  {joins.pays / seconds:9.1f} req/s"
            f"  (p50 {ms(percentile(joins.pay_latencies, 50))},"
            f" p99 {ms(percentile(joins.pay_latencies, 99))})"
        )
        print(
            f"cycle  join + pay                    {cycle_rate:9.1f} cycles/s"
            f"  (cycles/floor {cycle_rate / floor_rate if floor_rate else 0:.2f},"
            f" cycles/noop {cycle_rate / noop_rate if noop_rate else 0:.2f})"
        )
        print(f"confirmed payments (worker)          {watch.rate():9.1f} /s during the phase")

        t1 = time.monotonic()
        while pending_work() and time.monotonic() - t1 < 120:
            time.sleep(0.2)
        drained = time.monotonic() - t1
        confirmed = succeeded_payments() - before
        print(
            f"       {confirmed} payments confirmed in all; the worker drained"
            f" {drained:.1f} s after the phase"
        )
        lags, unconfirmed = confirmation_lags(joins.paid_at)
        print(
            f"confirmation lag p50/p99: {ms(percentile(lags, 50))} / {ms(percentile(lags, 99))}"
            f"  (from the pay's 200 to succeeded in the database; {len(lags)} payments,"
            f" {unconfirmed} not confirmed)"
        )
        try:
            violations = audit()
            if pending_work():
                violations.append("the worker did not drain within 120 s")
        except Exception as exc:  # a broken audit is a failed audit, and still a result
            violations = [f"the audit could not run: {type(exc).__name__}: {exc}".splitlines()[0]]
        print(f"invariants (tuangou audit): {'FAIL' if violations else 'PASS'}")
        for v in violations[:20]:
            print(f"  - {v}")
    finally:
        for p in [proc, *helpers]:
            stop_server(p)
    return Result(workers, noop_rate, floor_rate, join_rate, cycle_rate, violations, lags)


def main() -> None:
    from floor import SERVERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn", help="the ASGI server")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=0,
        help="standalone `tuangou worker` processes beside the server's in-process worker",
    )
    parser.add_argument(
        "--no-pay",
        action="store_true",
        help="joins only: the clients never pay (their payments stay pending until released);"
        " the cost of the join request alone (a cycle is then a join)",
    )
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.workers < 1:
        parser.error("--clients, --seconds and --workers must be positive")

    tmp = Path(tempfile.mkdtemp(prefix="tuangou-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    label = "sqlite (temporary file)" if not args.database_url else url.split("@")[-1]
    point_at(url)
    world = seed(args.clients, teams=max(4 * args.clients, 64))
    print(f"tuangou join benchmark: {label}")
    r = measure(
        url,
        world,
        tmp,
        clients=args.clients,
        seconds=args.seconds,
        workers=args.workers,
        server=args.server,
        worker_processes=args.worker_processes,
        port=args.port,
        pay=not args.no_pay,
    )
    print(f"join/noop ratio: {r.join_rate / r.noop_rate if r.noop_rate else 0.0:.2f}")
    print(f"join/floor ratio: {r.ratio:.2f}")


if __name__ == "__main__":
    main()
