"""the inbox: one message per event and recipient (an event key), and what it is about

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("event_key", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
    # The messages already delivered keep their outbox event as their event.
    op.execute("UPDATE notifications SET event_key = kind || ':' || event_id, subject = ''")
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("event_key", existing_type=sa.String(length=120), nullable=False)
        batch.alter_column("subject", existing_type=sa.String(length=200), nullable=False)
        batch.create_unique_constraint(
            op.f("uq_notifications_user_id_event_key"), ["user_id", "event_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint(op.f("uq_notifications_user_id_event_key"), type_="unique")
        batch.drop_column("subject")
        batch.drop_column("event_key")
