"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tuangou import wiring
from tuangou.core import migrate
from tuangou.core.db import Base, get_engine


def _differences() -> list[object]:
    wiring.compose()
    with get_engine().connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_head_matches_the_models(db_url: str) -> None:
    assert migrate.is_current()
    assert _differences() == []


def test_every_model_table_exists(db_url: str) -> None:
    wiring.compose()
    tables = set(inspect(get_engine()).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_one_head_and_a_linear_history() -> None:
    script = ScriptDirectory.from_config(migrate.config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    assert all(not r.is_merge_point or r.down_revision for r in revisions)


def test_the_check_catches_a_drift(db_url: str) -> None:
    """The comparison is not blind: a column the models lack is reported."""
    from sqlalchemy import text

    with get_engine().begin() as conn:
        conn.execute(text("ALTER TABLE users ADD COLUMN drift INTEGER"))
    try:
        found = _differences()
    finally:  # the PostgreSQL database is shared by the tests of this process
        with get_engine().begin() as conn:
            conn.execute(text("ALTER TABLE users DROP COLUMN drift"))
    assert any("drift" in repr(d) for d in found), found
    assert _differences() == []
