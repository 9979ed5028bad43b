"""A product's reviews page at size: ``measure_reviews(size)`` seeds ``size`` reviews of one
product and times ``GET /api/products/{id}/reviews`` (its summary included), the first page
and a deep cursor page in turn.

    python bench/feed_reviews.py [--database-url URL] [--sizes 1000,100000] [--requests 200]

The reviews are written by set-based inserts (one ``INSERT … SELECT`` over a generated
series, no service call per row): mixed stars, one in ten with a photo, one in fifty hidden
(out of the list and the counts). The page is read in-process through the API (FastAPI's
test client: no network), after a few warm-up reads. Each size gets a product of its own, so
sizes can run one after the other in the same database. ``bench/feed.py`` calls
:func:`measure_reviews` beside the community feed; run alone, this prints p50 and p99 for
each size, and last ``reviews p99 growth: X`` (the largest size's p99 over the smallest's).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from join import percentile

WARM_UP = 10
# Generated rows: i = 1..size. Stars spread 5 > 4 > 3 > 1 > 2, as real ones are.
_SEED = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :size)
INSERT INTO reviews (
    order_id, line_id, user_id, order_kind, campaign_id, sku_id, product_id, supplier_id,
    community_id, leader_user_id, title, quantity, completed_on, rating, text, photo_count,
    status, created_at
)
SELECT :base + i, 0, 1 + i % 997, 'team', :campaign, :sku, :product, :supplier,
    NULL, NULL, '烟台红富士苹果 5斤装', 1 + i % 3, :day,
    CASE WHEN i % 10 < 5 THEN 5 WHEN i % 10 < 8 THEN 4 WHEN i % 10 = 8 THEN 3
         WHEN i % 20 = 9 THEN 1 ELSE 2 END,
    '很新鲜, 家里人都说好吃, 下次还买。', CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END,
    CASE WHEN i % 50 = 0 THEN 'hidden' ELSE 'published' END, :at
FROM n
"""


def _product() -> tuple[int, int, int]:
    """A supplier, a product and its SKU of their own: (supplier, product, sku)."""
    from tuangou.catalog import service as catalog
    from tuangou.core.db import run_in_transaction
    from tuangou.core.ids import token

    def work(session: object) -> tuple[int, int, int]:
        supplier = catalog.create_supplier(session, name=f"评价基准 {token(4)}")  # type: ignore[arg-type]
        product = catalog.create_product(session, supplier_id=supplier.id, title="红富士苹果")  # type: ignore[arg-type]
        sku = catalog.create_sku(session, product_id=product.id, name="5斤装", price=3990, stock=10)  # type: ignore[arg-type]
        return supplier.id, product.id, sku.id

    return run_in_transaction(work)


def seed(size: int) -> int:
    """``size`` reviews of a new product, by one set-based insert; the product's id."""
    from datetime import date, datetime

    from sqlalchemy import text

    from tuangou.core.db import get_engine, is_sqlite, run_in_transaction
    from tuangou.reviews import service as reviews

    supplier, product, sku = _product()

    def work(session: object) -> None:
        base = session.execute(text("SELECT COALESCE(MAX(order_id), 0) FROM reviews")).scalar()  # type: ignore[attr-defined]
        session.execute(  # type: ignore[attr-defined]
            text(_SEED),
            {
                "size": size,
                "base": int(base or 0) + 1_000_000,
                "campaign": product,
                "sku": sku,
                "product": product,
                "supplier": supplier,
                "day": date(2026, 12, 1),
                "at": datetime(2026, 12, 1, 8, 0),
            },
        )

    run_in_transaction(work)
    run_in_transaction(reviews.recount)  # the counters of rows written by hand
    with get_engine().connect() as conn:  # fresh statistics for the planner
        conn.execute(text("ANALYZE" if is_sqlite() else "ANALYZE reviews"))
        conn.commit()
    return product


def measure_reviews(size: int, requests: int = 200) -> list[float]:
    """Seconds each read of the product's reviews page took (``requests`` reads: the first
    page and a cursor page nine tenths deep in turn), with ``size`` reviews of the product.
    The process must be pointed at a migrated database (``DATABASE_URL``, composed)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from tuangou.api.app import create_app
    from tuangou.core.db import unit_of_work

    product = seed(size)
    with unit_of_work(readonly=True) as session:
        ids = [
            int(i)
            for (i,) in session.execute(
                text(
                    "SELECT id FROM reviews WHERE product_id = :p AND status = 'published'"
                    " ORDER BY id DESC"
                ),
                {"p": product},
            )
        ]
    deep = str(ids[int(len(ids) * 0.9)])
    path = f"/api/products/{product}/reviews"
    latencies: list[float] = []
    with TestClient(create_app(run_worker=False)) as client:
        for n in range(WARM_UP + requests):
            params = {"cursor": deep} if n % 2 else {}
            started = time.perf_counter()
            reply = client.get(path, params=params)
            took = time.perf_counter() - started
            assert reply.status_code == 200, reply.text
            body = reply.json()
            assert body["summary"]["count"] == len(ids) and len(body["reviews"]) == 20
            if n >= WARM_UP:
                latencies.append(took)
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-reviews-")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{folder}/bench.db"
    os.environ.setdefault("TUANGOU_RUN_WORKER", "false")
    from tuangou import wiring

    wiring.compose()
    from tuangou.core import migrate, secret
    from tuangou.core.db import get_engine

    migrate.upgrade(get_engine())
    secret.secret_key()
    sizes = [int(s) for s in args.sizes.split(",")]
    p99s = []
    for size in sizes:
        took = measure_reviews(size, args.requests)
        p50, p99 = percentile(took, 50) * 1000, percentile(took, 99) * 1000
        p99s.append(p99)
        print(
            f"reviews of one product at {size}: p50 {p50:.2f} ms, p99 {p99:.2f} ms,"
            f" mean {statistics.mean(took) * 1000:.2f} ms ({len(took)} reads)"
        )
    print(f"reviews p99 growth: {p99s[-1] / p99s[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
