"""Group commit: the hot writes of many requests in one transaction, on one writer thread.

A join, an opening or a sandbox payment is a short write transaction, and every one of them
touches the same few rows (the campaign's stock counter, a team's seats). Run one transaction
per request and the cost per request is a BEGIN, a COMMIT, a hop to a worker thread and back,
and, while the write lock is held, every other thread taking turns on the interpreter lock.

Here a request handler on the event loop queues its unit of work with :func:`run` and awaits
it. On SQLite, where the writes of a process take turns anyway, one writer thread per process
takes whatever is queued (up to :data:`MAX_BATCH` units), runs the units one after the other
in **one** transaction, each in a SAVEPOINT of its own, and commits once. Then it answers
every caller. So:

* a unit that raises is rolled back alone (to its savepoint), and its exception reaches its
  caller; the others are not affected;
* nobody hears back before the COMMIT: a success reply always matches a committed change
  (invariant 9), and a crash before the COMMIT loses the whole batch, answered to nobody;
* if the COMMIT itself fails (or the connection breaks, or the transaction ends under a unit),
  every unit of the batch is run again, each in a transaction of its own
  (:func:`tuangou.core.db.run_in_transaction`), so one bad unit cannot sink the others. A
  unit must therefore be safe to run again after a rollback, as every unit of work already
  is (ENGINEERING.md rule 2);
* a unit that meets a failure worth retrying (another process kept the database locked past
  the busy timeout) is run again alone after its batch, as
  :func:`~tuangou.core.db.run_in_transaction` would retry it.

A unit is a function of a :class:`~sqlalchemy.orm.Session`, as in a unit of work: a session of
its own, in a savepoint of the batch's transaction, released when the unit returns and rolled
back to when it raises. A unit may also call ``session.rollback()`` to drop what it did so far
and go on (its next statement opens a new savepoint): a refused request can so still write
down its refusal. The transaction is an ordinary :func:`~tuangou.core.db.unit_of_work`: it takes the
process's SQLite write lock, like every other writer of the process.

On PostgreSQL a unit runs in a transaction of its own on a worker thread (see :func:`run`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tuangou.core import metrics
from tuangou.core.db import (
    committing,
    count_retry,
    is_retryable,
    is_sqlite,
    run_in_transaction,
    unit_of_work,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH = 64  # units per transaction; a batch is what queued while the last one ran


def _in_savepoint(fn: Callable[[Session], T], conn: Connection) -> T:
    """``fn`` with a session of its own on the batch's connection, in a SAVEPOINT: released
    when ``fn`` returns, rolled back to when it raises."""
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    with committing(session):
        return fn(session)


@dataclass
class _Unit:
    fn: Callable[[Session], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    ok: bool = False
    value: Any = None
    alone: bool = False  # to be run again in a transaction of its own


class _BatchBroken(Exception):
    pass


def _intact(conn: Connection) -> bool:
    """Is the batch's transaction still open? (The writer runs on SQLite only.)"""
    raw: Any = conn.connection.dbapi_connection
    return bool(raw.in_transaction)


def _answer(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():  # the caller went away; the change stands (it committed)
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class _Writer:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Unit] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, unit: _Unit) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._start:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._serve, name="group-commit", daemon=True
                    )
                    self._thread.start()
        self._queue.put(unit)

    def _serve(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._run(batch)
            except BaseException as exc:  # never leave a caller waiting
                log.exception("group commit failed outside any unit")
                for unit in batch:
                    unit.loop.call_soon_threadsafe(_answer, unit.future, False, exc)

    def _run(self, batch: list[_Unit]) -> None:
        metrics.BATCH_SIZE.observe(len(batch))
        try:
            with unit_of_work() as outer:
                conn = outer.connection()
                for unit in batch:
                    try:
                        unit.value, unit.ok = _in_savepoint(unit.fn, conn), True
                    except DBAPIError as exc:
                        if is_retryable(exc):
                            count_retry(exc)
                            unit.alone = True
                        unit.value, unit.ok = exc, False
                    except Exception as exc:
                        unit.value, unit.ok = exc, False
                    if not _intact(conn):
                        # The database ended the transaction under us (SQLite rolls back a
                        # whole transaction on some errors): what the units before this one
                        # did is gone, so nobody may hear "done" from this batch.
                        raise _BatchBroken()
        except Exception:
            log.warning("a batch of %d failed to commit; running each alone", len(batch))
            for unit in batch:
                unit.alone = True
        for unit in batch:
            if unit.alone:
                self._run_alone(unit)
            unit.loop.call_soon_threadsafe(_answer, unit.future, unit.ok, unit.value)

    @staticmethod
    def _run_alone(unit: _Unit) -> None:
        try:
            unit.value, unit.ok = run_in_transaction(unit.fn), True
        except Exception as exc:
            unit.value, unit.ok = exc, False


_writer = _Writer()


async def run(fn: Callable[[Session], T]) -> T:
    """Run ``fn(session)`` in the writer's next transaction; returns its result once
    committed, or raises what ``fn`` raised (nothing of it committed).

    On PostgreSQL ``fn`` runs in a transaction of its own on a worker thread instead: there a
    transaction keeps its row locks to the end, so a batch would hold the hot rows (a
    campaign's stock) for all its units, where a transaction of its own takes them last and
    holds them for a moment; and transactions of several threads overlap their round trips to
    the server."""
    if not is_sqlite():
        return await run_in_threadpool(run_in_transaction, fn)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    _writer.submit(_Unit(fn, loop, future))
    return await future
