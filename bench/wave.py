"""Wave benchmark: how fast does a big wave settle at its cut-off, next to the same database's
raw insert rate?

    python bench/wave.py [--database-url URL] [--orders 10000] [--pickup-points 100]
                         [--batch 250] [--profile]

Builds, in this process and through the services (so that every order is a real paid wave
order, consistent with the ledger and the audit): a supplier's catalogue wave of three SKUs,
adopted by ``--pickup-points`` leaders (each with their pickup point and community), and
``--orders`` members, each of whom orders and pays once in their community; about 1% more
orders are left unpaid, to be released at the cut-off. The SKUs are chosen so that
settlement does all of its work: apples reach their top tier (price protection for every
buyer), eggs reach their MOQ at the base price, and pears stay below their MOQ (refunded).

Then, on the same database:

1. the baseline: the raw insert rate of a scratch table about as wide as ``orders``, in
   transactions of the settlement's chunk size, one INSERT statement per row (the
   multi-row INSERT rate is printed too);
2. the cut-off settlement (``pools.service.settle_wave``): paid orders settled per second;
3. the purchase order: JSON (``pools.service.purchase_order``) and CSV, median of 5;
4. the audit (``tuangou audit``'s checks).

The database is used as given (a temporary SQLite file by default): give a fresh one. The
last line is ``settle/insert ratio: X``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
)

T = TypeVar("T")

APPLE_TIERS = [(100, 1190), (1000, 1090), (5000, 990)]


def point_at(url: str) -> None:
    from tuangou import wiring
    from tuangou.core import clock, migrate, secret
    from tuangou.core.config import reset_settings
    from tuangou.core.db import make_engine, set_engine

    wiring.compose()
    os.environ["DATABASE_URL"] = url
    os.environ["TUANGOU_SANDBOX_CALLBACK_DELAY_MS"] = "0"
    reset_settings()
    engine = make_engine(url)
    migrate.upgrade(engine)
    set_engine(engine)
    secret.reset()
    secret.secret_key()
    clock.set_offset(timedelta(0))


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


# ---------------------------------------------------------------- building the wave


@dataclass
class World:
    wave_id: int
    listings: list[int]  # one per pickup point
    items: list[int]  # apples, eggs, pears
    members: list[tuple[int, int]]  # (user id, listing id)
    paid: int = 0
    unpaid: int = 0


def build(n_orders: int, n_points: int, batch: int, rng: random.Random) -> World:
    from tuangou.accounts import service as accounts
    from tuangou.accounts.models import User
    from tuangou.catalog import service as catalog
    from tuangou.communities import service as communities
    from tuangou.communities.models import CommunityMember
    from tuangou.core import clock
    from tuangou.core.db import run_in_transaction, table
    from tuangou.pools import service as pools

    stamp = f"{int(time.time()) % 100000:05d}"
    n_unpaid = max(1, n_orders // 100)
    n_members = n_orders + n_unpaid

    def catalogue(session: Any) -> tuple[int, list[int]]:
        supplier = catalog.create_supplier(session, name=f"基准果园{stamp}{rng.randrange(10**6)}")
        skus = []
        for title, price in (("烟台苹果 5斤", 1290), ("土鸡蛋 30枚", 4590), ("砀山梨 5斤", 990)):
            product = catalog.create_product(session, supplier_id=supplier.id, title=title)
            sku = catalog.create_sku(
                session, product_id=product.id, name="1份", price=price, stock=10**8
            )
            skus.append(sku.id)
        stock = 10 * n_members
        wave = pools.create_catalogue_wave(
            session,
            user_id=0,
            supplier_id=supplier.id,
            data=pools.WaveInput(
                title="基准 · 明日达",
                cutoff_at=clock.now() + timedelta(hours=2),
                delivery_date=(clock.now() + timedelta(days=1)).date(),
                commission_bps=1000,
                hold_minutes=120,
                items=[
                    pools.ItemInput(
                        sku_id=skus[0],
                        price=1290,
                        moq=50,
                        stock=stock,
                        per_member_limit=5,
                        tiers=APPLE_TIERS,
                    ),
                    pools.ItemInput(
                        sku_id=skus[1], price=4590, moq=10, stock=stock, per_member_limit=3
                    ),
                    pools.ItemInput(
                        sku_id=skus[2],
                        price=990,
                        moq=10 * stock,
                        stock=10 * stock,
                        per_member_limit=5,
                    ),
                ],
            ),
        )
        return wave.id, [i.id for i in pools.items_of(session, wave.id)]

    wave_id, items = run_in_transaction(catalogue)

    def leaders(session: Any) -> list[tuple[int, str]]:
        op = accounts.create_user(
            session, phone=f"188{stamp}{rng.randrange(1000):03d}", password=None, nickname="运营",
            role="operator",
        )  # fmt: skip
        made = []
        for i in range(n_points):
            user = accounts.create_user(
                session, phone=f"186{stamp}{i:03d}", password=None, nickname=f"团长{i:03d}"
            )
            application = communities.apply(
                session,
                user.id,
                communities.PickupPointInput(
                    name=f"{i:03d}号自提点",
                    address=f"幸福路 {i} 号",
                    latitude=31.2 + i / 1000,
                    longitude=121.4,
                    opening_hours="8:00-21:00",
                ),
            )
            approval = communities.approve_application(session, application.id, operator_id=op.id)
            community = communities.create_community(session, user.id, name=f"{i:03d}号小区")
            listing = pools.adopt_wave(
                session,
                user_id=user.id,
                wave_id=wave_id,
                community_id=community.id,
                pickup_point_id=approval.pickup_point.id,
            )
            made.append((listing.id, community.id))
        return made

    made = run_in_transaction(leaders)
    listings = [listing for listing, _ in made]

    # Members: plain rows (no password, nothing to derive), each in one community.
    def members(session: Any) -> list[tuple[int, int]]:
        now = clock.now()
        rows = [
            {
                "phone": f"15{stamp[-2:]}{i:07d}",
                "password_hash": None,
                "nickname": rng.choice("李王张刘陈杨黄赵吴周") + rng.choice(("阿姨", "大爷", "姐")),
                "role": "member",
                "supplier_id": None,
                "address": None,
                "token_version": 0,
                "created_at": now,
            }
            for i in range(n_members)
        ]
        for start in range(0, len(rows), 5000):
            session.execute(insert(table(User)), rows[start : start + 5000])
        phones = [r["phone"] for r in rows]
        ids = dict(session.execute(select(User.phone, User.id).where(User.phone.in_(phones))).all())
        pairs = [(ids[p], made[k % len(made)]) for k, p in enumerate(phones)]
        session.execute(
            insert(table(CommunityMember)),
            [
                {"community_id": community, "user_id": uid, "role": "member", "joined_at": now}
                for uid, (_, community) in pairs
            ],
        )
        return [(uid, listing) for uid, (listing, _) in pairs]

    world = World(wave_id, listings, items, run_in_transaction(members))
    place(world, n_orders, n_unpaid, batch, rng)
    return world


def basket(items: list[int], rng: random.Random) -> dict[int, int]:
    apples, eggs, pears = items
    roll = rng.random()
    if roll < 0.55:
        chosen = {apples: rng.randint(1, 3)}
    elif roll < 0.75:
        chosen = {apples: rng.randint(1, 2), eggs: 1}
    elif roll < 0.85:
        chosen = {eggs: rng.randint(1, 2)}
    elif roll < 0.95:
        chosen = {apples: 1, pears: rng.randint(1, 2)}
    else:
        chosen = {pears: rng.randint(1, 3)}  # refunded in full at the cut-off
    return chosen


def place(world: World, n_orders: int, n_unpaid: int, batch: int, rng: random.Random) -> None:
    """Every order through the services: placed, then paid on the sandbox gateway."""
    from tuangou.core.db import run_in_transaction
    from tuangou.payments import service as payments
    from tuangou.pools import service as pools

    plan = [(uid, listing, basket(world.items, rng)) for uid, listing in world.members]
    t0 = time.perf_counter()
    for start in range(0, len(plan), batch):
        chunk = plan[start : start + batch]

        def work(session: Any, chunk: list[Any] = chunk, start: int = start) -> tuple[int, int]:
            paid = unpaid = 0
            for k, (uid, listing, quantities) in enumerate(chunk):
                placed = pools.place_order(
                    session, user_id=uid, listing_id=listing, quantities=quantities,
                    remark="放门口" if (start + k) % 7 == 0 else "",
                )  # fmt: skip
                if start + k < n_orders:
                    assert payments.sandbox_pay_now(session, placed.started.payment) == "paid"
                    paid += 1
                else:
                    unpaid += 1
            return paid, unpaid

        paid, unpaid = run_in_transaction(work)
        world.paid += paid
        world.unpaid += unpaid
        done = start + len(chunk)
        if done % (batch * 8) == 0 or done == len(plan):
            rate = done / (time.perf_counter() - t0)
            print(f"  orders placed: {done:6d}/{len(plan)} ({rate:.0f}/s)", flush=True)


# ---------------------------------------------------------------- measuring


SCRATCH = MetaData()
scratch_table = Table(
    "bench_scratch",
    SCRATCH,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer),
    Column("supplier_id", Integer),
    Column("kind", String(16)),
    Column("campaign_id", Integer),
    Column("quantity", Integer),
    Column("amount", Integer),
    Column("status", String(20)),
    Column("paid_amount", Integer),
    Column("refunded_amount", Integer),
    Column("released_amount", Integer),
    Column("created_at", DateTime),
    Column("paid_at", DateTime),
    Column("close_reason", String(32)),
)


def insert_rates(rows: int, chunk: int) -> tuple[float, float]:
    """Rows per second into a scratch table about as wide as ``orders``, committed in
    transactions of ``chunk`` rows (the settlement's chunk size): one INSERT statement per
    row (what the services pay per statement), and one multi-row INSERT per transaction."""
    from tuangou.core import clock
    from tuangou.core.db import get_engine, unit_of_work

    engine = get_engine()
    now = clock.now()
    data = [
        {
            "user_id": i,
            "supplier_id": 1,
            "kind": "wave",
            "campaign_id": 1,
            "quantity": 2,
            "amount": 2580,
            "status": "paid",
            "paid_amount": 2580,
            "refunded_amount": 0,
            "released_amount": 0,
            "created_at": now,
            "paid_at": now,
            "close_reason": None,
        }
        for i in range(rows)
    ]
    rates = []
    for row_by_row in (True, False):
        SCRATCH.drop_all(engine)
        SCRATCH.create_all(engine)
        t0 = time.perf_counter()
        for start in range(0, rows, chunk):
            with unit_of_work() as session:
                if row_by_row:
                    for row in data[start : start + chunk]:
                        session.execute(insert(scratch_table).values(**row))
                else:
                    session.execute(insert(scratch_table), data[start : start + chunk])
        rates.append(rows / (time.perf_counter() - t0))
    SCRATCH.drop_all(engine)
    return rates[0], rates[1]


@dataclass
class Settled:
    status: str | None
    seconds: float
    cpu_seconds: float  # of this process (on SQLite, all of the work)
    statements: int
    profile: str


def settle(wave_id: int, profile: bool) -> Settled:
    from sqlalchemy import event

    from tuangou.core import clock
    from tuangou.core.db import get_engine
    from tuangou.pools import service as pools

    clock.advance(timedelta(hours=2, minutes=1))  # past the cut-off
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    profiler = cProfile.Profile() if profile else None
    t0, cpu0 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    status = pools.settle_wave(wave_id)
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    event.remove(engine, "before_cursor_execute", count)
    report = ""
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(15)
        report = out.getvalue()
    return Settled(status, elapsed, cpu, statements, report)


def purchase_order_times(wave_id: int) -> tuple[float, float, dict[str, Any]]:
    from tuangou.core.db import unit_of_work
    from tuangou.pools import export
    from tuangou.pools import service as pools

    json_times, csv_times = [], []
    po: dict[str, Any] = {}
    for _ in range(5):
        with unit_of_work(readonly=True) as session:
            po, seconds = timed(lambda session=session: pools.purchase_order(session, wave_id))
        json_times.append(seconds)
        with unit_of_work(readonly=True) as session:
            _, seconds = timed(
                lambda session=session: export.purchase_order_csv(
                    pools.purchase_order(session, wave_id)
                )
            )
        csv_times.append(seconds)
    return statistics.median(json_times), statistics.median(csv_times), po


def audit() -> list[tuple[str, int, list[str]]]:
    from tuangou import audit as a
    from tuangou.core.db import unit_of_work

    with unit_of_work(readonly=True) as session:
        return [(c.name, c.invariant, c.violations) for c in a.run(session)]


def outcome_counts(wave_id: int) -> dict[str, int]:
    from sqlalchemy import text

    from tuangou.core.db import unit_of_work

    with unit_of_work(readonly=True) as session:
        return {
            str(status): int(n)
            for status, n in session.execute(
                text(
                    "SELECT o.status, COUNT(*) FROM orders o JOIN wave_orders w"
                    " ON w.order_id = o.id WHERE w.wave_id = :w GROUP BY o.status"
                ),
                {"w": wave_id},
            )
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--orders", type=int, default=10_000, help="paid orders")
    parser.add_argument("--pickup-points", type=int, default=100)
    parser.add_argument("--batch", type=int, default=250, help="orders placed per transaction")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="profile the settlement")
    args = parser.parse_args()
    if args.orders < 1 or args.pickup_points < 1 or args.batch < 1:
        parser.error("--orders, --pickup-points and --batch must be positive")

    tmp = Path(tempfile.mkdtemp(prefix="tuangou-bench-wave-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    label = "sqlite (temporary file)" if not args.database_url else url.split("@")[-1]
    point_at(url)
    from tuangou.pools import service as pools

    print(f"tuangou wave benchmark: {label}")
    print(
        f"{args.orders} paid orders across {args.pickup_points} pickup points;"
        f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run"
    )
    world, seconds = timed(
        lambda: build(args.orders, args.pickup_points, args.batch, random.Random(args.seed))
    )
    print(
        f"set-up: {world.paid} paid + {world.unpaid} unpaid orders in {len(world.listings)}"
        f" communities, through the services, in {seconds:.1f} s"
    )

    base, bulk = insert_rates(world.paid, pools.SETTLE_CHUNK)
    print(
        f"insert  {world.paid} rows into a scratch table, {pools.SETTLE_CHUNK} per transaction:"
        f" {base:.0f} rows/s one INSERT per row (the baseline);"
        f" {bulk:.0f} rows/s as multi-row INSERTs"
    )

    settled = settle(world.wave_id, args.profile)
    if settled.status != "settled":
        sys.exit(f"the wave did not settle (status {settled.status})")
    rate = world.paid / settled.seconds
    counts = outcome_counts(world.wave_id)
    print(
        f"settle  {world.paid} paid orders in {settled.seconds:.2f} s: {rate:.0f} orders/s"
        f"  ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))});"
        f" {settled.statements / world.paid:.1f} SQL statements and"
        f" {settled.cpu_seconds / world.paid * 1000:.2f} ms of this process's CPU per order"
    )
    json_s, csv_s, po = purchase_order_times(world.wave_id)
    lines = sum(len(p["items"]) for p in po["pickup_points"])
    print(
        f"purchase order: {len(po['pickup_points'])} pickup points, {lines} lines;"
        f" JSON {json_s * 1000:.1f} ms, CSV {csv_s * 1000:.1f} ms (median of 5)"
    )
    again = pools.settle_wave(world.wave_id)
    print(f"settle again: {again!r} (nothing left to do)")

    checks, seconds = timed(audit)
    failed = 0
    for name, invariant, violations in checks:
        mark = "PASS" if not violations else "FAIL"
        print(f"audit {mark} invariant {invariant}: {name}")
        for v in violations[:5]:
            print(f"      - {v}")
        failed += len(violations)
    print(f"audit: {'all invariants hold' if not failed else f'{failed} violation(s)'}"
          f" ({seconds:.1f} s)")  # fmt: skip
    if settled.profile:
        print(settled.profile)
    print(f"settle/insert ratio: {rate / base:.2f}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
