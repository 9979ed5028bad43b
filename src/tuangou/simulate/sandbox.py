"""The sandbox: a database of the simulation's own, never the live one.

* **SQLite**: the live file is copied with SQLite's online backup API (a consistent copy
  while the server keeps writing; readers and writers of the live file are not stopped).
* **PostgreSQL**: a fresh SQLite file, migrated to the head. Creating a database on the
  live server needs a role allowed to ``CREATE DATABASE``, which a deployment's role
  should not have, and would put the simulation's load on the live server; the history
  that calibrates the members is read from the live database before the switch, and the
  proposed SKU is copied into the sandbox (its price and stock).

Each run starts from a copy of the prepared base (the same file every run), so runs do not
see each other and the same seed gives the same figures. The process's engine and clock are
pointed at the sandbox for the run (:func:`inside`) and back afterwards: a simulation runs in
a process of its own (the CLI, or the worker's child process), never inside the server.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine

from tuangou.core import clock, migrate, secret
from tuangou.core.db import get_engine, make_engine, set_engine


class Workspace:
    """A temporary directory holding the base sandbox and each run's copy."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="tuangou-simulate-")
        self.root = Path(self._dir.name)
        self.base = self.root / "base.db"
        self.copied = False  # a copy of the live data (SQLite), or a fresh schema

    def close(self) -> None:
        self._dir.cleanup()

    def run_copy(self, index: int) -> Path:
        """A fresh copy of the base for one run."""
        path = self.root / f"run-{index}.db"
        _backup(self.base, path)
        return path

    def discard(self, path: Path) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def prepare(live: Engine) -> Workspace:
    """The base sandbox: a copy of the live SQLite file, or a fresh migrated SQLite file."""
    work = Workspace()
    try:
        if live.dialect.name == "sqlite":
            database = live.url.database
            if not database or database == ":memory:":
                raise ValueError("an in-memory database cannot be copied into a sandbox")
            _backup(Path(database), work.base)
            work.copied = True
        else:
            _backup(_fresh_schema(), work.base)
    except BaseException:
        work.close()
        raise
    return work


_schemas: dict[str | None, Path] = {}


def _fresh_schema() -> Path:
    """An empty SQLite file migrated to the head, made once per process (and head)."""
    head = migrate.head()
    found = _schemas.get(head)
    if found is None or not found.exists():
        folder = Path(tempfile.mkdtemp(prefix="tuangou-simulate-schema-"))
        atexit.register(shutil.rmtree, folder, True)
        found = folder / "schema.db"
        engine = make_engine(f"sqlite:///{found}")
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        _schemas[head] = found
    return found


def _backup(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy, page by page, of a database in use."""
    src = sqlite3.connect(source)  # read only: the backup takes a shared lock
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


@contextmanager
def inside(path: Path) -> Iterator[None]:
    """Point this process's engine (and instance secret) at the sandbox file; the clock may
    move inside. Everything comes back as it was afterwards."""
    live = get_engine()
    offset = clock.offset()
    set_engine(make_engine(f"sqlite:///{path}"))
    secret.reset()
    try:
        secret.secret_key()  # made (in a fresh sandbox) before any other transaction
        yield
    finally:
        set_engine(live)
        secret.reset()
        clock.set_offset(offset)
