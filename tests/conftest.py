"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``TUANGOU_TEST_POSTGRES_URL`` (``scripts/test`` starts a throwaway
cluster and sets it). Without it the PostgreSQL half is skipped with a visible reason, unless
``TUANGOU_REQUIRE_POSTGRES=1`` (as in CI), where a missing server is an error.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from tuangou import wiring
from tuangou.core import clock, secret
from tuangou.core.config import reset_settings
from tuangou.core.db import Base, make_engine, normalise_url, retry_count, set_engine

# Property tests assert no time: a shared, busy machine must not fail an example for being slow.
hypothesis_settings.register_profile("tuangou", deadline=None)
hypothesis_settings.load_profile("tuangou")

wiring.compose()

os.environ.setdefault("TUANGOU_SANDBOX_CALLBACK_DELAY_MS", "0")
os.environ.setdefault("TUANGOU_RUN_WORKER", "false")
# The worker trains no recommendation model unless a test asks (tests/recommend/).
os.environ.setdefault("TUANGOU_RECOMMEND_TRAIN_HOURS", "0")
# Every write path that declares its row locks is checked against the one lock order
# (tuangou.core.locks); the servers the tests start inherit it.
os.environ.setdefault("TUANGOU_CHECK_LOCK_ORDER", "true")
# The tests sign up and log in many people from one address; the tests of the limits lower
# these again (tests/accounts/test_limits.py).
for name in ("WRONG_PASSWORDS_PER_IP", "CODES_PER_IP", "SIGNUPS_PER_IP"):
    os.environ.setdefault(f"TUANGOU_{name}", "1000000")
# Passwords are hashed at the lowest scrypt cost (production: 2**14, some 40 ms a hash, paid
# by every sign-up and log-in); tests/accounts/test_password_hash.py checks the real one.
os.environ.setdefault("TUANGOU_PASSWORD_HASH_N", "2")
# The verifiable record's signing key: one per test process, outside the source tree (the
# servers a test starts inherit it, so they sign with the same key).
os.environ.setdefault(
    "TUANGOU_JOURNAL_KEY_FILE",
    os.path.join(tempfile.gettempdir(), f"tuangou-test-journal-{os.getpid()}.pem"),
)
PG_URL = os.environ.get("TUANGOU_TEST_POSTGRES_URL", "")
REQUIRE_PG = os.environ.get("TUANGOU_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    """A SQLite file migrated once per test process; each test gets a copy (the same file
    the real-server tests copy for their databases: tests/e2e/server.py)."""
    from tests.e2e.server import migrated_sqlite_template

    return migrated_sqlite_template()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this test process, migrated once."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("TUANGOU_TEST_POSTGRES_URL is not set but PostgreSQL is required")
        pytest.skip("PostgreSQL not configured (TUANGOU_TEST_POSTGRES_URL); run scripts/test")
    from tuangou.core import migrate

    name = f"tuangou_test_{_worker_id()}"
    admin = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url


@functools.cache
def _emptied_pg_sql() -> str:
    """One statement that empties every table of the schema and restarts the sequences that
    were used: a ``DELETE`` per table, children first (on the handful of rows a test leaves,
    much cheaper than ``TRUNCATE``, which replaces the files of all the tables and their
    indexes), then ``ALTER SEQUENCE ... RESTART`` where a value was drawn (ids start at 1 again,
    as with ``TRUNCATE ... RESTART IDENTITY``)."""
    names = ", ".join(f"'{t.name}'" for t in reversed(Base.metadata.sorted_tables))
    return f"""
DO $$
DECLARE t text; s regclass;
BEGIN
  FOREACH t IN ARRAY ARRAY[{names}]::text[] LOOP
    EXECUTE format('DELETE FROM %I', t);
  END LOOP;
  FOR s IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind = 'S' AND n.nspname = current_schema() LOOP
    IF pg_sequence_last_value(s) IS NOT NULL THEN
      EXECUTE format('ALTER SEQUENCE %s RESTART', s);
    END IF;
  END LOOP;
END $$"""


@functools.cache
def _pg_admin(url: str) -> Engine:
    """The engine this process empties and watches a test database with: no pool (no
    connection stays open between tests), made once (SQLAlchemy asks the server about itself
    on an engine's first connection only)."""
    return create_engine(normalise_url(url), poolclass=NullPool)


def _empty_pg(url: str) -> None:
    with _pg_admin(url).begin() as conn:
        conn.execute(text(_emptied_pg_sql()))


# The deadlocks PostgreSQL had counted on each test database at the end of the last test that
# used it: the next test starts from that count (nothing else of this process touches that
# database in between) instead of asking the server again.
_deadlocks_after: dict[str, int | None] = {}


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database on each backend; the process is pointed at it."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copy(template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
        _empty_pg(url)
    retries = retry_count()
    deadlocks = _deadlocks_after.pop(url) if url in _deadlocks_after else _deadlocks(url)
    os.environ["DATABASE_URL"] = url
    reset_settings()
    secret.reset()
    engine = make_engine(url)
    set_engine(engine)
    secret.secret_key()
    clock.set_offset(timedelta(0))
    yield url
    clock.set_offset(timedelta(0))
    set_engine(None)
    secret.reset()
    # The one lock order (tuangou.core.locks) is there so that nothing waits in a cycle: no
    # transaction of this process was retried, and on PostgreSQL the server saw no deadlock
    # from any process (the servers and workers a test started included).
    marker = request.node.get_closest_marker("retries")
    provoked = marker.args[0] if marker else 0
    after = _deadlocks(url)
    _deadlocks_after[url] = after
    assert retry_count() - retries == provoked, (
        "a transaction was retried (a deadlock or a lock timeout)"
    )
    assert after == deadlocks, "PostgreSQL detected a deadlock during this test"


def _deadlocks(url: str) -> int | None:
    """Deadlocks PostgreSQL counted on this database so far (None on SQLite), once every
    other connection to it has gone: a session's statistics reach the server when it ends."""
    if not url.startswith("postgresql"):
        return None
    with _pg_admin(url).connect() as conn:
        for _ in range(500):  # up to 10 s
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            others = conn.scalar(
                text(
                    "SELECT COUNT(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            if not others:
                break
            time.sleep(0.02)
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(
            conn.scalar(
                text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            )
            or 0
        )


def rows(sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """What the database holds now, read directly (a witness independent of the API)."""
    from tuangou.core.db import unit_of_work

    with unit_of_work(readonly=True) as session:
        return [tuple(r) for r in session.execute(text(sql), params)]


def scalar(sql: str, **params: Any) -> Any:
    """The first column of the first row, or None."""
    found = rows(sql, **params)
    return found[0][0] if found else None


@pytest.fixture
def db(db_url: str) -> str:
    return db_url


@pytest.fixture
def photo_dir(tmp_path: Path) -> Iterator[Path]:
    """Uploaded photos go to the test's own directory."""
    from tuangou.core.storage import LocalDiskStorage, set_storage

    root = tmp_path / "uploads"
    set_storage(LocalDiskStorage(root))
    yield root
    set_storage(None)


_apps: dict[str, Any] = {}


def _app() -> Any:
    """The API and pages, built once per test process for each set of settings but the
    database's (building them takes a second or more, nearly all of it FastAPI setting up the
    routes; the app keeps no state of its own from one test to the next)."""
    from tuangou.api.app import create_app
    from tuangou.core.config import get_settings

    key = get_settings().model_dump_json(exclude={"database_url"})
    if key not in _apps:
        if len(_apps) >= 4:
            _apps.clear()
        _apps[key] = create_app(run_worker=False)
    return _apps[key]


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(_app()) as c:
        yield c


class Api:
    """Small helpers over the HTTP API, for readable tests."""

    def __init__(self, client: TestClient) -> None:
        self.c = client
        self._phones = 0

    def phone(self) -> str:
        self._phones += 1
        return f"137{self._phones:08d}"

    def signup(self, nickname: str = "团员", *, address: bool = True) -> dict[str, str]:
        phone = self.phone()
        body: dict[str, Any] = {"phone": phone, "password": "secret123", "nickname": nickname}
        if address:
            body["address"] = {"name": nickname, "phone": phone, "line": "幸福里 1 号"}
        r = self.c.post("/api/auth/signup", json=body)
        assert r.status_code == 201, r.text
        return {
            "Authorization": f"Bearer {r.json()['token']}",
            "user_id": str(r.json()["user"]["id"]),
        }

    def operator(self) -> dict[str, str]:
        from tuangou.accounts import service as accounts
        from tuangou.core.db import run_in_transaction

        phone = self.phone()
        run_in_transaction(
            lambda s: accounts.create_user(
                s, phone=phone, password="secret123", nickname="运营", role="operator"
            )
        )
        r = self.c.post("/api/auth/login", json={"phone": phone, "password": "secret123"})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def supplier(self, op: dict[str, str], name: str = "果园") -> tuple[int, dict[str, str]]:
        r = self.c.post("/api/admin/suppliers", json={"name": name}, headers=op)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        phone = self.phone()
        r = self.c.post(
            f"/api/admin/suppliers/{sid}/users",
            json={"phone": phone, "password": "secret123"},
            headers=op,
        )
        assert r.status_code == 201, r.text
        r = self.c.post("/api/auth/login", json={"phone": phone, "password": "secret123"})
        return sid, {"Authorization": f"Bearer {r.json()['token']}"}

    def campaign(
        self,
        op: dict[str, str],
        supplier_id: int,
        *,
        price: int = 3000,
        stock: int = 100,
        **settings: Any,
    ) -> dict[str, Any]:
        r = self.c.post(
            "/api/admin/products", json={"supplier_id": supplier_id, "title": "苹果"}, headers=op
        )
        assert r.status_code == 201, r.text
        r = self.c.post(
            f"/api/admin/products/{r.json()['id']}/skus",
            json={"name": "5斤", "price": price, "stock": max(stock, 1000)},
            headers=op,
        )
        assert r.status_code == 201, r.text
        body: dict[str, Any] = {
            "sku_id": r.json()["id"],
            "ends_at": (clock.now() + timedelta(days=2)).isoformat(),
            "tiers": [[2, 1990]],
            "stock": stock,
        }
        body.update(settings)
        r = self.c.post("/api/admin/campaigns", json=body, headers=op)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def pay(self, pay_url: str, outcome: str = "approve") -> dict[str, Any]:
        """Pay on the sandbox page, then let the gateway's callback arrive."""
        from urllib.parse import parse_qs, urlparse

        q = {k: v[0] for k, v in parse_qs(urlparse(pay_url).query).items()}
        r = self.c.post(
            "/api/sandbox/pay",
            json={"ref": q["ref"], "amount": int(q["amount"]), "sig": q["sig"], "outcome": outcome},
        )
        assert r.status_code == 200, r.text
        run_worker()
        return dict(r.json())

    def open(
        self,
        member: dict[str, str],
        campaign_id: int,
        quantity: int = 1,
        pay: bool = True,
        **kw: Any,
    ) -> dict[str, Any]:
        r = self.c.post(
            f"/api/campaigns/{campaign_id}/teams",
            json={"quantity": quantity},
            headers=_auth(member),
            **kw,
        )
        assert r.status_code == 201, r.text
        body = dict(r.json())
        if pay:
            self.pay(body["pay_url"])
        return body

    def join(
        self, member: dict[str, str], team_id: int, quantity: int = 1, pay: bool = True
    ) -> dict[str, Any]:
        r = self.c.post(
            f"/api/teams/{team_id}/join", json={"quantity": quantity}, headers=_auth(member)
        )
        assert r.status_code == 201, r.text
        body = dict(r.json())
        if pay:
            self.pay(body["pay_url"])
        return body

    def order(self, member: dict[str, str], order_id: int) -> dict[str, Any]:
        r = self.c.get(f"/api/orders/{order_id}", headers=_auth(member))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def team(self, team_id: int) -> dict[str, Any]:
        r = self.c.get(f"/api/teams/{team_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def _auth(who: dict[str, str]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


def run_worker() -> dict[str, int]:
    from tuangou import worker

    return worker.run_until_idle()


def audit_violations() -> list[str]:
    from tuangou import audit
    from tuangou.core.db import unit_of_work

    with unit_of_work(readonly=True) as session:
        return [v for check in audit.run(session) for v in check.violations]


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)
