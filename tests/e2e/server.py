"""Helpers for the real-server tests: run ``tuangou serve``, ``tuangou worker`` and
``tuangou audit`` as subprocesses on a given database, seed data through the services of this
process, and read the database directly.

Ports: the server listens on a free 127.0.0.1 port. ``TUANGOU_E2E_PORTS=LOW-HIGH`` confines
the choice to a range (and ``TUANGOU_E2E_PG_PORTS`` the throwaway PostgreSQL clusters of the
crash test); by default the operating system picks one.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from sqlalchemy import text

REPO = Path(__file__).resolve().parents[2]
PG_THROWAWAY = REPO / "scripts" / "pg-throwaway"


# ---------------------------------------------------------------- ports and processes


def _port_range(variable: str) -> range | None:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    low, _, high = raw.partition("-")
    return range(int(low), int(high or low) + 1)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(variable: str = "TUANGOU_E2E_PORTS") -> int:
    """A port nobody listens on now (PostgreSQL's socket file in /tmp is checked too)."""
    ports = _port_range(variable)
    if ports is None:
        for _ in range(50):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            if not Path(f"/tmp/.s.PGSQL.{port}").exists():
                return port
        raise RuntimeError("no free port")
    candidates = list(ports)
    random.shuffle(candidates)
    for port in candidates:
        if _bindable(port) and not Path(f"/tmp/.s.PGSQL.{port}").exists():
            return port
    raise RuntimeError(f"no free port in {variable}={os.environ[variable]}")


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tuangou.cli", *args]


def cli_env(database_url: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``tuangou`` subprocess: this one's, pointed at ``database_url``."""
    merged = dict(os.environ)
    merged.update(
        {
            "DATABASE_URL": database_url,
            "TUANGOU_RUN_WORKER": "true",
            "TUANGOU_SANDBOX_CALLBACK_DELAY_MS": "0",
            "TUANGOU_WORKER_INTERVAL": "0.1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    merged.pop("TUANGOU_CLOCK_OFFSET_SECONDS", None)
    merged.update(env or {})
    return merged


def run_cli(
    database_url: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run one ``tuangou`` command to completion and return what it printed."""
    return subprocess.run(
        cli_command(*args),
        env=cli_env(database_url, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


class Process:
    """A ``tuangou`` subprocess in its own process group, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115  (closed in wait())
        self.proc = subprocess.Popen(
            args,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self, last: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-last:]
        except OSError:
            return ""

    def signal(self, sig: int) -> None:
        if self.alive():
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def wait(self, timeout: float = 30) -> int:
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is not None:
                self._log.close()
        return code

    def kill(self) -> None:
        """SIGKILL, no goodbye: what a crash or an OOM kill does."""
        self.signal(signal.SIGKILL)
        self.wait(30)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL if it does not leave in time."""
        if not self.alive():
            self.wait(1)
            return
        self.signal(signal.SIGTERM)
        try:
            self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


class Forked:
    """A ``tuangou`` process forked by a ``Launcher``: the interface of ``Process``."""

    def __init__(self, pid: int, log_path: Path) -> None:
        self.pid = pid
        self.log_path = log_path

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def log(self, last: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-last:]
        except OSError:
            return ""

    def signal(self, sig: int) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return 0

    def kill(self) -> None:
        """SIGKILL, no goodbye: what a crash or an OOM kill does."""
        self.signal(signal.SIGKILL)
        self.wait(30)

    def stop(self, timeout: float = 15) -> None:
        self.signal(signal.SIGTERM)
        try:
            self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


class Launcher:
    """``tests/e2e/launcher.py``: one process that imported the server and the worker once
    and forks a new one for each start (for tests that restart them many times)."""

    def __init__(self, database_url: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("launcher.py"))],
            env={**cli_env(database_url, env), "PYTHONPATH": _pythonpath()},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )

    def spawn(self, args: list[str], log_path: Path) -> Forked:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"args": args, "log": str(log_path)}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the launcher exited")
        return Forked(int(line), log_path)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)


def _pythonpath() -> str:
    """This process's module path first, so the launcher imports the same ``tuangou`` and
    ``tests``."""
    return os.pathsep.join(
        [str(REPO / "src"), str(REPO), *filter(None, [os.environ.get("PYTHONPATH", "")])]
    )


class Server:
    """``tuangou serve`` (or ``demo``) on a free 127.0.0.1 port, with the worker running
    in-process."""

    def __init__(
        self,
        database_url: str,
        *,
        command: str = "serve",
        env: dict[str, str] | None = None,
        workers: int = 1,
        port: int | None = None,
        log_dir: Path | None = None,
        launcher: Launcher | None = None,
    ) -> None:
        self.database_url = database_url
        self.launcher = launcher
        self.command = command
        self.env = env or {}
        self.workers = workers
        self.port = port
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="tuangou-e2e-"))
        self.process: Process | Forked | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        assert self.port is not None, "the server has not started"
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Server:
        """Start (or restart, on the same port) and wait until /api/health answers."""
        return self.spawn().ready(timeout)

    def spawn(self) -> Server:
        """Start (or restart, on the same port), without waiting for it to answer."""
        assert self.process is None or not self.process.alive(), "already running"
        self.port = self.port or free_port()
        self.starts += 1
        args = cli_command(self.command, "--host", "127.0.0.1", "--port", str(self.port))
        if self.command == "serve":
            args += ["--workers", str(self.workers)]
        log_path = self.log_dir / f"server-{self.port}-{self.starts}.log"
        if self.launcher is not None:  # forked from the launcher (its environment, not env)
            self.process = self.launcher.spawn(args[3:], log_path)
        else:
            self.process = Process(args, cli_env(self.database_url, self.env), log_path)
        return self

    def ready(self, timeout: float = 60) -> Server:
        """Wait until /api/health answers."""
        assert self.process is not None, "the server has not started"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise RuntimeError(f"the server exited on start:\n{self.process.log()}")
            if self.healthy():
                return self
            time.sleep(0.05)
        self.process.kill()
        raise RuntimeError(f"the server did not answer /api/health:\n{self.process.log()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def kill(self) -> None:
        if self.process:
            self.process.kill()

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def log(self) -> str:
        return self.process.log() if self.process else ""

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_worker(database_url: str, log_path: Path, env: dict[str, str] | None = None) -> Process:
    """A standalone ``tuangou worker`` loop."""
    return Process(cli_command("worker"), cli_env(database_url, env), log_path)


# ---------------------------------------------------------------- throwaway durable PostgreSQL


@contextmanager
def durable_postgres() -> Iterator[str]:
    """A PostgreSQL cluster with durable settings (fsync on), on its own port; removed after."""
    port = free_port("TUANGOU_E2E_PG_PORTS")
    out = subprocess.run(
        [str(PG_THROWAWAY), "start", str(port), "--durable"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    url = out.stdout.strip().splitlines()[-1]
    data_dir = Path(f"/tmp/tuangou-pg-{port}.dir").read_text().strip()
    try:
        yield url
    finally:
        subprocess.run([str(PG_THROWAWAY), "stop", data_dir], capture_output=True, timeout=120)
        Path(f"/tmp/tuangou-pg-{port}.dir").unlink(missing_ok=True)


_sqlite_template: Path | None = None


def migrated_sqlite_template() -> Path:
    """A SQLite file migrated once per test process, copied for each new SQLite database."""
    global _sqlite_template
    if _sqlite_template is None:
        from tuangou.core import migrate
        from tuangou.core.db import make_engine

        path = Path(tempfile.mkdtemp(prefix="tuangou-e2e-")) / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()
        _sqlite_template = path
    return _sqlite_template


@contextmanager
def pointed_at(url: str) -> Iterator[str]:
    """Migrate ``url`` and point this process's services at it (like the ``db_url`` fixture).
    A SQLite file that does not exist yet starts as a copy of one migrated once per process."""
    from tuangou.core import clock, migrate, secret
    from tuangou.core.config import reset_settings
    from tuangou.core.db import make_engine, set_engine

    fresh = url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists()
    if fresh:
        shutil.copy(migrated_sqlite_template(), url.removeprefix("sqlite:///"))
    before = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    reset_settings()
    secret.reset()
    engine = make_engine(url)
    if not fresh:
        migrate.upgrade(engine)
    set_engine(engine)
    secret.secret_key()
    clock.set_offset(timedelta(0))
    try:
        yield url
    finally:
        set_engine(None)
        secret.reset()
        if before is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = before
        reset_settings()


# ---------------------------------------------------------------- seeding and reading


@dataclass(frozen=True)
class Member:
    user_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


_phones = itertools.count(1)


def seed_members(n: int) -> list[Member]:
    """``n`` members with a shipping address, made directly (no password: no slow hashing)."""
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    def make(session: Any) -> list[Member]:
        made = []
        for _ in range(n):
            phone = f"15{next(_phones) % 10**9:09d}"
            user = accounts.create_user(
                session, phone=phone, password=None, nickname=f"团员{phone[-4:]}"
            )
            user.address = {"name": user.nickname, "phone": phone, "line": "幸福里 1 号"}
            session.flush()
            made.append(Member(user.id, accounts.issue_token(user)))
        return made

    return run_in_transaction(make)


def seed_campaign(
    *,
    stock: int,
    tiers: list[tuple[int, int]],
    min_size: int = 2,
    max_size: int | None = None,
    per_member_limit: int = 5,
    price: int = 2990,
) -> int:
    """A live team-buy campaign (supplier, product and SKU included); returns its id."""
    from tuangou.catalog import service as catalog
    from tuangou.core import clock
    from tuangou.core.db import run_in_transaction
    from tuangou.teams import service as teams

    def make(session: Any) -> int:
        now = clock.now()
        supplier = catalog.create_supplier(session, name=f"果园{random.randrange(10**9)}")
        product = catalog.create_product(session, supplier_id=supplier.id, title="红富士苹果")
        sku = catalog.create_sku(
            session, product_id=product.id, name="5斤", price=price, stock=stock
        )
        campaign = teams.create_campaign(
            session,
            teams.CampaignInput(
                sku_id=sku.id,
                title="苹果拼团",
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(days=2),
                tiers=tiers,
                stock=stock,
                min_size=min_size,
                max_size=max_size,
                per_member_limit=per_member_limit,
            ),
        )
        return int(campaign.id)

    return run_in_transaction(make)


def rows(sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Read the database this process points at (a fresh read-only transaction)."""
    from tuangou.core.db import unit_of_work

    with unit_of_work(readonly=True) as session:
        return [tuple(r) for r in session.execute(text(sql), params)]


def scalar(sql: str, **params: Any) -> Any:
    result = rows(sql, **params)
    return result[0][0] if result else None


def execute(sql: str, **params: Any) -> int:
    from tuangou.core.db import unit_of_work

    with unit_of_work() as session:
        return int(session.execute(text(sql), params).rowcount)  # type: ignore[attr-defined]


def pending_work() -> int:
    """Callbacks the sandbox still owes and outbox events not yet delivered."""
    callbacks = scalar("SELECT COALESCE(SUM(callbacks_due), 0) FROM sandbox_charges")
    events = scalar("SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL")
    return int(callbacks or 0) + int(events or 0)


def wait_until(predicate: Any, *, timeout: float, interval: float = 0.1, what: str = "") -> None:
    """Poll ``predicate`` until it is true; fail the test with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(interval)


# ---------------------------------------------------------------- HTTP calls


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    replayed: bool

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    async with http.request(method, url, json=body, headers=headers) as r:
        payload = await r.json(content_type=None)
        return Reply(r.status, payload, r.headers.get("Idempotent-Replayed") == "true")


T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a load client's coroutine to its end, in a thread of its own: a browser test earlier
    in the same process leaves Playwright's event loop running in this thread, where
    ``asyncio.run`` refuses to start another."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
