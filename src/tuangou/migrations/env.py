"""Alembic environment: the database comes from the caller (``tuangou migrate``) or settings."""

from __future__ import annotations

from alembic import context

from tuangou import wiring
from tuangou.core.db import Base, get_engine

wiring.compose()
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    with get_engine().connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; use `tuangou migrate`")
run_migrations_online()
