"""Seeding for the co-creation tests, through the services (fast, no HTTP)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tests.pools.support import Person, SeededLeader, execute, seed_leader, seed_members
from tuangou.core import clock
from tuangou.core.errors import DomainError


def age_accounts(people: list[Person], days: int = 30) -> None:
    """Make the accounts old enough to vote."""
    ids = ",".join(str(p.user_id) for p in people)
    execute(
        f"UPDATE users SET created_at = :when WHERE id IN ({ids})",
        when=clock.now() - timedelta(days=days),
    )


def voters(leader: SeededLeader, n: int) -> list[Person]:
    people = seed_members(leader, n)
    age_accounts(people)
    return people


def propose(author: Person, leader: SeededLeader, title: str = "云南蓝莓", **kw: Any) -> int:
    from tuangou.cocreate import service as cocreate
    from tuangou.core.db import run_in_transaction

    def work(session: Any) -> int:
        return cocreate.propose(
            session,
            user_id=author.user_id,
            community_id=leader.community_id,
            title=title,
            description=kw.get("description", "高山蓝莓, 一箱 12 盒"),
            target_price=kw.get("target_price", 3990),
            supplier_hint=kw.get("supplier_hint", ""),
        ).id

    return run_in_transaction(work)


def vote(person: Person, proposal_id: int, pledge: int = 0) -> Any:
    from tuangou.cocreate import service as cocreate
    from tuangou.core.db import run_in_transaction

    return run_in_transaction(
        lambda s: cocreate.vote(s, user_id=person.user_id, proposal_id=proposal_id, pledge=pledge)
    )


def set_threshold(leader: SeededLeader, votes: int, units: int, early_hours: int = 24) -> None:
    from tuangou.cocreate import service as cocreate
    from tuangou.core.db import run_in_transaction

    run_in_transaction(
        lambda s: cocreate.set_settings(
            s,
            user_id=leader.person.user_id,
            community_id=leader.community_id,
            votes=votes,
            units=units,
            early_hours=early_hours,
        )
    )


def race(fns: list[Callable[[], Any]]) -> list[Any]:
    """Run the functions at once; each result is its return value or the error it raised."""
    barrier = threading.Barrier(len(fns))
    results: list[Any] = [None] * len(fns)

    def go(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fns[i]()
        except DomainError as exc:
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


__all__ = ["seed_leader", "seed_members"]
