"""a campaign's end: unsold stock returned to its SKU

Waves settled before this revision never gave their allotments back to their SKUs; they do
here, as a settlement now does: the units sold leave the SKU's stock, the rest is free.

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
    settled = """FROM wave_items i JOIN waves w ON w.id = i.wave_id
                 WHERE i.sku_id = skus.id AND w.status = 'settled'"""
    # The query is built from the constant text above only, no input.
    op.execute(
        f"""UPDATE skus
               SET allocated = allocated - (SELECT COALESCE(SUM(i.stock), 0) {settled}),
                   stock = stock - (SELECT COALESCE(SUM(i.sold), 0) {settled})
             WHERE allocated >= (SELECT COALESCE(SUM(i.stock), 0) {settled})"""  # nosec B608
    )


def downgrade() -> None:
    with op.batch_alter_table("team_campaigns") as batch:
        batch.drop_column("ended_at")
        batch.drop_column("returned")
