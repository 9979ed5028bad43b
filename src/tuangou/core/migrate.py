"""Applying the Alembic migrations that ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tuangou.core.db import get_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def current(engine: Engine | None = None) -> str | None:
    with (engine or get_engine()).connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def head() -> str | None:
    return ",".join(sorted(ScriptDirectory.from_config(config()).get_heads())) or None


def upgrade(engine: Engine | None = None) -> None:
    engine = engine or get_engine()
    cfg = config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        if sqlite:
            # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old
            # table fails once other rows point at it. The pragma only works outside a
            # transaction, so it is set on the raw connection before ours begins.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def is_current(engine: Engine | None = None) -> bool:
    return current(engine) == head()
