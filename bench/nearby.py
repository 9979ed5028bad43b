"""附近 at 100k pickup points: the indexed query beside a full-scan haversine, same data,
same run.

    python bench/nearby.py [--points 100000] [--queries 100] [--radius 3000] [--seed 16]
                           [--database-url URL]

1. Builds ``--points`` pickup points (GCJ-02) in a throwaway database (a temporary SQLite
   file unless ``--database-url``; use a throwaway one there too): spread evenly over discs
   of 25 km around ten Chinese city centres, each with its geohash, inserted in batches.
2. Runs ``--queries`` nearby queries of ``--radius`` metres around points drawn in the same
   cities, each twice, in alternating order:
   - **index**: ``communities.service.points_near``, the query the API runs: the geohash
     cells covering the circle fetch candidates by an indexed range each, then the exact
     haversine distance filters and sorts;
   - **scan**: every active point's coordinates read, the same haversine over all of them,
     filtered and sorted the same way (what a haversine pasted into SQL over the whole table
     does).
   Both answer the 50 nearest within the radius; every query's two answers must be equal
   (the script stops otherwise).
3. Prints the p50 and p99 latency of each, the candidates the index fetched on average, and
   last, exactly ``nearby scan/index speedup: X`` (p99 of the scan / p99 of the index).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

# City centres, GCJ-02 (as a map app shows them).
CITIES = [
    ("上海", 31.2304, 121.4737),
    ("北京", 39.9042, 116.4074),
    ("广州", 23.1291, 113.2644),
    ("深圳", 22.5431, 114.0579),
    ("杭州", 30.2741, 120.1551),
    ("成都", 30.5728, 104.0668),
    ("武汉", 30.5928, 114.3055),
    ("南京", 32.0603, 118.7969),
    ("西安", 34.3416, 108.9398),
    ("重庆", 29.5630, 106.5516),
]
CITY_RADIUS_M = 25_000
BATCH = 5_000


def spot(rnd: random.Random, spread: float = CITY_RADIUS_M) -> tuple[float, float]:
    """A point evenly spread over a disc around one of the cities."""
    from tuangou.geo import rules as geo

    _, lat, lng = rnd.choice(CITIES)
    return geo.destination(lat, lng, spread * math.sqrt(rnd.random()), rnd.uniform(0, 360))


def build(url: str, points: int, seed: int) -> float:
    """The database with ``points`` pickup points of one leader; the seconds it took."""
    from sqlalchemy import insert

    from tuangou import wiring
    from tuangou.accounts import service as accounts
    from tuangou.communities import service as communities
    from tuangou.communities.models import PickupPoint
    from tuangou.core import migrate
    from tuangou.core.config import reset_settings
    from tuangou.core.db import make_engine, run_in_transaction, set_engine
    from tuangou.geo import rules as geo

    t0 = time.perf_counter()
    wiring.compose()
    os.environ["DATABASE_URL"] = url
    reset_settings()
    engine = make_engine(url)
    migrate.upgrade(engine)
    set_engine(engine)

    def leader(session: object) -> int:
        op = accounts.create_user(
            session, phone="17700000000", password=None, nickname="运营", role="operator"
        )
        uid = accounts.create_user(session, phone="17700000001", password=None, nickname="团长").id
        first = communities.PickupPointInput("起点", "起点 1 号", *CITIES[0][1:], "")
        application = communities.apply(session, uid, first)
        return communities.approve_application(session, application.id, operator_id=op.id).leader.id

    leader_id = run_in_transaction(leader)  # type: ignore[arg-type]
    rnd = random.Random(seed)
    now = datetime(2026, 12, 7)
    made = 1
    while made < points:
        rows = []
        for _ in range(min(BATCH, points - made)):
            made += 1
            lat, lng = spot(rnd)
            rows.append(
                {
                    "leader_id": leader_id,
                    "name": f"自提点 {made}",
                    "address": f"幸福路 {made} 号",
                    "latitude": lat,
                    "longitude": lng,
                    "geohash": geo.geohash(lat, lng),
                    "opening_hours": "8:00-21:00",
                    "active": True,
                    "created_at": now,
                }
            )
        run_in_transaction(lambda s, rows=rows: s.execute(insert(PickupPoint), rows))  # type: ignore[misc]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE pickup_points")
        else:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


def scan(session: object, centre: object, limit: int = 50) -> list[tuple[int, float]]:
    """The full scan: every active point read, the exact distance to each."""
    from sqlalchemy import select

    from tuangou.communities.models import PickupPoint
    from tuangou.geo import rules as geo

    lat0, lng0, radius = centre.latitude, centre.longitude, centre.radius_m  # type: ignore[attr-defined]
    found = []
    rows = session.execute(  # type: ignore[attr-defined]
        select(PickupPoint.id, PickupPoint.latitude, PickupPoint.longitude).where(
            PickupPoint.active.is_(True)
        )
    )
    for point_id, lat, lng in rows:
        d = geo.distance_m(lat0, lng0, lat, lng)
        if d <= radius:
            found.append((point_id, d))
    found.sort(key=lambda pair: (pair[1], pair[0]))
    return found[:limit]


def count_candidates(session: object, centre: object) -> int:
    """How many rows the index's cells fetch for this query (before the exact distance)."""
    from sqlalchemy import and_, func, or_, select

    from tuangou.communities.models import PickupPoint
    from tuangou.geo import rules as geo

    ranges = []
    cells = geo.covering_cells(centre.latitude, centre.longitude, centre.radius_m)  # type: ignore[attr-defined]
    for cell in cells:
        low, high = geo.prefix_bounds(cell)
        column = PickupPoint.geohash
        ranges.append(column >= low if high is None else and_(column >= low, column < high))
    query = select(func.count()).select_from(PickupPoint).where(or_(*ranges))
    return int(session.scalar(query))  # type: ignore[attr-defined]


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--radius", type=float, default=3000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if not (2 <= args.queries <= 5000 and 1_000 <= args.points <= 1_000_000):
        parser.error("--queries is 2 to 5000, --points 1000 to 1000000")

    from sqlalchemy import func, select

    from tuangou.communities import service as communities
    from tuangou.communities.models import PickupPoint
    from tuangou.core.db import read
    from tuangou.geo import service as geo_service

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/nearby-bench.db"
    seconds = build(url, args.points, args.seed)
    total = read(lambda s: s.scalar(select(func.count()).select_from(PickupPoint)))
    print(f"{total} pickup points in 10 cities, built in {seconds:.1f} s ({url.split(':')[0]})")

    rnd = random.Random(args.seed + 1)
    index_ms: list[float] = []
    scan_ms: list[float] = []
    candidates = 0
    answers = 0
    for n in range(args.queries):
        lat, lng = spot(rnd, CITY_RADIUS_M * 0.8)
        centre = geo_service.centre(lat, lng, radius_m=args.radius)

        def indexed(c: geo_service.Centre = centre) -> list[tuple[int, float]]:
            t = time.perf_counter()
            found = read(lambda s: communities.points_near(s, c))
            index_ms.append(time.perf_counter() - t)
            return found

        def scanned(c: geo_service.Centre = centre) -> list[tuple[int, float]]:
            t = time.perf_counter()
            found = read(lambda s: scan(s, c))
            scan_ms.append(time.perf_counter() - t)
            return found

        if n % 2 == 0:
            a, b = indexed(), scanned()
        else:
            b, a = scanned(), indexed()
        if [pid for pid, _ in a] != [pid for pid, _ in b]:
            sys.exit(f"query {n}: the index and the scan disagree")
        answers += len(a)
        candidates += read(lambda s, c=centre: count_candidates(s, c))
    print(
        f"{args.queries} queries of {args.radius:.0f} m: {answers / args.queries:.1f} points "
        f"answered, {candidates / args.queries:.0f} candidates fetched by the index on average"
    )
    print(f"index: p50 {pct(index_ms, 50):.2f} ms, p99 {pct(index_ms, 99):.2f} ms")
    print(f"scan:  p50 {pct(scan_ms, 50):.2f} ms, p99 {pct(scan_ms, 99):.2f} ms")
    print(f"nearby scan/index speedup: {pct(scan_ms, 99) / pct(index_ms, 99):.1f}")


if __name__ == "__main__":
    main()
