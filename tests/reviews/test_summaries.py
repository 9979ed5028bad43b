"""Summaries (the counters) match the rows, and keyset pages walk the rows newest first
without a gap or a repeat (with the star and photo filters), on both backends. The rows are set
directly (their counters rebuilt): what is under test is the reading, not the writing."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import rows
from tests.pools.support import problem
from tuangou.reviews import rules

# (rating, status, photos) of the rows of product 7, oldest first.
ROWS = [
    (5, "published", 0),
    (4, "published", 2),
    (4, "published", 0),
    (1, "published", 1),
    (5, "held", 0),
    (3, "published", 0),
    (2, "hidden", 3),
    (5, "published", 0),
    (4, "published", 1),
    (5, "published", 0),
]


def _seed(product_id: int = 7) -> None:
    from sqlalchemy import insert

    from tuangou.core.db import run_in_transaction
    from tuangou.reviews.models import Review

    values = [
        {
            "order_id": 1000 + n,
            "line_id": 0,
            "user_id": 1,
            "order_kind": "team",
            "campaign_id": 3,
            "sku_id": 70 + n % 2,
            "product_id": product_id,
            "supplier_id": 1,
            "title": "苹果 5斤",
            "quantity": 1,
            "completed_on": date(2026, 12, 1),
            "rating": rating,
            "text": f"第{n}条",
            "photo_count": photos,
            "status": status,
            "created_at": datetime(2026, 12, 1, 8, n),
        }
        for n, (rating, status, photos) in enumerate(ROWS)
    ]

    def work(session: Any) -> None:
        from tuangou.reviews import service as reviews

        session.execute(insert(Review), values)
        reviews.recount(session)  # rows written by hand: their counters rebuilt

    run_in_transaction(work)


def _get(client: TestClient, path: str, **q: Any) -> Any:
    r = client.get(path, params=q)
    assert r.status_code == 200, r.text
    return r.json()


def _walk(client: TestClient, path: str, **q: Any) -> list[str]:
    texts: list[str] = []
    cursor = None
    for _ in range(20):
        page = _get(client, path, limit=3, **q, **({"cursor": cursor} if cursor else {}))
        texts += [r["text"] for r in page["reviews"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return texts
    raise AssertionError("the pages never ended")


def test_the_summary_counts_the_published_rows(db: str) -> None:
    from tuangou.core.db import unit_of_work
    from tuangou.reviews import service as reviews

    _seed()
    published = Counter(r for r, status, _ in ROWS if status == "published")
    by_sql = dict(
        rows(
            "SELECT rating, COUNT(*) FROM reviews WHERE product_id = 7 AND status = 'published'"
            " GROUP BY rating"
        )
    )
    assert by_sql == dict(published)
    with unit_of_work(readonly=True) as s:
        found = reviews.summary(s, reviews.Scope("product", 7))
        assert reviews.summary(s, reviews.Scope("product", 8)).empty
        skus = [reviews.summary(s, reviews.Scope("sku", k)).count for k in (70, 71)]
        campaign = reviews.summary(s, reviews.Scope("campaign", 3))
        assert reviews.summary(s, reviews.Scope("wave", 3)).count == 0  # a wave is another kind
    assert found.count == sum(published.values()) == 8
    assert found.stars == {1: 1, 2: 0, 3: 1, 4: 3, 5: 3}
    assert found.average == "3.9"  # 31 / 8 = 3.875
    assert sum(skus) == 8 and campaign.count == 8
    # The counters say what the rows say, in every scope.
    with unit_of_work(readonly=True) as s:
        for kind, scope_id in (("product", 7), ("sku", 70), ("sku", 71), ("campaign", 3)):
            scope = reviews.Scope(kind, scope_id)
            assert (
                reviews.summary(s, scope).stars == rules.summarise(reviews.counted(s, scope)).stars
            )


def test_pages_walk_newest_first_with_filters(client: TestClient) -> None:
    _seed()
    path = "/api/products/7/reviews"
    # No product 7 in the catalog: the rows alone are read once the product exists.
    from tuangou.core.db import run_in_transaction

    def product(s: Any) -> None:
        from tuangou.catalog import service as catalog

        supplier = catalog.create_supplier(s, name="果园")
        while True:
            p = catalog.create_product(s, supplier_id=supplier.id, title="苹果")
            if p.id >= 7:
                return

    run_in_transaction(product)
    newest_first = [f"第{n}条" for n in reversed(range(len(ROWS))) if ROWS[n][1] == "published"]
    assert _walk(client, path) == newest_first
    five = [f"第{n}条" for n in reversed(range(len(ROWS))) if ROWS[n][:2] == (5, "published")]
    assert _walk(client, path, stars=5) == five
    pictured = [
        f"第{n}条" for n in reversed(range(len(ROWS))) if ROWS[n][1] == "published" and ROWS[n][2]
    ]
    assert _walk(client, path, with_photos="true") == pictured
    page = _get(client, path)
    assert page["summary"]["count"] == 8 and page["summary"]["average"] == "3.9"
    # A bad cursor or star is refused.
    problem(client.get(path, params={"cursor": "abc"}), 422, "invalid_input")
    problem(client.get(path, params={"stars": 6}), 422, "invalid_rating")
    problem(client.get("/api/products/987654/reviews"), 404, "product_not_found")


def test_the_average_rounds_half_up_to_one_decimal() -> None:
    assert rules.summarise({}).average is None
    assert rules.summarise({4: 1, 5: 1}).average == "4.5"
    assert rules.summarise({4: 3, 5: 1}).average == "4.3"  # 4.25
    assert rules.summarise({1: 2, 2: 1}).average == "1.3"  # 1.333…
    assert rules.summarise({5: 3}).average == "5.0"
    summary = rules.summarise({5: 1, 1: 2})
    assert summary.stars == {1: 2, 2: 0, 3: 0, 4: 0, 5: 1} and summary.count == 3
    assert [summary.share(s) for s in rules.STARS] == [67, 0, 0, 0, 33]
    assert rules.excerpt("  很  好\n吃 ") == "很 好 吃"
    assert rules.valid_rating(3) and not rules.valid_rating(True) and not rules.valid_rating(0)
