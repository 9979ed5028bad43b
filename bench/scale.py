"""Cost that does not grow with the data: the paged lists and the audit at 10k and at 1M orders.

    python bench/scale.py [--sizes 10000,1000000] [--repeat 300] [--limit 20]
                          [--database-url URL] [--seed 15]

1. Builds a throwaway database (a temporary SQLite file unless ``--database-url``; use a
   throwaway one there too). Through the services: an operator, 5 suppliers with 4 SKUs each,
   and the leaders with their pickup points and communities (one for 1,000 orders of the
   biggest size, at least 10, all made first). Then in bulk (multi-row inserts, 20,000 rows
   a batch, not the services), a consistent world, the same distribution at every size:
   - members, one for 10 orders (the buyers skewed: a few heavy buyers, as in life);
   - every second order a wave order: waves of 100 orders, each with 2 items and listed in one
     community, its orders in chain order (跟团号) with one line each;
   - the others team orders: teams of 2 paid seats out of 3 (still open), 100 teams to a team
     campaign, every campaign live;
   - each order paid: its payment, its ledger transfer (gateway → escrow), its notification;
   - the counters (sold, allocated, next chain number) set from the rows, so ``tuangou audit``
     finds nothing wrong.
   The orders are 5 s apart, in id order; a bigger size adds orders after the smaller one's.
2. At each size, through the HTTP API with an in-process client (the ASGI app called in the
   same process, no socket: what is measured is the app and the database), ``--repeat`` times
   each, the first page and a deep page (a cursor from the middle of the list) of:
   my orders (the heaviest buyer), a leader's wave orders (the biggest listing), the
   operator's orders list with filters (status + kind; a supplier and a creation range), a
   chain list (``GET /api/listings/{id}/chain``, see :func:`chain_list`), the live campaigns and
   the inbox (the heaviest buyer's), beside the no-op ``GET /api/noop``; p50 and p99 in ms.
   Then ``tuangou audit``'s duration (the command, in a child process, on the same database).
3. Last line, exactly: ``list p99 growth: X``, the worst ratio of a list's p99 at the biggest
   size to its p99 at the smallest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

from dashboard import bulk_insert, unsynced  # noqa: E402  (the same bulk inserts)

BATCH = 20_000
SUPPLIERS = 5
SKUS_PER_SUPPLIER = 4
ORDERS_PER_MEMBER = 10
ORDERS_PER_LEADER = 1_000
MIN_LEADERS = 10
WAVE_ORDERS_PER_WAVE = 100
TEAMS_PER_CAMPAIGN = 100
SEATS = 2  # paid seats of a team (its size is 3: still open)
STEP = timedelta(seconds=5)  # between two orders
FIRST_USER = 1_000_000
PRICE = 1990
ADDRESS = {"name": "成员", "phone": "18000000000", "line": "幸福里 1 号"}


def members_for(orders: int) -> int:
    return max(orders // ORDERS_PER_MEMBER, 10)


def leaders_for(orders: int) -> int:
    return max(orders // ORDERS_PER_LEADER, MIN_LEADERS)


class World:
    """What the services made, and what the bulk load has reached."""

    def __init__(self) -> None:
        self.start = datetime(2000, 1, 1)
        self.operator = 0
        self.skus: list[tuple[int, int]] = []  # (supplier id, sku id)
        self.leaders: list[tuple[int, int, int, int]] = []  # leader, point, community, user
        self.orders = 0
        self.members = 0
        self.waves = 0
        self.campaigns = 0
        self.teams = 0
        self.wave_leader: dict[int, tuple[int, int, int, int]] = {}


def setup(url: str, own_file: bool, total: int) -> World:
    """The engine, the schema and the actors made through the services."""
    from sqlalchemy import event

    from tuangou import wiring
    from tuangou.accounts import service as accounts
    from tuangou.catalog import service as catalog
    from tuangou.core import clock, migrate
    from tuangou.core.config import reset_settings
    from tuangou.core.db import make_engine, run_in_transaction, set_engine

    wiring.compose()
    os.environ["DATABASE_URL"] = url
    reset_settings()
    engine = make_engine(url)
    if own_file:
        # The benchmark's own throwaway file: no fsync (a crash loses only the benchmark).
        event.listen(engine, "connect", unsynced)
    migrate.upgrade(engine)
    set_engine(engine)
    world = World()
    now = clock.now().replace(microsecond=0)
    # The orders are STEP apart and the last of the biggest size is an hour ago.
    world.start = now - STEP * total - timedelta(hours=1)

    def actors(s: Any) -> None:
        world.operator = accounts.create_user(
            s, phone="17700000000", password=None, nickname="运营", role="operator"
        ).id
        for n in range(SUPPLIERS):
            supplier = catalog.create_supplier(s, name=f"供应商{n}").id
            product = catalog.create_product(s, supplier_id=supplier, title=f"水果{n}")
            for k in range(SKUS_PER_SUPPLIER):
                sku = catalog.create_sku(
                    s, product_id=product.id, name=f"{k + 1}斤", price=PRICE, stock=2 * 10**9
                )
                world.skus.append((supplier, sku.id))

    run_in_transaction(actors)
    # Every leader the biggest size has, made now: the members' ids come after theirs.
    add_leaders(world, leaders_for(total))
    return world


def add_leaders(world: World, count: int) -> None:
    from tuangou.accounts import service as accounts
    from tuangou.communities import service as communities
    from tuangou.core.db import run_in_transaction

    def more(s: Any) -> None:
        for n in range(len(world.leaders), count):
            uid = accounts.create_user(
                s, phone=f"1771{n:07d}", password=None, nickname=f"团长{n}"
            ).id
            app = communities.apply(
                s,
                uid,
                communities.PickupPointInput(
                    name=f"驿站{n}", address="幸福路 1 号", latitude=30.2, longitude=120.1
                ),
            )
            approval = communities.approve_application(s, app.id, operator_id=world.operator)
            c = communities.create_community(s, uid, name=f"小区{n}")
            world.leaders.append((approval.leader.id, approval.pickup_point.id, c.id, uid))

    run_in_transaction(more)


def grow(world: World, total: int, seed: int) -> None:
    """Orders ``world.orders + 1 .. total`` and everything that goes with them, in bulk."""
    import numpy as np

    from tuangou.core import clock
    from tuangou.core.db import run_in_transaction

    rng = np.random.default_rng(seed + total)
    now = clock.now().replace(microsecond=0)
    lo, hi = world.orders, total
    members = members_for(total)
    wave_count = (hi // 2 - 1) // WAVE_ORDERS_PER_WAVE + 1
    team_count = (hi - hi // 2 - 1) // SEATS + 1
    campaign_count = (team_count - 1) // TEAMS_PER_CAMPAIGN + 1

    def bulk(s: Any) -> None:
        bulk_insert(
            s,
            "users",
            [
                {
                    "id": FIRST_USER + i,
                    "phone": f"18{i:09d}",
                    "nickname": f"成员{i}",
                    "address": ADDRESS,
                    "created_at": world.start - timedelta(days=30),
                }
                for i in range(world.members, members)
            ],
        )
        bulk_insert(
            s,
            "team_campaigns",
            [
                {
                    "id": c,
                    "sku_id": world.skus[c % len(world.skus)][1],
                    "supplier_id": world.skus[c % len(world.skus)][0],
                    "title": f"拼团{c}",
                    "starts_at": world.start - timedelta(days=1),
                    "ends_at": now + timedelta(days=30),
                    "min_size": 3,
                    "max_size": 3,
                    "window_hours": 24,
                    "tiers": [[3, PRICE]],
                    "single_price": PRICE + 500,
                    "stock": 100_000,
                    "per_member_limit": 1_000,
                    "max_quantity_per_order": 5,
                    "status": "active",
                    "created_at": world.start - timedelta(days=1),
                }
                for c in range(world.campaigns + 1, campaign_count + 1)
            ],
        )
        waves, items, listings = [], [], []
        for w in range(world.waves + 1, wave_count + 1):
            supplier, _ = world.skus[(w * SKUS_PER_SUPPLIER) % len(world.skus)]
            own = [k for k in world.skus if k[0] == supplier]
            leader = world.wave_leader[w] = world.leaders[w % len(world.leaders)]
            waves.append(
                {
                    "id": w,
                    "supplier_id": supplier,
                    "source": "catalogue",
                    "created_by": leader[3],
                    "title": f"第{w}期",
                    "cutoff_at": now + timedelta(days=2),
                    "delivery_date": (now + timedelta(days=3)).date(),
                    "status": "open",
                    "commission_bps": 1000,
                    "created_at": world.start,
                }
            )
            for k in range(2):
                items.append(
                    {
                        "id": 2 * w - 1 + k,
                        "wave_id": w,
                        "sku_id": own[k][1],
                        "title": f"水果{k}",
                        "price": PRICE,
                        "tiers": [[1, PRICE]],
                        "moq": 1,
                        "stock": 10_000,
                        "per_member_limit": 1_000,
                    }
                )
            listings.append(
                {
                    "id": w,
                    "wave_id": w,
                    "community_id": leader[2],
                    "leader_id": leader[0],
                    "pickup_point_id": leader[1],
                    "commission_bps": 1000,
                    "created_at": world.start,
                }
            )
        bulk_insert(s, "waves", waves)
        bulk_insert(s, "wave_items", items)
        bulk_insert(s, "wave_listings", listings)

        buyers = (members * rng.random(hi - lo) ** 2).astype(np.int64)
        batches: dict[str, list[dict[str, Any]]] = {
            t: []
            for t in (
                "teams",
                "orders",
                "team_seats",
                "wave_orders",
                "wave_order_lines",
                "payments",
                "ledger_transfers",
                "ledger_entries",
                "notifications",
            )
        }
        last_buyer: dict[int, int] = {}
        for n, oid in enumerate(range(lo + 1, hi + 1)):
            at = world.start + STEP * oid
            buyer = int(buyers[n])
            if oid % 2 == 0:  # a wave order
                k = oid // 2 - 1
                w = k // WAVE_ORDERS_PER_WAVE + 1
                item = 2 * w - 1 + k % 2
                supplier = waves_supplier(world, w)
                batches["wave_orders"].append(
                    {
                        "order_id": oid,
                        "wave_id": w,
                        "listing_id": w,
                        "pickup_point_id": world.wave_leader[w][1],
                        "seq": k % WAVE_ORDERS_PER_WAVE + 1,
                    }
                )
                batches["wave_order_lines"].append(
                    {
                        "order_id": oid,
                        "item_id": item,
                        "sku_id": sku_of_item(world, w, k % 2),
                        "quantity": 1,
                        "unit_price": PRICE,
                    }
                )
                kind, campaign, sku = "wave", w, None
            else:  # a team order: a seat in a team of its campaign
                t = oid // 2
                team = t // SEATS + 1
                campaign = (team - 1) // TEAMS_PER_CAMPAIGN + 1
                supplier, sku = world.skus[campaign % len(world.skus)]
                opener = t % SEATS == 0
                if opener:
                    last_buyer[team] = buyer
                    batches["teams"].append(
                        {
                            "id": team,
                            "campaign_id": campaign,
                            "opener_id": FIRST_USER + buyer,
                            "status": "open",
                            "min_size": 3,
                            "max_size": 3,
                            "seats_taken": SEATS,
                            "paid_count": SEATS,
                            "deadline": now + timedelta(days=1),
                            "created_at": at,
                            "opened_at": at,
                        }
                    )
                elif buyer == last_buyer.get(team):  # one seat per member per team
                    buyer = (buyer + 1) % members
                batches["team_seats"].append(
                    {
                        "team_id": team,
                        "user_id": FIRST_USER + buyer,
                        "order_id": oid,
                        "status": "paid",
                        "is_opener": opener,
                        "joined_at": at,
                        "paid_at": at,
                    }
                )
                kind = "team"
            user = FIRST_USER + buyer
            batches["orders"].append(
                {
                    "id": oid,
                    "user_id": user,
                    "supplier_id": supplier,
                    "kind": kind,
                    "campaign_id": campaign,
                    "sku_id": sku,
                    "quantity": 1,
                    "unit_price": PRICE,
                    "amount": PRICE,
                    "list_amount": PRICE,
                    "status": "paid",
                    "paid_amount": PRICE,
                    "payment_id": oid,
                    "address": ADDRESS,
                    "created_at": at,
                    "expires_at": at + timedelta(minutes=15),
                    "paid_at": at,
                }
            )
            batches["payments"].append(
                {
                    "id": oid,
                    "order_id": oid,
                    "user_id": user,
                    "amount": PRICE,
                    "gateway": "sandbox",
                    "gateway_ref": f"scale-{oid}",
                    "status": "succeeded",
                    "created_at": at,
                    "updated_at": at,
                }
            )
            batches["ledger_transfers"].append(
                {"id": f"pay:{oid}", "kind": "payment", "order_id": oid, "created_at": at}
            )
            for account, amount in (("gateway", -PRICE), ("escrow", PRICE)):
                batches["ledger_entries"].append(
                    {
                        "transfer_id": f"pay:{oid}",
                        "account": account,
                        "order_id": oid,
                        "amount": amount,
                    }
                )
            batches["notifications"].append(
                {
                    "user_id": user,
                    "event_id": f"scale-{oid}",
                    "event_key": f"order.paid:{oid}",
                    "kind": "order.completed",
                    "title": "已完成",
                    "body": "",
                    "data": {"order_id": oid},
                    "created_at": at,
                }
            )
            if len(batches["orders"]) >= BATCH:
                _flush(s, batches)
        _flush(s, batches)
        _counters(s)

    run_in_transaction(bulk)
    world.orders, world.members = hi, members
    world.waves, world.campaigns, world.teams = wave_count, campaign_count, team_count


def waves_supplier(world: World, w: int) -> int:
    return world.skus[(w * SKUS_PER_SUPPLIER) % len(world.skus)][0]


def sku_of_item(world: World, w: int, k: int) -> int:
    supplier = waves_supplier(world, w)
    return [sku for owner, sku in world.skus if owner == supplier][k]


def _flush(s: Any, batches: dict[str, list[dict[str, Any]]]) -> None:
    for table, rows in batches.items():  # in the order of their foreign keys
        bulk_insert(s, table, rows)
        rows.clear()


def _counters(s: Any) -> None:
    """The counters the audit checks, set from the rows just written (set-based)."""
    from sqlalchemy import text

    for sql in (
        """UPDATE team_campaigns SET sold = (SELECT COUNT(*) FROM orders o
             WHERE o.kind = 'team' AND o.campaign_id = team_campaigns.id)""",
        """UPDATE wave_items SET sold = (SELECT COALESCE(SUM(quantity), 0)
             FROM wave_order_lines l WHERE l.item_id = wave_items.id)""",
        """UPDATE wave_listings SET next_seq = 1 + (SELECT COALESCE(MAX(seq), 0)
             FROM wave_orders i WHERE i.listing_id = wave_listings.id)""",
        """UPDATE skus SET allocated =
             (SELECT COALESCE(SUM(c.stock), 0) FROM team_campaigns c WHERE c.sku_id = skus.id)
           + (SELECT COALESCE(SUM(i.stock), 0) FROM wave_items i WHERE i.sku_id = skus.id)""",
    ):
        s.execute(text(sql))
    if s.get_bind().dialect.name == "postgresql":
        for table in ("payments", "orders", "notifications", "team_seats", "teams"):
            s.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT MAX(id) FROM {table}))"
                )
            )


def fold(url: str) -> None:
    """After a bulk load: SQLite folds its write-ahead log into the file and both backends
    refresh the planner's statistics, as a running deployment's would be."""
    from sqlalchemy import text

    from tuangou.core.db import get_engine

    engine = get_engine()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    if url.startswith("sqlite"):
        import sqlite3

        engine.dispose()
        folded = sqlite3.connect(engine.url.database or "")
        try:
            folded.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            folded.close()


# ---------------------------------------------------------------- measuring


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """p50 and p99 of ``repeat`` calls, in ms (after 5 calls to warm up)."""
    for _ in range(5):
        call()
    took = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        took.append((time.perf_counter() - t0) * 1000)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.99))]


def chain_list(client: Any, world: World, headers: dict[str, str]) -> Callable[[], Any]:
    """The chain list of the fullest listing (接龙): its first page of lines, on the paged
    chain route (the listing's detail carries only a summary of it)."""
    listing = busiest_listing(world)
    return lambda: ok(client.get(f"/api/listings/{listing}/chain", headers=headers))


def busiest_listing(world: World) -> int:
    return max(1, world.waves - 1)  # a full one (the last may be partly filled)


def ok(reply: Any) -> Any:
    if reply.status_code != 200:
        raise SystemExit(f"{reply.request.url}: {reply.status_code} {reply.text[:300]}")
    return reply


def measure(world: World, repeat: int, limit: int) -> dict[str, tuple[float, float]]:
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from tuangou.accounts import service as accounts
    from tuangou.api.app import create_app
    from tuangou.core import paging
    from tuangou.core.db import read
    from tuangou.notifications.models import Notification
    from tuangou.orders.models import Order

    client = TestClient(create_app(run_worker=False))

    def token(user_id: int) -> dict[str, str]:
        user = read(lambda s: accounts.get_user(s, user_id))
        return {"Authorization": f"Bearer {accounts.issue_token(user)}"}

    def heaviest(s: Any) -> int:
        return int(
            s.execute(
                select(Order.user_id)
                .where(Order.user_id < FIRST_USER + 20)
                .group_by(Order.user_id)
                .order_by(func.count().desc())
                .limit(1)
            ).scalar_one()
        )

    buyer = read(heaviest)
    member, operator = token(buyer), token(world.operator)
    listing = busiest_listing(world)
    leader = token(world.wave_leader[listing][3])

    def middle(query: Any, columns: list[Any]) -> str:
        """The cursor of the row half-way down a list (a deep page)."""

        def find(s: Any) -> str:
            count = s.scalar(select(func.count()).select_from(query.subquery()))
            row = s.execute(
                query.with_only_columns(*columns)
                .order_by(*(c.desc() for c in columns))
                .offset(max(count // 2, 0))
                .limit(1)
            ).one()
            return paging.encode(*row)

        return read(find)

    mine = select(Order).where(Order.user_id == buyer)
    team_paid = select(Order).where(Order.status == "paid", Order.kind == "team")
    span_from = world.start + STEP * (world.orders // 2)
    span_to = world.start + STEP * (world.orders * 6 // 10)
    supplier = world.skus[0][0]
    by_supplier = select(Order).where(
        Order.supplier_id == supplier, Order.created_at >= span_from, Order.created_at < span_to
    )
    inbox = select(Notification).where(Notification.user_id == buyer)
    cols = [Order.created_at, Order.id]
    deep = {
        "my orders": middle(mine, cols),
        "operator: status+kind": middle(team_paid, cols),
        "operator: supplier+dates": middle(by_supplier, cols),
        "inbox": middle(inbox, [Notification.created_at, Notification.id]),
    }
    half_chain = paging.encode(WAVE_ORDERS_PER_WAVE // 2)
    half_campaigns = paging.encode(world.campaigns // 2)
    window = f"created_from={span_from.isoformat()}&created_to={span_to.isoformat()}"

    def get(path: str, headers: dict[str, str]) -> Callable[[], Any]:
        return lambda: ok(client.get(path, headers=headers))

    n = f"limit={limit}"
    lists: dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]] = {
        "my orders": (
            get(f"/api/orders?{n}", member),
            get(f"/api/orders?{n}&cursor={deep['my orders']}", member),
        ),
        "leader's wave orders": (
            get(f"/api/leader/listings/{listing}/orders?{n}", leader),
            get(f"/api/leader/listings/{listing}/orders?{n}&cursor={half_chain}", leader),
        ),
        "operator: status+kind": (
            get(f"/api/admin/orders?status=paid&kind=team&{n}", operator),
            get(
                f"/api/admin/orders?status=paid&kind=team&{n}"
                f"&cursor={deep['operator: status+kind']}",
                operator,
            ),
        ),
        "operator: supplier+dates": (
            get(f"/api/admin/orders?supplier_id={supplier}&{window}&{n}", operator),
            get(
                f"/api/admin/orders?supplier_id={supplier}&{window}&{n}"
                f"&cursor={deep['operator: supplier+dates']}",
                operator,
            ),
        ),
        "chain list": (chain_list(client, world, operator), None),
        "campaigns": (
            get(f"/api/campaigns?{n}", {}),
            get(f"/api/campaigns?{n}&cursor={half_campaigns}", {}),
        ),
        "inbox": (
            get(f"/api/notifications?{n}", member),
            get(f"/api/notifications?{n}&cursor={deep['inbox']}", member),
        ),
    }
    found: dict[str, tuple[float, float]] = {}
    noop = timed(get("/api/noop", {}), repeat)
    print(f"  {'no-op':34s} p50 {noop[0]:7.2f} ms  p99 {noop[1]:7.2f} ms")
    for name, (first, deeper) in lists.items():
        for page, call in (("first", first), ("deep", deeper)):
            if call is None:
                continue
            p50, p99 = timed(call, repeat)
            found[f"{name} ({page})"] = (p50, p99)
            print(
                f"  {name + ' (' + page + ')':34s} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
                f"  p99/no-op p99 {p99 / noop[1]:5.1f}"
            )
    return found


def audit(url: str) -> float:
    """``tuangou audit`` on the database, in a child process; its wall time in seconds."""
    env = dict(os.environ, PYTHONPATH=str(SRC), DATABASE_URL=url)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from tuangou.cli import app; app()", "audit"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - t0
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
        raise SystemExit("tuangou audit found a violation in the seeded world")
    return took


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-audit", action="store_true", help="skip tuangou audit's timing")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    if sizes != sorted(sizes) or any(not 1_000 <= x <= 5_000_000 or x % 4 for x in sizes):
        parser.error("--sizes: growing, each a multiple of 4 between 1,000 and 5,000,000")
    if not 20 <= args.repeat <= 10_000:
        parser.error("--repeat is between 20 and 10,000")
    folder = None if args.database_url else tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{folder}/scale-bench.db"
    try:
        run(url, args, sizes, own_file=folder is not None)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def run(url: str, args: argparse.Namespace, sizes: list[int], *, own_file: bool) -> None:
    world = setup(url, own_file, sizes[-1])
    results: dict[int, dict[str, tuple[float, float]]] = {}
    for size in sizes:
        t0 = time.perf_counter()
        grow(world, size, args.seed)
        seeded = time.perf_counter() - t0
        t0 = time.perf_counter()
        fold(url)
        print(
            f"{size:,} orders ({url.split(':')[0]}): seeded in {seeded:.1f} s,"
            f" statistics in {time.perf_counter() - t0:.1f} s;"
            f" {world.members:,} members, {len(world.leaders):,} leaders,"
            f" {world.waves:,} waves, {world.campaigns:,} campaigns, {world.teams:,} teams"
        )
        results[size] = measure(world, args.repeat, args.limit)
        if not args.no_audit:
            print(f"  tuangou audit: {audit(url):.1f} s (a full run, clean)")
    small, big = results[sizes[0]], results[sizes[-1]]
    growth = {name: big[name][1] / small[name][1] for name in small}
    for name, ratio in growth.items():
        print(f"  p99 growth {name:34s} {ratio:5.2f}")
    print(f"list p99 growth: {max(growth.values()):.2f}")


if __name__ == "__main__":
    main()
