"""The operator's dashboard at a million orders: the analytical engine (DuckDB) beside plain
SQL on the transactional database, same data, same run.

    python bench/dashboard.py [--orders 1000000] [--days 90] [--repeat 2] [--seed 16]
                              [--database-url URL]

1. Builds a throwaway database (a temporary SQLite file unless ``--database-url``; use a
   throwaway one there too): an operator, a supplier, a team campaign and 40 leaders with
   their communities through the services; then, in bulk (multi-row inserts of 20,000 rows),
   members (one for 25 orders, some bound to an inviter), 300 waves over the year each listed
   in 8 communities, ``--orders`` orders over the last 365 days (60% through waves, with their
   lines; 3% never paid), refunds of 5% of them, teams, the leaders' commissions and a few
   after-sale cases.
2. Computes the operator's dashboard (the whole platform, the last ``--days`` days: every
   figure of ``analytics.rules.DEFINITIONS``) ``--repeat`` times each way, alternating:
   - **analytic**: ``analytics.engine.compute``: the rows streamed out of the database in
     chunks into an in-memory DuckDB, every figure computed there;
   - **sql**: ``analytics.dashboards.compute``: the plain-SQL reference, on the database.
   The two answers must be equal, figure by figure (the script stops otherwise).
3. Prints the best time of each and last, exactly ``dashboard sql/analytic speedup: X``
   (the best plain-SQL time over the best analytic time).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

LEADERS = 40
WAVES = 300
LISTINGS_PER_WAVE = 8
ORDERS_PER_MEMBER = 25
BATCH = 20_000
YEAR_SECONDS = 365 * 86400


def bulk_insert(session: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Multi-row inserts: on SQLite straight through the driver's ``executemany`` (times
    written as SQLAlchemy writes them, the columns' plain defaults filled in), elsewhere
    through SQLAlchemy."""
    from sqlalchemy import insert

    from tuangou.core.db import Base

    if not rows:
        return
    t = Base.metadata.tables[table]
    if session.get_bind().dialect.name != "sqlite":
        for i in range(0, len(rows), BATCH):
            session.execute(insert(t), rows[i : i + BATCH])
        return
    names = list(rows[0])
    defaults = {
        c.name: c.default.arg
        for c in t.c
        if c.name not in names and c.default is not None and c.default.is_scalar
    }
    made = {
        c.name: c.default.arg
        for c in t.c
        if c.name not in names and c.default is not None and c.default.is_callable
    }
    columns = names + list(defaults) + list(made)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    tail = tuple(_plain(v) for v in defaults.values())
    cursor = session.connection().connection.driver_connection.cursor()
    for i in range(0, len(rows), BATCH):
        cursor.executemany(
            sql,
            [
                tuple(_plain(r[n]) for n in names)
                + tail
                + tuple(_plain(f(None)) for f in made.values())
                for r in rows[i : i + BATCH]
            ],
        )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def unsynced(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB of page cache
    cursor.close()


def build(url: str, orders: int, seed: int, *, own_file: bool = False) -> float:
    """The database with ``orders`` orders and what goes with them; the seconds it took."""
    import numpy as np
    from sqlalchemy import event

    from tuangou import wiring
    from tuangou.accounts import service as accounts
    from tuangou.catalog import service as catalog
    from tuangou.communities import service as communities
    from tuangou.core import clock, migrate
    from tuangou.core.config import reset_settings
    from tuangou.core.db import make_engine, run_in_transaction, set_engine
    from tuangou.teams import service as teams

    t0 = time.perf_counter()
    wiring.compose()
    os.environ["DATABASE_URL"] = url
    reset_settings()
    engine = make_engine(url)
    if own_file:
        # The benchmark's own throwaway file: no fsync (a crash loses only the benchmark).
        event.listen(engine, "connect", unsynced)
    migrate.upgrade(engine)
    set_engine(engine)
    now = clock.now().replace(microsecond=0)
    rng = np.random.default_rng(seed)

    def actors(s: Any) -> dict[str, Any]:
        op = accounts.create_user(
            s, phone="17700000000", password=None, nickname="运营", role="operator"
        )
        supplier = catalog.create_supplier(s, name="果园").id
        product = catalog.create_product(s, supplier_id=supplier, title="苹果")
        sku = catalog.create_sku(s, product_id=product.id, name="5斤", price=3000, stock=10**6)
        campaign = teams.create_campaign(
            s,
            teams.CampaignInput(
                sku_id=sku.id,
                title="苹果拼团",
                starts_at=now - timedelta(days=400),
                ends_at=now + timedelta(days=30),
                tiers=[(2, 1990)],
                stock=10**6,
            ),
        ).id
        found = []
        for n in range(LEADERS):
            uid = accounts.create_user(
                s, phone=f"1770001{n:04d}", password=None, nickname=f"团长{n}"
            ).id
            app = communities.apply(
                s,
                uid,
                communities.PickupPointInput(
                    name=f"驿站{n}", address="幸福路 1 号", latitude=30.2, longitude=120.1
                ),
            )
            approval = communities.approve_application(s, app.id, operator_id=op.id)
            c = communities.create_community(s, uid, name=f"小区{n}")
            found.append((approval.leader.id, approval.pickup_point.id, c.id, uid))
        return {"supplier": supplier, "sku": sku.id, "campaign": campaign, "leaders": found}

    world = run_in_transaction(actors)
    supplier, sku, campaign, leaders = (
        world["supplier"],
        world["sku"],
        world["campaign"],
        world["leaders"],
    )

    def bulk(s: Any) -> None:
        members = max(orders // ORDERS_PER_MEMBER, 10)
        first_user = 10**6
        bulk_insert(
            s,
            "users",
            [
                {
                    "id": first_user + i,
                    "phone": f"18{i:09d}",
                    "nickname": f"成员{i}",
                    "created_at": now - timedelta(days=400),
                }
                for i in range(members)
            ],
        )
        inviters = rng.integers(0, members, members)
        bulk_insert(
            s,
            "referral_members",
            [
                {
                    "user_id": first_user + i,
                    "code": f"r{i}",
                    "inviter_id": first_user + int(inviters[i])
                    if i % 5 < 2 and inviters[i] != i
                    else None,
                    "created_at": now - timedelta(days=400),
                }
                for i in range(members)
            ],
        )
        # Waves: one every ~1.2 days over the year, each listed in 8 communities.
        wave_start = [now - timedelta(seconds=YEAR_SECONDS * (1 - w / WAVES)) for w in range(WAVES)]
        bulk_insert(
            s,
            "waves",
            [
                {
                    "id": w + 1,
                    "supplier_id": supplier,
                    "source": "catalogue",
                    "created_by": leaders[0][3],
                    "title": f"第{w}期",
                    "cutoff_at": wave_start[w] + timedelta(days=2),
                    "delivery_date": (wave_start[w] + timedelta(days=3)).date(),
                    "status": "settled" if wave_start[w] + timedelta(days=2) < now else "open",
                    "commission_bps": 1000,
                    "created_at": wave_start[w],
                    "settled_at": wave_start[w] + timedelta(days=2)
                    if wave_start[w] + timedelta(days=2) < now
                    else None,
                }
                for w in range(WAVES)
            ],
        )
        bulk_insert(
            s,
            "wave_items",
            [
                {
                    "id": w + 1,
                    "wave_id": w + 1,
                    "sku_id": sku,
                    "title": "苹果",
                    "price": 1000,
                    "tiers": [[1, 1000]],
                    "moq": 10,
                    "stock": 10**6,
                    "per_member_limit": 100,
                }
                for w in range(WAVES)
            ],
        )
        listing_rows = []
        for w in range(WAVES):
            for k, n in enumerate(rng.choice(LEADERS, LISTINGS_PER_WAVE, replace=False)):
                leader = leaders[int(n)]
                listing_rows.append(
                    {
                        "id": w * LISTINGS_PER_WAVE + k + 1,
                        "wave_id": w + 1,
                        "community_id": leader[2],
                        "leader_id": leader[0],
                        "pickup_point_id": leader[1],
                        "commission_bps": 1000,
                        "created_at": wave_start[w],
                    }
                )
        bulk_insert(s, "wave_listings", listing_rows)

        # Orders: more of them lately (the platform grows), a few heavy buyers.
        ago = (YEAR_SECONDS * rng.random(orders) ** 0.7).astype(np.int64)
        buyer = (members * rng.random(orders) ** 2).astype(np.int64)
        paid = rng.integers(10, 200, orders) * 100
        wave_kind = rng.random(orders) < 0.6
        unpaid = rng.random(orders) < 0.03
        refunded = (rng.random(orders) < 0.05) & ~unpaid
        confirmed = rng.random(orders) < 0.9
        listing_pick = rng.integers(0, LISTINGS_PER_WAVE, orders)
        address = {"name": "成员", "phone": "18000000000", "line": "幸福里"}
        rows, infos, lines, refunds, commissions, cases = [], [], [], [], [], []
        for i in range(orders):
            at = now - timedelta(seconds=int(ago[i]))
            oid = i + 1
            amount = int(paid[i])
            kind = "wave" if wave_kind[i] else "team"
            back = amount // 2 if refunded[i] else 0
            rows.append(
                {
                    "id": oid,
                    "user_id": first_user + int(buyer[i]),
                    "supplier_id": supplier,
                    "kind": kind,
                    "campaign_id": campaign,
                    "quantity": 1,
                    "unit_price": amount,
                    "amount": amount,
                    "status": "cancelled" if unpaid[i] else "completed",
                    "paid_amount": 0 if unpaid[i] else amount,
                    "refunded_amount": back,
                    "address": address,
                    "created_at": at,
                    "expires_at": at + timedelta(minutes=15),
                    "paid_at": None if unpaid[i] else at,
                }
            )
            if back:
                refunds.append(
                    {
                        "key": f"bench:{oid}",
                        "order_id": oid,
                        "user_id": first_user + int(buyer[i]),
                        "amount": back,
                        "reason": ("after_sale", "manual", "price_protection")[oid % 3],
                        "status": "succeeded",
                        "created_at": min(at + timedelta(days=2), now),
                    }
                )
            if kind == "wave" and not unpaid[i]:
                w = min(int((YEAR_SECONDS - ago[i]) * WAVES // YEAR_SECONDS), WAVES - 1)
                listing = listing_rows[w * LISTINGS_PER_WAVE + int(listing_pick[i])]
                infos.append(
                    {
                        "order_id": oid,
                        "wave_id": w + 1,
                        "listing_id": listing["id"],
                        "pickup_point_id": listing["pickup_point_id"],
                    }
                )
                lines.append(
                    {
                        "order_id": oid,
                        "item_id": w + 1,
                        "sku_id": sku,
                        "quantity": 1,
                        "unit_price": amount,
                        "status": "confirmed" if confirmed[i] else "refunded",
                    }
                )
                commissions.append(
                    {
                        "order_id": oid,
                        "leader_id": listing["leader_id"],
                        "kind": "wave",
                        "base_amount": amount,
                        "rate_bps": 1000,
                        "amount": amount // 10,
                        "reversed_amount": back // 10,
                        "status": "settled",
                        "created_at": min(at + timedelta(days=3), now),
                        "available_at": min(at + timedelta(days=10), now),
                    }
                )
                if oid % 97 == 0:
                    cases.append(
                        {
                            "order_id": oid,
                            "user_id": first_user + int(buyer[i]),
                            "order_kind": "wave",
                            "leader_id": listing["leader_id"],
                            "community_id": listing["community_id"],
                            "kind": ("missing", "damaged", "wrong")[oid % 3],
                            "description": "坏了",
                            "status": "accepted",
                            "amount_requested": amount // 2,
                            "amount_refunded": amount // 4,
                            "created_at": min(at + timedelta(days=4), now),
                        }
                    )
            if len(rows) >= BATCH:
                _flush(s, rows, infos, lines, refunds, commissions, cases)
        _flush(s, rows, infos, lines, refunds, commissions, cases)
        ended = rng.integers(0, YEAR_SECONDS, orders // 20)
        bulk_insert(
            s,
            "teams",
            [
                {
                    "campaign_id": campaign,
                    "opener_id": first_user + n % members,
                    "status": "settled" if n % 5 else "failed",
                    "min_size": 2,
                    "max_size": 2,
                    "created_at": now - timedelta(seconds=int(e) + 3600),
                    "settled_at": now - timedelta(seconds=int(e)),
                }
                for n, e in enumerate(ended)
            ],
        )

    run_in_transaction(bulk)
    if own_file:
        # Fold the bulk load's write-ahead log into the file, as SQLite's automatic
        # checkpoint would have after ordinary commits: both ways then read the file itself.
        import sqlite3

        folded = sqlite3.connect(engine.url.database or "")
        try:
            busy, _, _ = folded.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            folded.close()
        if busy:
            print("the write-ahead log could not be checkpointed in full", file=sys.stderr)
    return time.perf_counter() - t0


def _flush(s: Any, *batches: list[dict[str, Any]]) -> None:
    for table, rows in zip(
        ("orders", "wave_orders", "wave_order_lines", "refunds", "commissions", "aftersale_cases"),
        batches,
        strict=True,
    ):
        bulk_insert(s, table, rows)
        rows.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if not 1_000 <= args.orders <= 5_000_000:
        parser.error("--orders is between 1,000 and 5,000,000")
    if not 1 <= args.repeat <= 10:
        parser.error("--repeat is between 1 and 10")
    folder = None if args.database_url else tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{folder}/dashboard-bench.db"
    try:
        run(url, args, own_file=folder is not None)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def run(url: str, args: argparse.Namespace, *, own_file: bool) -> None:
    seconds = build(url, args.orders, args.seed, own_file=own_file)
    print(f"{args.orders:,} orders seeded in {seconds:.1f} s ({url.split(':')[0]})")

    from dataclasses import fields

    from tuangou.analytics import dashboards, engine, rules
    from tuangou.analytics.figures import Figures
    from tuangou.core import clock
    from tuangou.core.db import read

    scope = rules.scope_of(clock.local_date(clock.now()), days=args.days)
    print(f"the operator's dashboard, the whole platform, {scope.start} to {scope.end}")
    best = {"analytic": float("inf"), "sql": float("inf")}
    answers: dict[str, Figures] = {}
    for n in range(args.repeat):
        order = ("analytic", "sql") if n % 2 == 0 else ("sql", "analytic")
        for way in order:
            compute = engine.compute if way == "analytic" else dashboards.compute
            t0 = time.perf_counter()
            answers[way] = read(lambda s, c=compute: c(s, scope))  # type: ignore[misc]
            took = time.perf_counter() - t0
            best[way] = min(best[way], took)
            print(f"  {way:8s} run {n + 1}: {took:.2f} s")
    for field in fields(Figures):
        if field.compare and getattr(answers["sql"], field.name) != getattr(
            answers["analytic"], field.name
        ):
            raise SystemExit(f"the two ways disagree on {field.name}")
    f = answers["analytic"]
    print(
        f"both agree: {f.orders:,} orders paid in the range, GMV {f.gmv_total / 100:,.2f} yuan, "
        f"{len(f.leaders)} leaders, {len(f.cohorts)} cohorts"
    )
    print(f"analytic (DuckDB) best: {best['analytic']:.2f} s; plain SQL best: {best['sql']:.2f} s")
    print(f"dashboard sql/analytic speedup: {best['sql'] / best['analytic']:.1f}")


if __name__ == "__main__":
    main()
