"""Group commit (tuangou.core.group_commit): on SQLite many units in one transaction, each in
its own savepoint; on PostgreSQL each unit in a transaction of its own. On both, every caller
hears back only after the COMMIT, and a failing unit fails alone."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.e2e.server import run_async
from tuangou.core import clock, group_commit
from tuangou.core.db import table, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.core.models import IdempotencyRecord

records = table(IdempotencyRecord)

# Batching itself is SQLite's (on PostgreSQL each unit has a transaction of its own).
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _add(session: Session, key: str) -> None:
    session.execute(
        insert(records).values(
            scope="test",
            key=key,
            request_hash="h",
            status_code=200,
            response="{}",
            created_at=clock.now(),
        )
    )


def _keys() -> set[str]:
    with unit_of_work(readonly=True) as session:
        return set(session.scalars(select(records.c.key).where(records.c.scope == "test")))


class Refused(DomainError):
    code = "refused_for_the_test"


async def _hold_the_writer(waiting_for: int) -> asyncio.Future[str]:
    """Queue a unit that keeps the writer busy until ``waiting_for`` more units are queued
    (so that those are taken as one batch); returns once the writer has taken it."""
    taken = threading.Event()

    def unit(session: Session) -> str:
        taken.set()
        deadline = time.monotonic() + 10
        while group_commit._writer._queue.qsize() < waiting_for:
            assert time.monotonic() < deadline, "the other units were never queued"
            time.sleep(0.001)
        _add(session, "first")
        return "first"

    first = asyncio.ensure_future(group_commit.run(unit))
    assert await asyncio.to_thread(taken.wait, 10)
    return first


@SQLITE_ONLY
def test_a_batch_commits_together_and_a_refused_unit_fails_alone(db: str) -> None:
    transactions: dict[int, int] = {}

    def unit(n: int) -> Any:
        def run(session: Session) -> int:
            transactions[n] = id(session.connection().get_transaction())
            _add(session, f"k{n}")
            if n % 3 == 0:
                raise Refused(f"unit {n} is refused")
            return n * 10

        return run

    async def main() -> list[Any]:
        first = await _hold_the_writer(12)
        rest = [group_commit.run(unit(n)) for n in range(1, 13)]
        results = await asyncio.gather(*rest, return_exceptions=True)
        return [await first, *results]

    results = run_async(main())
    assert results[0] == "first"
    for n, result in enumerate(results[1:], start=1):
        if n % 3 == 0:
            assert isinstance(result, Refused) and str(n) in str(result)
        else:
            assert result == n * 10
    # The twelve queued units ran in one transaction, each refused one rolled back alone.
    assert len(set(transactions.values())) == 1
    assert _keys() == {"first"} | {f"k{n}" for n in range(1, 13) if n % 3}


def test_a_refused_unit_changes_nothing_and_the_others_commit(db: str) -> None:
    def unit(n: int) -> Any:
        def run(session: Session) -> int:
            _add(session, f"k{n}")
            if n % 3 == 0:
                raise Refused(f"unit {n} is refused")
            return n

        return run

    async def main() -> list[Any]:
        units = [group_commit.run(unit(n)) for n in range(1, 31)]
        return await asyncio.gather(*units, return_exceptions=True)

    for n, result in enumerate(run_async(main()), start=1):
        assert isinstance(result, Refused) if n % 3 == 0 else result == n
    assert _keys() == {f"k{n}" for n in range(1, 31) if n % 3}


@SQLITE_ONLY
def test_two_requests_with_one_key_in_one_batch_do_the_work_once(db: str) -> None:
    from tuangou.core import idempotency

    runs: list[int] = []

    def work(session: Session) -> dict[str, int]:
        runs.append(1)
        _add(session, f"work{len(runs)}")
        return {"run": len(runs)}

    def twin() -> Any:
        return idempotency.run_grouped(
            scope="user:1", key="same", request_hash="h1", work=work, status_code=201
        )

    async def main() -> list[Any]:
        first = await _hold_the_writer(2)
        outcomes = await asyncio.gather(twin(), twin())
        await first
        return outcomes

    a, b = run_async(main())
    # Both ran their work in the batch; the second met the first's key record (not yet
    # committed, in the same transaction), rolled its work back and replayed the first's answer.
    assert len(runs) == 2
    assert (a.replayed, b.replayed) == (False, True)
    assert a.body == b.body == {"run": 1} and a.status_code == b.status_code == 201
    assert _keys() == {"first", "work1"}
    with unit_of_work(readonly=True) as session:
        stored = session.scalars(select(records.c.response).where(records.c.key == "same"))
        assert list(stored) == ['{"run":1}']


def test_nobody_hears_back_before_the_commit(db: str) -> None:
    from sqlalchemy import event

    from tuangou.core.db import get_engine

    order: list[str] = []

    def committed(conn: Any) -> None:
        order.append("commit")

    def unit(session: Session) -> str:
        _add(session, "answered-after-commit")
        order.append("unit done")
        return "done"

    async def main() -> None:
        assert await group_commit.run(unit) == "done"
        order.append("answered")
        # At the moment the caller got its answer, another connection sees the row.
        assert "answered-after-commit" in _keys()

    engine = get_engine()
    event.listen(engine, "commit", committed)
    try:
        run_async(main())
    finally:
        event.remove(engine, "commit", committed)
    # (the reading of the keys commits too, after the answer)
    assert order[:3] == ["unit done", "commit", "answered"]


@SQLITE_ONLY
def test_a_unit_that_ends_the_transaction_cannot_report_the_others_done(db: str) -> None:
    """If the transaction ends under a unit (here the unit rolls it back itself, as SQLite
    does on some errors), the units before it must not be told "done" for rolled-back work:
    the batch is run again, each unit in a transaction of its own."""
    calls: dict[str, int] = {"good": 0, "bad": 0}

    def good(session: Session) -> str:
        calls["good"] += 1
        _add(session, f"good{calls['good']}")
        return "good"

    def bad(session: Session) -> str:
        calls["bad"] += 1
        session.connection().exec_driver_sql("ROLLBACK")
        return "bad"

    async def main() -> list[Any]:
        first = await _hold_the_writer(2)
        results = await asyncio.gather(
            group_commit.run(good), group_commit.run(bad), return_exceptions=True
        )
        return [await first, *results]

    first, good_result, bad_result = run_async(main())
    assert first == "first" and good_result == "good"
    # Alone, it ends a transaction that held nothing of anyone else's.
    assert bad_result == "bad"
    assert calls == {"good": 2, "bad": 2}
    # Only the second run of the good unit committed; its first run was rolled back.
    assert _keys() == {"first", "good2"}


@pytest.mark.retries(1)
def test_a_retryable_failure_is_run_again_alone(db: str) -> None:
    attempts: list[int] = []

    def flaky(session: Session) -> str:
        attempts.append(1)
        _add(session, f"try{len(attempts)}")
        if len(attempts) == 1:
            raise OperationalError("UPDATE x", {}, Exception("database is locked"))
        return "landed"

    assert run_async(group_commit.run(flaky)) == "landed"
    assert len(attempts) == 2
    assert _keys() == {"try2"}


@pytest.mark.parametrize("n", [200])
def test_many_concurrent_units_all_commit_exactly_once(db: str, n: int) -> None:
    async def main() -> list[int]:
        return await asyncio.gather(*(group_commit.run(_numbered(i)) for i in range(n)))

    assert sorted(run_async(main())) == list(range(n))
    with unit_of_work(readonly=True) as session:
        count = session.scalar(
            select(func.count()).select_from(records).where(records.c.scope == "test")
        )
        distinct = session.execute(
            text("SELECT COUNT(DISTINCT key) FROM idempotency_records WHERE scope = 'test'")
        ).scalar()
    assert count == distinct == n


def _numbered(i: int) -> Any:
    def unit(session: Session) -> int:
        _add(session, f"n{i}")
        return i

    return unit
