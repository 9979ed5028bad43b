"""Backups: a consistent copy of the whole database, and its restore into another one.

* **SQLite**: the online backup API (``sqlite3.Connection.backup``) copies the database page
  by page while the platform keeps running; the copy is itself a SQLite file. Restoring copies
  it back the same way into the target file (which must not be in use).
* **PostgreSQL**: ``pg_dump --format=custom`` (a consistent snapshot, taken while the platform
  runs) and ``pg_restore --clean --if-exists --no-owner`` into the target database. The
  client programs come from the PostgreSQL installation (``PATH``, else
  ``/usr/lib/postgresql/*/bin``); their major version must be the server's or newer.

After a restore, ``tuangou audit`` on the restored database checks every invariant.
"""

from __future__ import annotations

import glob
import shutil
import sqlite3
import subprocess  # nosec B404: the PostgreSQL client programs, with argument lists
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _program(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise BackupError(f"{name} not found: install the PostgreSQL client programs")
    return candidates[-1]


def _libpq_url(url: str) -> str:
    """The URL as libpq reads it (without SQLAlchemy's ``+psycopg`` driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # nosec B603
    if done.returncode != 0:
        raise BackupError(done.stderr.strip() or f"{Path(args[0]).name} failed")


def _copy_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def backup(url: str, path: Path) -> Path:
    """Write a backup of the database at ``url`` to ``path`` (which must not exist)."""
    if path.exists():
        raise BackupError(f"{path} exists: choose a new file")
    if make_url(url).get_backend_name() == "sqlite":
        source = _sqlite_file(url)
        if not source.exists():
            raise BackupError(f"no database at {source}")
        _copy_sqlite(source, path)
    else:
        _run([_program("pg_dump"), "--format=custom", f"--file={path}", _libpq_url(url)])
    return path


def restore(path: Path, url: str) -> None:
    """Restore the backup at ``path`` into the database at ``url``, replacing what it holds.
    Stop the server and workers of that database first."""
    if not path.exists():
        raise BackupError(f"no backup at {path}")
    if make_url(url).get_backend_name() == "sqlite":
        target = _sqlite_file(url)
        with open(path, "rb") as f:
            if not f.read(16).startswith(b"SQLite format 3"):
                raise BackupError(f"{path} is not a SQLite backup")
        _copy_sqlite(path, target)
    else:
        _run(
            [
                _program("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq_url(url)}",
                str(path),
            ]
        )
