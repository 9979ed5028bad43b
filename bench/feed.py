"""Feed benchmark: a community's feed at 100k posts beside the same at 1k posts.

    python bench/feed.py [--database-url URL] [--requests 300] [--big 100000] [--small 1000]

Starts ``tuangou serve`` on a free 127.0.0.1 port (a temporary SQLite file by default) and
seeds two communities of one leader, one with ``--small`` posts and one with ``--big`` posts,
each with set-based inserts (one ``INSERT … SELECT`` over a counter: seconds, not minutes),
three of them pinned. A member of both then reads each community's feed through the API,
one request at a time on a kept-alive connection, alternating:

* the first page (``GET /api/communities/{id}/posts``: the pinned posts and the newest 20);
* a deep page (``?cursor=`` the keyset of a post 90% of the way down the feed).

:func:`measure_feed` returns the latencies of one size; the script prints p50 and p99 for
both sizes and pages, and last ``feed p99 growth: X``: the p99 at the big size divided by the
p99 at the small one, for the feed and for a product's reviews page (bench/feed_reviews.py,
the same sizes of reviews), whichever grew more. Cursor paging on the (community_id,
created_at, id) index and the reviews' stored star counts keep a page's cost independent of
the number of rows, so the goal is at most 1.5.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feed_reviews import measure_reviews
from join import free_port, ms, percentile, point_at, start_server, stop_server


@dataclass
class Feed:
    community_id: int
    size: int
    deep_cursor: str


@dataclass
class World:
    token: str
    feeds: dict[int, Feed]  # size -> its community


def _insert_posts(session: Any, community_id: int, author_ids: list[int], size: int) -> None:
    """``size`` posts in one statement: the i-th is i seconds older than the newest."""
    from sqlalchemy import text

    from tuangou.core import clock
    from tuangou.core.db import is_sqlite

    sqlite = is_sqlite(session.get_bind())
    when = (
        "datetime(:base, '-' || i || ' seconds')"
        if sqlite
        else "CAST(:base AS timestamp) - i * INTERVAL '1 second'"
    )
    authors = len(author_ids)
    author = (
        "CASE "
        + " ".join(f"WHEN i % {authors} = {n} THEN {uid}" for n, uid in enumerate(author_ids))
        + " END"
    )
    session.execute(
        text(
            "INSERT INTO posts (community_id, author_id, kind, text, status, like_count,"
            " reply_count, share_count, created_at)"
            " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :size)"
            f" SELECT :community, {author}, 'experience', '邻居的分享 #' || i, 'published',"
            f" i % 7, i % 3, 0, {when} FROM n"
        ),
        {
            "size": size,
            "community": community_id,
            "base": clock.now().strftime("%Y-%m-%d %H:%M:%S"),
        },
    )


def seed(sizes: list[int]) -> World:
    from sqlalchemy import text

    from tuangou.accounts import service as accounts
    from tuangou.communities import service as communities
    from tuangou.core import paging
    from tuangou.core.db import run_in_transaction

    stamp = int(time.time()) % 10**6

    def world(session: Any) -> tuple[int, dict[int, int]]:
        leader = accounts.create_user(
            session, phone=f"135{stamp:06d}00", password="bench1234", nickname="团长"
        )
        application = communities.apply(
            session,
            leader.id,
            communities.PickupPointInput(
                name="自提点", address="幸福里 1 号", latitude=30.2, longitude=120.1
            ),
        )
        operator = accounts.create_user(
            session,
            phone=f"135{stamp:06d}01",
            password="bench1234",
            nickname="运营",
            role="operator",
        )
        communities.approve_application(session, application.id, operator_id=operator.id)
        member = accounts.create_user(
            session, phone=f"135{stamp:06d}02", password="bench1234", nickname="读者"
        )
        authors = [
            accounts.create_user(
                session, phone=f"135{stamp:06d}{10 + n}", password="bench1234", nickname=f"邻居{n}"
            ).id
            for n in range(5)
        ]
        made: dict[int, int] = {}
        for size in sizes:
            community = communities.create_community(session, leader.id, name=f"{size} 帖小区")
            for uid in [member.id, *authors]:
                communities.join_by_invite(session, community.invite_code, uid)
            _insert_posts(session, community.id, authors, size)
            session.execute(
                text(
                    "UPDATE posts SET pinned_at = created_at WHERE id IN (SELECT id FROM posts"
                    " WHERE community_id = :c ORDER BY id LIMIT 3)"
                ),
                {"c": community.id},
            )
            made[size] = community.id
        return member.id, made

    started = time.monotonic()
    member_id, made = run_in_transaction(world)

    def analyse(session: Any) -> None:
        from tuangou.core.db import is_sqlite

        session.execute(text("ANALYZE" if is_sqlite(session.get_bind()) else "ANALYZE posts"))

    run_in_transaction(analyse)
    print(f"seeded {sum(sizes):,} posts in {time.monotonic() - started:.1f} s")

    def cursors(session: Any) -> dict[int, Feed]:
        feeds = {}
        for size, community_id in made.items():
            row = session.execute(
                text(
                    "SELECT created_at, id FROM posts WHERE community_id = :c"
                    " ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET :o"
                ),
                {"c": community_id, "o": int(size * 0.9)},
            ).one()
            created = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0])
            feeds[size] = Feed(community_id, size, paging.encode(created, int(row[1])))
        return feeds

    feeds = run_in_transaction(cursors)
    token = run_in_transaction(lambda s: accounts.issue_token(accounts.get_user(s, member_id)))
    return World(token=token, feeds=feeds)


_conn: http.client.HTTPConnection | None = None
_world: World | None = None


def _get(path: str) -> float:
    assert _conn is not None and _world is not None
    started = time.perf_counter()
    _conn.request("GET", path, headers={"Authorization": f"Bearer {_world.token}"})
    reply = _conn.getresponse()
    body = reply.read()
    elapsed = time.perf_counter() - started
    if reply.status != 200:
        raise SystemExit(f"GET {path}: {reply.status} {body[:200]!r}")
    if not json.loads(body)["items"]:
        raise SystemExit(f"GET {path}: an empty page")
    return elapsed


def measure_feed(size: int, requests: int = 300) -> list[float]:
    """Latencies (seconds) of ``requests`` feed reads of the community of ``size`` posts,
    half first pages and half deep pages, one at a time."""
    assert _world is not None
    feed = _world.feeds[size]
    first = f"/api/communities/{feed.community_id}/posts"
    deep = f"{first}?cursor={feed.deep_cursor}"
    for _ in range(10):  # warm-up: connections, caches, prepared plans
        _get(first)
        _get(deep)
    return [_get(first if n % 2 == 0 else deep) for n in range(requests)]


def main() -> None:
    global _conn, _world
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--requests", type=int, default=300, help="feed reads per size")
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    if not 10 <= args.requests <= 100_000 or not 100 <= args.small <= args.big <= 1_000_000:
        parser.error("--requests is 10 to 100,000; 100 <= --small <= --big <= 1,000,000")
    tmp = Path(tempfile.mkdtemp(prefix="tuangou-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    label = "sqlite (temporary file)" if not args.database_url else url.split("@")[-1]
    point_at(url)
    _world = seed([args.small, args.big])
    port = args.port or free_port()
    server = start_server(url, port, 1, tmp / "server.log")
    _conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        print(f"tuangou feed benchmark: {label}")
        print(
            f"server: 1 process on 127.0.0.1:{port}; {args.requests} sequential reads per size;"
            f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} before the run"
        )
        p99: dict[int, float] = {}
        for size in (args.small, args.big):
            latencies = measure_feed(size, args.requests)
            first, deep = latencies[0::2], latencies[1::2]
            p99[size] = percentile(latencies, 99)
            print(
                f"feed {size:>9,} posts   p50 {ms(percentile(latencies, 50))}"
                f"  p99 {ms(p99[size])}   (first page p50 {ms(percentile(first, 50))},"
                f" deep page p50 {ms(percentile(deep, 50))})"
            )
        feed_growth = p99[args.big] / p99[args.small]
    finally:
        _conn.close()
        stop_server(server)
    # A product's reviews page at the same two sizes (in-process, bench/feed_reviews.py).
    reviews_p99: dict[int, float] = {}
    for size in (args.small, args.big):
        latencies = measure_reviews(size, args.requests)
        reviews_p99[size] = percentile(latencies, 99)
        print(
            f"reviews {size:>6,} of one product   p50 {ms(percentile(latencies, 50))}"
            f"  p99 {ms(reviews_p99[size])}"
        )
    reviews_growth = reviews_p99[args.big] / reviews_p99[args.small]
    print(f"p99 growth: feed {feed_growth:.2f}, reviews {reviews_growth:.2f} (the larger counts)")
    print(f"feed p99 growth: {max(feed_growth, reviews_growth):.2f}")


if __name__ == "__main__":
    main()
