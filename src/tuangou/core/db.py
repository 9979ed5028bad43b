"""Engine, sessions and the unit of work.

* SQLite (the embedded default) runs in WAL mode with a busy timeout; every write transaction
  starts with ``BEGIN IMMEDIATE`` so writers queue for the lock instead of failing half-way.
* PostgreSQL runs at READ COMMITTED; correctness comes from guarded updates
  (``... WHERE sold + :q <= stock``), unique indexes and compare-and-set state moves.

The entry point owns the transaction (ENGINEERING.md rule 2): :func:`unit_of_work` commits on
success and rolls back on any error; services only flush.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import MetaData, Table, create_engine, event, insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import ReturningInsert

from tuangou.core.config import get_settings
from tuangou.core.errors import DomainError, NotFound

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


T = TypeVar("T")

_engine: Engine | None = None
_sqlite_write_lock = threading.RLock()
_factory: sessionmaker[Session] | None = None


def table(model: type[Base]) -> Table:
    """A model's Core table: a plain UPDATE on it skips the ORM's bookkeeping (hot rows)."""
    return cast(Table, model.__table__)


def execute(
    session: Session,
    statement: Executable,
    params: dict[str, Any] | list[dict[str, Any]] | None = None,
) -> Any:
    """Run a plain Core statement on the session's connection, past the ORM's execute layer
    (for the hot statements of a join or a confirmation: on tables, not mapped classes).
    Pending ORM changes are flushed first, as ``session.execute`` would."""
    session.flush()
    return session.connection().execute(statement, params)


_inserts: dict[Table, ReturningInsert[Any]] = {}

B = TypeVar("B", bound=Base)


def get_or_404(
    session: Session,
    model: type[B],
    ident: Any,
    error: type[DomainError] | DomainError = NotFound,
    **options: Any,
) -> B:
    """The row of ``model`` with primary key ``ident``, or raise ``error`` (the domain's own
    "not found": a class, or an instance that carries a message). ``options`` go to
    :meth:`Session.get` (``populate_existing``, ``with_for_update``)."""
    row = session.get(model, ident, **options)
    if row is None:
        raise error
    return row


def insert_loaded(session: Session, obj: B) -> B:
    """INSERT a new object with one plain statement and attach it to the session as if it had
    just been loaded: what ``session.add(obj); session.flush()`` does, without the unit of
    work's bookkeeping (the hot paths: an order and its payment per join).

    Every column the object leaves unset takes its scalar default (or NULL), so that no
    attribute is left expired: reading one later emits no SQL. (This would not see a server
    default: a column here that has one has the same scalar default too.)
    """
    tbl = table(type(obj))
    (pk,) = tbl.primary_key.columns
    values: dict[str, Any] = {}
    state = obj.__dict__
    for column in tbl.columns:
        if column.key in state:
            value = state[column.key]
        elif column is pk:
            continue
        else:
            default = column.default
            value = default.arg if default is not None and default.is_scalar else None  # type: ignore[attr-defined]
            setattr(obj, column.key, value)
        if value is not None:  # None is left out: SQL NULL, also for a JSON column
            values[column.key] = value
    stmt = _inserts.get(tbl)
    if stmt is None:
        stmt = _inserts[tbl] = insert(tbl).returning(pk)
    new_id = execute(session, stmt, values).scalar_one()
    setattr(obj, pk.key, new_id)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def expire_loaded(session: Session, *models: type[Base]) -> None:
    """Expire every instance of ``models`` the session holds: after plain Core statements
    changed their rows (which the ORM does not see), the next read loads them afresh."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, models):
            session.expire(obj)


def upsert_insert(session: Session) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_nothing`` / ``on_conflict_do_update``)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine: Engine | None = None) -> bool:
    return (engine or get_engine()).dialect.name == "sqlite"


# Guarded writes read ``rowcount``, also of ``INSERT ... ON CONFLICT DO NOTHING``; SQLAlchemy
# only keeps it for UPDATE/DELETE unless asked (on psycopg an INSERT's rowcount is then -1).
ROWCOUNT = {"preserve_rowcount": True}


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 60},
            pool_size=get_settings().db_pool_size,
            max_overflow=40,
            execution_options=ROWCOUNT,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            mode = conn.info.get("begin_mode", "IMMEDIATE")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(
        url,
        pool_size=get_settings().db_pool_size,
        max_overflow=40,
        pool_pre_ping=True,
        execution_options=ROWCOUNT,
    )


def get_engine() -> Engine:
    global _engine, _factory
    if _engine is None:
        _engine = make_engine(get_settings().database_url)
        _factory = sessionmaker(bind=_engine, expire_on_commit=False)
    return _engine


def set_engine(engine: Engine | None) -> None:
    """Point the process at another database (tests, CLI options)."""
    global _engine, _factory
    with _sqlite_write_lock:
        _drop_writer()
    if _engine is not None and _engine is not engine:
        _engine.dispose()
    _engine = engine
    _factory = sessionmaker(bind=engine, expire_on_commit=False) if engine is not None else None


def new_session() -> Session:
    get_engine()
    assert _factory is not None
    return _factory()


@contextmanager
def unit_of_work(*, readonly: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    if readonly and is_sqlite():
        # Readers never block writers in WAL; a deferred BEGIN takes no write lock.
        engine = get_engine()
        conn = engine.connect()
        conn.info["begin_mode"] = "DEFERRED"
        try:
            with committing(Session(bind=conn, expire_on_commit=False)) as session:
                yield session
        finally:
            conn.info.pop("begin_mode", None)
            conn.close()
        return
    if is_sqlite():
        # SQLite has one writer at a time. Threads of this process queue on a lock instead
        # of SQLite's busy handler, which sleeps and polls (other processes still meet
        # busy_timeout), and write on one connection, whose page cache and prepared
        # statements stay warm from one transaction to the next.
        with _sqlite_write_lock:
            if _writing.depth:  # a write inside a write: on a connection of its own
                with _plain_unit_of_work() as session:
                    yield session
                return
            conn = _writer_connection()
            session = Session(bind=conn, expire_on_commit=False)
            _writing.depth += 1
            try:
                yield session
                session.commit()
            except BaseException:
                try:
                    session.rollback()
                finally:
                    if conn.invalidated or conn.closed or conn.in_transaction():
                        _drop_writer()  # never reuse a connection left in doubt
                raise
            finally:
                session.close()
                _writing.depth -= 1
        return
    if _writing.depth:  # inside another unit of work of this thread: it holds a permit
        with _plain_unit_of_work() as session:
            yield session
        return
    # PostgreSQL: at most a few transactions of this process run at once. More would not
    # commit sooner: they would queue on the hot rows' locks while their threads fight for
    # the interpreter lock, slowing the very transaction everyone waits for.
    with _pg_transactions:
        _writing.depth += 1
        try:
            with _plain_unit_of_work() as session:
                yield session
        finally:
            _writing.depth -= 1


PG_CONCURRENT_TRANSACTIONS = 4
_pg_transactions = threading.BoundedSemaphore(PG_CONCURRENT_TRANSACTIONS)


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """Commit ``session`` when the block ends, roll it back if it raises; close it either way."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _plain_unit_of_work() -> AbstractContextManager[Session]:
    return committing(new_session())


class _Depth(threading.local):
    depth = 0


_writing = _Depth()
_writer: Connection | None = None


def _writer_connection() -> Connection:
    """This process's SQLite write connection (used under ``_sqlite_write_lock`` only)."""
    global _writer
    engine = get_engine()
    if _writer is None or _writer.closed or _writer.invalidated or _writer.engine is not engine:
        _drop_writer()
        _writer = engine.connect()
    return _writer


def _drop_writer() -> None:
    global _writer
    if _writer is not None:
        try:
            _writer.close()
        except Exception:  # a broken connection is dropped all the same
            log.debug("closing the SQLite write connection failed", exc_info=True)
        _writer = None


_retries: dict[str, int] = {}
_retries_lock = threading.Lock()


def count_retry(exc: BaseException) -> None:
    """Count a transaction run again after ``exc`` (by SQLSTATE, or ``locked`` for SQLite)."""
    orig = getattr(exc, "orig", None)
    kind = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "locked"
    with _retries_lock:
        _retries[kind] = _retries.get(kind, 0) + 1


def retry_count(kind: str | None = None) -> int:
    """Transactions of this process run again after a deadlock (``40P01``), a serialization
    failure (``40001``) or a locked SQLite database (``locked``); all of them by default.
    The one lock order (:mod:`tuangou.core.locks`) exists so that this stays zero."""
    with _retries_lock:
        return sum(n for k, n in _retries.items() if kind is None or k == kind)


def retry_counts() -> dict[str, int]:
    """The retries of this process so far, by kind (see :func:`retry_count`)."""
    with _retries_lock:
        return dict(_retries)


def is_retryable(exc: BaseException) -> bool:
    """Deadlocks, serialization failures and a locked SQLite database are safe to retry."""
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if sqlstate in {"40001", "40P01"}:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(orig):
            return True
    return False


def read(fn: Callable[[Session], T]) -> T:
    """Run a read-only ``fn``: on SQLite it takes no write lock and waits for no writer."""
    with unit_of_work(readonly=True) as session:
        return fn(session)


def run_in_transaction(fn: Callable[[Session], T], *, attempts: int = 5) -> T:
    """Run ``fn`` in its own unit of work, retrying it whole after a deadlock."""
    for attempt in range(1, attempts + 1):
        try:
            with unit_of_work() as session:
                return fn(session)
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            count_retry(exc)
            log.info("retrying transaction after %s", type(exc.orig).__name__)
            time.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")
