"""Races on both backends: two requests writing the review of the same line (one wins, the
other is already_reviewed), and the leader and the supplier answering the same review at
once (one reply, the other already_replied)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tests.conftest import scalar
from tests.reviews.conftest import Shop


def _race(works: list[Callable[[], Any]]) -> list[str]:
    """Run each work in its own thread, all released at once: "ok" or the refusal's code."""
    barrier = threading.Barrier(len(works))
    outcomes: list[str] = [""] * len(works)

    def run(n: int) -> None:
        from tuangou.core.errors import DomainError

        barrier.wait()
        try:
            works[n]()
            outcomes[n] = "ok"
        except DomainError as exc:
            outcomes[n] = str(exc.code)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(works))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(outcomes)


def test_two_concurrent_reviews_of_one_line_one_wins(shop: Shop) -> None:
    from tuangou.core.db import run_in_transaction
    from tuangou.reviews import service as reviews

    member, order_id = shop.completed_wave_order()
    apple = shop.line(member, order_id, "苹果")
    uid = int(member["user_id"])

    def write(rating: int) -> Callable[[], Any]:
        return lambda: run_in_transaction(
            lambda s: reviews.write(
                s, user_id=uid, order_id=order_id, line_id=apple, rating=rating, text="抢"
            )
        )

    assert _race([write(5), write(1)]) == ["already_reviewed", "ok"]
    assert scalar("SELECT COUNT(*) FROM reviews WHERE line_id = :l", l=apple) == 1
    # The pears too, by three requests at once.
    pear = shop.line(member, order_id, "梨")

    def write_pear() -> Any:
        return run_in_transaction(
            lambda s: reviews.write(
                s, user_id=uid, order_id=order_id, line_id=pear, rating=4, text=""
            )
        )

    assert _race([write_pear, write_pear, write_pear]) == [
        "already_reviewed",
        "already_reviewed",
        "ok",
    ]
    assert scalar("SELECT COUNT(*) FROM reviews") == 2
    # Each line counted once in its product's stars.
    assert scalar("SELECT SUM(n) FROM review_counts WHERE scope = 'product'") == 2


def test_the_leader_and_the_supplier_answer_at_once_one_reply_stays(shop: Shop) -> None:
    from tuangou.core.db import run_in_transaction
    from tuangou.reviews import service as reviews

    member, order_id = shop.completed_wave_order()
    apple = shop.line(member, order_id, "苹果")
    review = shop.write(member, order_id, apple, 3).json()
    leader_id = int(shop.leader["user_id"])

    def leader() -> Any:
        return run_in_transaction(
            lambda s: reviews.reply(
                s,
                review_id=review["id"],
                user_id=leader_id,
                role="member",
                supplier_id=None,
                text="团长回复",
            )
        )

    def supplier() -> Any:
        staff = int(scalar("SELECT id FROM users WHERE supplier_id = :s", s=shop.supplier_id))
        return run_in_transaction(
            lambda s: reviews.reply(
                s,
                review_id=review["id"],
                user_id=staff,
                role="supplier",
                supplier_id=shop.supplier_id,
                text="供应商回复",
            )
        )

    assert _race([leader, supplier]) == ["already_replied", "ok"]
    said = scalar("SELECT reply_text FROM reviews WHERE id = :i", i=review["id"])
    assert said in ("团长回复", "供应商回复")
    # Exactly one message to the author.
    assert scalar("SELECT COUNT(*) FROM outbox_events WHERE topic = 'review.replied'") == 1
