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
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def is_current(engine: Engine | None = None) -> bool:
    return current(engine) == head()
