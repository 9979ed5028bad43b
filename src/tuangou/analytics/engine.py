"""The dashboards' figures computed by DuckDB, the analytical engine.

Each computation opens an in-memory DuckDB, LOADs the transactional database's scanner
extension (``sqlite_scanner`` or ``postgres_scanner``) from its installed wheel
(``duckdb-extension-*-scanner``, version-locked to DuckDB's: nothing is ever INSTALLed or
downloaded, and DuckDB's own auto-install and auto-load are turned off), ATTACHes the database
READ_ONLY and computes every figure in DuckDB SQL over the attached tables: DuckDB reads the
columns it needs straight from the database file or server, with no row through Python.

All the reads run in one DuckDB transaction. On PostgreSQL the scanner reads in one
REPEATABLE READ, read-only transaction (one snapshot for every figure, checked:
a row committed meanwhile is not seen until the transaction ends), which takes no lock a
writer waits for; its connections close with the in-memory DuckDB. On SQLite the file is opened
read-only and the database runs in WAL mode, where readers never block writers.

Stored times are naive UTC (SQLite keeps them as ISO text, which the scanner reads as
TIMESTAMP from the columns' declared type); DuckDB turns them into the deployment's local
days and months with its built-in time-zone support (ICU), per row, so zones with daylight
saving are right too.

When a scanner cannot be loaded (its package missing), the engine warns once in the log and
falls back to reading the needed columns through the session in chunks of :data:`CHUNK` rows,
handed to DuckDB as NumPy columns (:class:`Loader`); the figures are the same.

The figures equal the plain-SQL reference (:mod:`tuangou.analytics.dashboards`) exactly: the
tests compare both on each backend (and both reading paths), and ``bench/dashboard.py`` times
both on a million orders.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sqlalchemy import URL, Select, String, Table, false, func, select, true, type_coerce
from sqlalchemy.orm import Session

from tuangou.analytics import rules
from tuangou.analytics.dashboards import ENDED_TEAMS, SETTLED_LINES, bounds, in_scope
from tuangou.analytics.figures import (
    Cohort,
    Day,
    Figures,
    LeaderRow,
    Month,
    sort_leaders,
    sort_reasons,
)
from tuangou.analytics.rules import Scope
from tuangou.analytics.service import Outcomes, ReasonTotal
from tuangou.core.config import get_settings
from tuangou.core.db import Base
from tuangou.pools import service as pools
from tuangou.teams import service as teams

CHUNK = 50_000  # rows per chunk read from the transactional database
_STORED = {"ID": "BIGINT"}


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _column(values: Sequence[Any], kind: str) -> np.ndarray[Any, Any]:
    if kind == "BIGINT":
        return np.array(values, dtype=np.int64)
    if kind == "ID":  # an id or NULL: NULL travels as 0 (no row has id 0)
        return np.array([0 if v is None else v for v in values], dtype=np.int64)
    if kind == "BOOLEAN":
        return np.array(values, dtype=np.bool_)
    if kind == "TIMESTAMP" and values and not isinstance(values[0], str):
        return np.array(values, dtype="datetime64[us]")
    return np.array(values, dtype=object)  # text, and SQLite's stored times as text


log = logging.getLogger(__name__)

# The scanner of each backend: (the package of its wheel, the extension's name, ATTACH's TYPE).
SCANNERS = {
    "sqlite": ("duckdb_extension_sqlite_scanner", "sqlite_scanner", "sqlite"),
    "postgresql": ("duckdb_extension_postgres_scanner", "postgres_scanner", "postgres"),
}
_warned: set[str] = set()  # backends whose missing scanner was already logged


def _quote(text: str) -> str:
    """``text`` as a DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def extension_file(backend: str) -> Path | None:
    """The scanner extension for ``backend`` shipped in its installed wheel, built for this
    DuckDB's version; None when the package (or that version's file) is not installed."""
    if backend not in SCANNERS:
        return None
    package, name, _ = SCANNERS[backend]
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    if module.__file__ is None:
        return None
    found = sorted(
        Path(module.__file__).parent.glob(
            f"extensions/v{duckdb.__version__}/{name}.duckdb_extension"
        )
    )
    return found[0] if found else None


def _target(url: URL) -> str | None:
    """What ATTACH opens for ``url``: the SQLite file, or a libpq connection string; None
    for a database the scanner cannot reach (an in-memory SQLite)."""
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if path in ("", ":memory:") or path.startswith("file:"):
            return None
        return str(Path(path).resolve())
    parts = {
        "dbname": url.database,
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password,
    }
    for key, value in url.query.items():  # sslmode, a socket directory as host, ...
        parts[key] = value if isinstance(value, str) else value[-1]
    return " ".join(
        f"{key}={_libpq(str(value))}"
        for key, value in parts.items()
        if value is not None and value != ""
    )


def _libpq(value: str) -> str:
    """``value`` quoted for a libpq connection string (backslash and quote escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Duck:
    """An in-memory DuckDB in UTC, with the deployment's zone for local days."""

    def __init__(self) -> None:
        self.duck = duckdb.connect(
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        )
        self.duck.execute("SET TimeZone = 'UTC'")
        self.zone = get_settings().timezone.replace("'", "''")

    def local(self, column: str) -> str:
        """DuckDB's expression of the local date of a stored (naive UTC) time."""
        return (
            f"CAST(timezone('{self.zone}', CAST(CAST({column} AS TIMESTAMP) AS TIMESTAMPTZ)) "
            "AS DATE)"
        )

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.duck.execute(sql, list(params)).fetchall()


def scanner(session: Session) -> Duck | None:
    """A DuckDB with the session's database ATTACHed READ_ONLY as ``db`` through its scanner
    extension, LOADed from the installed wheel; None (after one warning in the log per
    backend) when the extension is not installed or the database cannot be attached."""
    url = session.get_bind().engine.url
    backend = url.get_backend_name()
    path, target = extension_file(backend), _target(url)
    if path is None or target is None:
        if backend not in _warned:
            _warned.add(backend)
            log.warning(
                "DuckDB's %s scanner is not installed (or cannot open this database): the "
                "dashboards read the rows through the session instead, more slowly",
                backend,
            )
        return None
    db = Duck()
    try:
        db.duck.execute(f"LOAD {_quote(str(path))}")
        db.duck.execute(f"ATTACH {_quote(target)} AS db (TYPE {SCANNERS[backend][2]}, READ_ONLY)")
    except Exception:
        db.duck.close()
        raise
    return db


class Loader(Duck):
    """An in-memory DuckDB filled from queries on the transactional database (the way
    without a scanner)."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    def ts(self, column: Any) -> Any:
        """A stored time as the query should read it: SQLite keeps times as text, which
        DuckDB parses faster than Python would; PostgreSQL's driver hands over datetimes."""
        return type_coerce(column, String) if self.sqlite else column

    def load(
        self,
        name: str,
        query: Select[Any],
        columns: list[tuple[str, str]],
        derived: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """Create table ``name`` with ``columns`` (name, DuckDB type), one per column of
        ``query``, plus ``derived`` ones (name, type, expression over the row), and fill it
        from ``query`` chunk by chunk."""
        defs = [f"{n} {_STORED.get(t, t)}" for n, t in columns]
        defs += [f"{n} {t}" for n, t, _ in derived]
        self.duck.execute(f"CREATE TABLE {name} ({', '.join(defs)})")
        picks = [f"NULLIF({n}, 0)" if t == "ID" else f"CAST({n} AS {t})" for n, t in columns] + [
            e for _, _, e in derived
        ]
        insert = f"INSERT INTO {name} SELECT {', '.join(picks)} FROM chunk"
        for rows in self._chunks(query):
            values = list(zip(*rows, strict=True))
            self.duck.register(
                "chunk",
                {n: _column(v, t) for (n, t), v in zip(columns, values, strict=True)},
            )
            self.duck.execute(insert)
            self.duck.unregister("chunk")

    def _chunks(self, query: Select[Any]) -> Iterator[Sequence[Any]]:
        """The rows of ``query``, :data:`CHUNK` at a time. On SQLite, straight from the
        driver's cursor (plain tuples, no result object per row: the columns need no
        conversion, times stay text); elsewhere through SQLAlchemy's streamed result."""
        if self.sqlite:
            cursor = self.session.connection().execute(query).cursor
            try:
                while rows := cursor.fetchmany(CHUNK):
                    yield rows
            finally:
                cursor.close()
            return
        result = self.session.execute(query, execution_options={"yield_per": CHUNK})
        yield from result.partitions()


def compute(session: Session, scope: Scope) -> Figures:
    """Every figure of a dashboard over ``scope``, by DuckDB over the rows it needs."""
    since, until, months_since, months_until = bounds(scope)
    scanned = scanner(session)
    if scanned is not None:
        try:
            # One DuckDB transaction: one snapshot of the database for every figure.
            scanned.duck.execute("BEGIN TRANSACTION")
            _scan(scanned, scope, since, until, months_since, months_until)
            scanned.duck.execute("COMMIT")
            return _figures(scanned, scope)
        finally:
            scanned.duck.close()
    db = Loader(session)
    try:
        _load(db, scope, since, until, months_since, months_until)
        return _figures(db, scope)
    finally:
        db.duck.close()


def _at(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"


def _scan(
    db: Duck,
    scope: Scope,
    since: datetime,
    until: datetime,
    months_since: datetime,
    months_until: datetime,
) -> None:
    """The tables :func:`_figures` reads, computed by DuckDB over the attached database."""
    s, u, ms, mu = (_at(t) for t in (since, until, months_since, months_until))
    narrow = ""
    if scope.community_id is not None:
        narrow += f" AND l.community_id = {int(scope.community_id)}"
    if scope.leader_id is not None:
        narrow += f" AND l.leader_id = {int(scope.leader_id)}"

    def listing(order_id: str, always: bool = True) -> str:
        """The order's wave listing (NULL for a team order); only when narrowed unless
        ``always``."""
        if not (always or scope.narrowed):
            return ""
        return (
            f" LEFT JOIN db.wave_orders i ON i.order_id = {order_id}"
            " LEFT JOIN db.wave_listings l ON l.id = i.listing_id"
        )

    settled, failed = _quote(teams.TeamStatus.SETTLED.value), _quote(teams.TeamStatus.FAILED.value)
    confirmed = _quote(pools.LineStatus.CONFIRMED.value)
    line_states = ", ".join(_quote(x.value) for x in SETTLED_LINES)
    run = db.duck.execute
    run(
        "CREATE TABLE orders_ AS SELECT o.user_id, CAST(o.paid_at AS TIMESTAMP) AS paid_at, "
        "o.paid_amount, o.refunded_amount, l.leader_id, "
        f"{db.local('o.paid_at')} AS day FROM db.orders o{listing('o.id')} "
        f"WHERE o.paid_at >= {ms} AND o.paid_at < {mu}{narrow}"
    )
    # Each member's first paid order in scope, when it falls in the months shown: the one
    # figure that needs the whole history.
    run(
        "CREATE TABLE first_ AS SELECT user_id, first_at, "
        f"CAST(date_trunc('month', {db.local('first_at')}) AS DATE) AS month FROM ("
        "SELECT o.user_id, min(CAST(o.paid_at AS TIMESTAMP)) AS first_at "
        f"FROM db.orders o{listing('o.id', always=False)} "
        f"WHERE o.paid_at IS NOT NULL AND o.paid_at < {mu}{narrow} GROUP BY o.user_id) "
        f"WHERE first_at >= {ms}"
    )
    run(f"CREATE TABLE range_ AS SELECT * FROM orders_ WHERE paid_at >= {s} AND paid_at < {u}")
    run(
        "CREATE TABLE refunds_ AS SELECT CAST(r.created_at AS TIMESTAMP) AS created_at, "
        "r.amount, r.reason, o.paid_at IS NOT NULL AS paid, "
        f"{db.local('r.created_at')} AS day FROM db.refunds r "
        f"JOIN db.orders o ON o.id = r.order_id{listing('r.order_id', always=False)} "
        f"WHERE r.created_at >= {s} AND r.created_at < {u}{narrow}"
    )
    run(
        "CREATE TABLE teams_ AS SELECT CAST(settled_at AS TIMESTAMP) AS settled_at, "
        f"status = {settled} AS ok, {db.local('settled_at')} AS day FROM db.teams "
        f"WHERE settled_at >= {s} AND settled_at < {u} AND status IN ({settled}, {failed}) "
        f"AND {'false' if scope.narrowed else 'true'}"
    )
    run(
        "CREATE TABLE lines_ AS SELECT x.order_id, CAST(w.settled_at AS TIMESTAMP) AS settled_at, "
        f"x.status = {confirmed} AS ok, l.leader_id, {db.local('w.settled_at')} AS day "
        "FROM db.wave_order_lines x JOIN db.wave_orders i ON i.order_id = x.order_id "
        "JOIN db.waves w ON w.id = i.wave_id JOIN db.wave_listings l ON l.id = i.listing_id "
        f"WHERE w.status = {_quote(pools.WaveStatus.SETTLED.value)} "
        f"AND w.settled_at >= {s} AND w.settled_at < {u} AND x.status IN ({line_states}){narrow}"
    )
    run(
        "CREATE TABLE commissions_ AS SELECT c.leader_id, c.amount - c.reversed_amount AS amount "
        f"FROM db.commissions c{listing('c.order_id', always=False)} "
        f"WHERE c.created_at >= {s} AND c.created_at < {u}{narrow}"
    )
    run(
        "CREATE TABLE cases_ AS SELECT a.kind, a.amount_refunded AS refunded, l.leader_id "
        f"FROM db.aftersale_cases a{listing('a.order_id')} "
        f"WHERE a.created_at >= {s} AND a.created_at < {u}{narrow}"
    )
    run(
        "CREATE TABLE invited_ AS SELECT user_id FROM db.referral_members "
        "WHERE inviter_id IS NOT NULL"
    )


def _load(
    db: Loader, scope: Scope, since: Any, until: Any, months_since: Any, months_until: Any
) -> None:
    o, r, a, c = (_table(n) for n in ("orders", "refunds", "aftersale_cases", "commissions"))
    info, listing = _table("wave_orders"), _table("wave_listings")

    def with_leader(query: Select[Any], order_id: Any) -> Select[Any]:
        """The order's listing leader (NULL for a team order), narrowed to the scope."""
        if scope.narrowed:
            return in_scope(query, order_id, scope)
        return query.outerjoin_from(order_id.table, info, info.c.order_id == order_id).outerjoin(
            listing, listing.c.id == info.c.listing_id
        )

    db.load(
        "orders_",
        with_leader(
            select(
                o.c.user_id,
                db.ts(o.c.paid_at),
                o.c.paid_amount,
                o.c.refunded_amount,
                listing.c.leader_id,
            )
            .select_from(o)
            .where(o.c.paid_at >= months_since, o.c.paid_at < months_until),
            o.c.id,
        ),
        [
            ("user_id", "BIGINT"),
            ("paid_at", "TIMESTAMP"),
            ("paid_amount", "BIGINT"),
            ("refunded_amount", "BIGINT"),
            ("leader_id", "ID"),
        ],
        [("day", "DATE", db.local("paid_at"))],
    )
    # Each member's first paid order in scope, when it falls in the months shown: the one
    # figure that needs the whole history, asked of the database as a grouped minimum (one
    # row per member) rather than streaming every order ever paid.
    first_at = func.min(o.c.paid_at)
    db.load(
        "first_",
        in_scope(
            select(o.c.user_id, db.ts(first_at))
            .select_from(o)
            .where(o.c.paid_at.is_not(None), o.c.paid_at < months_until)
            .group_by(o.c.user_id)
            .having(first_at >= months_since),
            o.c.id,
            scope,
        ),
        [("user_id", "BIGINT"), ("first_at", "TIMESTAMP")],
        [("month", "DATE", f"CAST(date_trunc('month', {db.local('first_at')}) AS DATE)")],
    )
    db.duck.execute(
        "CREATE TABLE range_ AS SELECT * FROM orders_ WHERE paid_at >= ? AND paid_at < ?",
        [since, until],
    )
    db.load(
        "refunds_",
        in_scope(
            select(db.ts(r.c.created_at), r.c.amount, r.c.reason, o.c.paid_at.is_not(None))
            .select_from(r)
            .join(o, o.c.id == r.c.order_id)
            .where(r.c.created_at >= since, r.c.created_at < until),
            r.c.order_id,
            scope,
        ),
        [
            ("created_at", "TIMESTAMP"),
            ("amount", "BIGINT"),
            ("reason", "VARCHAR"),
            ("paid", "BOOLEAN"),
        ],
        [("day", "DATE", db.local("created_at"))],
    )
    t = _table("teams")
    db.load(
        "teams_",
        select(db.ts(t.c.settled_at), t.c.status == teams.TeamStatus.SETTLED).where(
            t.c.settled_at >= since,
            t.c.settled_at < until,
            t.c.status.in_(ENDED_TEAMS),
            false() if scope.narrowed else true(),
        ),
        [("settled_at", "TIMESTAMP"), ("ok", "BOOLEAN")],
        [("day", "DATE", db.local("settled_at"))],
    )
    w, line = _table("waves"), _table("wave_order_lines")
    lines = (
        select(
            line.c.order_id,
            db.ts(w.c.settled_at),
            line.c.status == pools.LineStatus.CONFIRMED,
            listing.c.leader_id,
        )
        .select_from(line)
        .join(info, info.c.order_id == line.c.order_id)
        .join(w, w.c.id == info.c.wave_id)
        .join(listing, listing.c.id == info.c.listing_id)
        .where(
            w.c.status == pools.WaveStatus.SETTLED,
            w.c.settled_at >= since,
            w.c.settled_at < until,
            line.c.status.in_(SETTLED_LINES),
        )
    )
    if scope.community_id is not None:
        lines = lines.where(listing.c.community_id == scope.community_id)
    if scope.leader_id is not None:
        lines = lines.where(listing.c.leader_id == scope.leader_id)
    db.load(
        "lines_",
        lines,
        [
            ("order_id", "BIGINT"),
            ("settled_at", "TIMESTAMP"),
            ("ok", "BOOLEAN"),
            ("leader_id", "BIGINT"),
        ],
        [("day", "DATE", db.local("settled_at"))],
    )
    db.load(
        "commissions_",
        in_scope(
            select(c.c.leader_id, c.c.amount - c.c.reversed_amount)
            .select_from(c)
            .where(c.c.created_at >= since, c.c.created_at < until),
            c.c.order_id,
            scope,
        ),
        [("leader_id", "BIGINT"), ("amount", "BIGINT")],
    )
    db.load(
        "cases_",
        with_leader(
            select(a.c.kind, a.c.amount_refunded, listing.c.leader_id)
            .select_from(a)
            .where(a.c.created_at >= since, a.c.created_at < until),
            a.c.order_id,
        ),
        [("kind", "VARCHAR"), ("refunded", "BIGINT"), ("leader_id", "ID")],
    )
    rm = _table("referral_members").c
    db.load(
        "invited_",
        select(rm.user_id).where(rm.inviter_id.is_not(None)),
        [("user_id", "BIGINT")],
    )


def _figures(db: Duck, scope: Scope) -> Figures:
    span = scope.days
    per_day = {
        d: (int(n), int(p))
        for d, n, p in db.rows("SELECT day, count(*), sum(paid_amount) FROM range_ GROUP BY day")
    }
    refunded = dict(db.rows("SELECT day, sum(amount) FROM refunds_ WHERE paid GROUP BY day"))
    days = [
        Day(d, per_day.get(d, (0, 0))[0], per_day.get(d, (0, 0))[1], int(refunded.get(d, 0)))
        for d in span
    ]
    orders, paid, buyers, repeat = db.rows(
        "SELECT coalesce(sum(n), 0), coalesce(sum(p), 0), count(*), count(*) FILTER (n >= 2) "
        "FROM (SELECT user_id, count(*) AS n, sum(paid_amount) AS p FROM range_ GROUP BY user_id)"
    )[0]

    def outcomes(rows: list[tuple[Any, ...]]) -> list[Outcomes]:
        found = {d: (int(s), int(f)) for d, s, f in rows}
        return [Outcomes(d, *found.get(d, (0, 0))) for d in span]

    team_rows = db.rows(
        "SELECT day, count(*) FILTER (ok), count(*) FILTER (NOT ok) FROM teams_ GROUP BY day"
    )
    db.duck.execute(
        "CREATE TABLE wave_orders_ AS SELECT order_id, min(day) AS day, bool_or(ok) AS ok, "
        "min(leader_id) AS leader_id FROM lines_ GROUP BY order_id"
    )
    waves = outcomes(
        db.rows(
            "SELECT day, count(*) FILTER (ok), count(*) FILTER (NOT ok) FROM wave_orders_ "
            "GROUP BY day"
        )
    )
    months, cohorts = _months(db, scope)
    return Figures(
        scope=scope,
        days=days,
        teams=None if scope.narrowed else outcomes(team_rows),
        waves=waves,
        months=months,
        cohorts=cohorts,
        buyers=int(buyers),
        repeat_buyers=int(repeat),
        orders=int(orders),
        paid=int(paid),
        leaders=_leaders(db),
        refunds=sort_reasons(
            [
                ReasonTotal(str(k), int(n), int(x))
                for k, n, x in db.rows(
                    "SELECT reason, count(*), sum(amount) FROM refunds_ GROUP BY reason"
                )
            ]
        ),
        aftersales=sort_reasons(
            [
                ReasonTotal(str(k), int(n), int(x))
                for k, n, x in db.rows(
                    "SELECT kind, count(*), sum(refunded) FROM cases_ GROUP BY kind"
                )
            ]
        ),
        engine="duckdb",
    )


def _months(db: Duck, scope: Scope) -> tuple[list[Month], list[Cohort]]:
    firsts = scope.months
    keys = [rules.month_key(m) for m in firsts]
    db.duck.execute(
        "CREATE TABLE active_ AS SELECT DISTINCT user_id, "
        "CAST(date_trunc('month', day) AS DATE) AS month "
        "FROM orders_"
    )
    converted = dict(
        db.rows(
            "SELECT f.month, count(*) FROM first_ f JOIN invited_ i USING (user_id) "
            "GROUP BY f.month"
        )
    )
    active = dict(db.rows("SELECT month, count(*) FROM active_ GROUP BY month"))
    grid: dict[tuple[date, date], int] = {
        (c, m): int(n)
        for c, m, n in db.rows(
            "SELECT f.month, a.month, count(*) FROM first_ f JOIN active_ a USING (user_id) "
            "WHERE f.month >= ? GROUP BY f.month, a.month",
            firsts[0],
        )
    }
    months = [
        Month(k, int(converted.get(m, 0)), int(active.get(m, 0)))
        for k, m in zip(keys, firsts, strict=True)
    ]
    cohorts = [
        Cohort(keys[i], grid.get((m, m), 0), tuple(grid.get((m, later), 0) for later in firsts[i:]))
        for i, m in enumerate(firsts)
    ]
    return months, cohorts


def _leaders(db: Duck) -> list[LeaderRow]:
    commission = dict(db.rows("SELECT leader_id, sum(amount) FROM commissions_ GROUP BY leader_id"))
    cases = dict(
        db.rows(
            "SELECT leader_id, count(*) FROM cases_ WHERE leader_id IS NOT NULL GROUP BY leader_id"
        )
    )
    outcomes = {
        int(k): (int(s), int(f))
        for k, s, f in db.rows(
            "SELECT leader_id, count(*) FILTER (ok), count(*) FILTER (NOT ok) FROM wave_orders_ "
            "GROUP BY leader_id"
        )
    }
    rows = db.rows(
        "SELECT leader_id, sum(paid_amount - refunded_amount), count(*) FROM range_ "
        "WHERE leader_id IS NOT NULL GROUP BY leader_id"
    )
    return sort_leaders(
        [
            LeaderRow(
                leader_id=int(k),
                gmv=int(g),
                orders=int(n),
                commission=int(commission.get(k, 0)),
                confirmed=outcomes.get(int(k), (0, 0))[0],
                refunded=outcomes.get(int(k), (0, 0))[1],
                aftersales=int(cases.get(k, 0)),
            )
            for k, g, n in rows
        ]
    )
