"""Counters and caps under concurrency, on both backends: likes equal their rows, a day's deal
posts never exceed the cap, pins never exceed three."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tests.conftest import scalar
from tests.posts.conftest import Posts
from tuangou.core.db import run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.posts import service as posts


def _race(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs at once (released together); their results or refusals."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = jobs[i]()
        except DomainError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_likes_under_concurrency_equal_their_rows(world: Posts) -> None:
    made = world.made(world.alice)
    members = [int(world.join(f"邻居{i}")["user_id"]) for i in range(6)]
    members.append(int(world.bob["user_id"]))

    def like(uid: int) -> Callable[[], Any]:
        return lambda: run_in_transaction(lambda s: posts.like(s, uid, made["id"]))

    def unlike(uid: int) -> Callable[[], Any]:
        return lambda: run_in_transaction(lambda s: posts.unlike(s, uid, made["id"]))

    # Everyone likes twice at once (the second a no-op), and one of them takes it back.
    jobs = [like(uid) for uid in members] * 2 + [unlike(members[0])]
    results = _race(jobs)
    assert not [r for r in results if isinstance(r, Exception)]
    rows = scalar("SELECT COUNT(*) FROM post_likes WHERE post_id = :p", p=made["id"])
    assert scalar("SELECT like_count FROM posts WHERE id = :p", p=made["id"]) == rows
    assert rows in (len(members), len(members) - 1)  # the unlike ran before or after


def test_the_days_deal_cap_holds_under_concurrency(world: Posts) -> None:
    leader = int(world.leader["user_id"])

    def deal(i: int) -> Callable[[], Any]:
        return lambda: run_in_transaction(
            lambda s: (
                posts.create_post(
                    s,
                    user_id=leader,
                    community_id=world.community,
                    body=f"团{i}",
                    listing_id=world.listing,
                ).id
            )
        )

    results = _race([deal(i) for i in range(6)])
    made = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(made) == 3 and len(refused) == 3
    assert {r.code for r in refused} == {"rhythm_limited"}
    assert scalar("SELECT COUNT(*) FROM posts WHERE kind = 'deal'") == 3


def test_pins_stay_at_three_under_concurrency(world: Posts) -> None:
    made = [world.made(world.alice, f"帖{i}")["id"] for i in range(6)]
    viewer = posts.Viewer(int(world.leader["user_id"]))

    def pin(pid: int) -> Callable[[], Any]:
        return lambda: run_in_transaction(lambda s: posts.pin(s, viewer, pid, pinned=True).id)

    results = _race([pin(pid) for pid in made])
    assert len([r for r in results if isinstance(r, int)]) == 3
    assert scalar("SELECT COUNT(*) FROM posts WHERE pinned_at IS NOT NULL") == 3
