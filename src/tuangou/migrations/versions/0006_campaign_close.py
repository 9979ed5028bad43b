"""a campaign's end: unsold stock returned to its SKU

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("team_campaigns") as batch:
        batch.add_column(sa.Column("returned", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("ended_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("team_campaigns") as batch:
        batch.drop_column("ended_at")
        batch.drop_column("returned")
