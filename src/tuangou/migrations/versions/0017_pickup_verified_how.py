"""pickups: how each was handed over at the counter (typed code, scanned QR, or a lookup)

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pickups") as batch:
        batch.add_column(sa.Column("verified_how", sa.String(length=8), nullable=True))
    # The pickups handed over before this revision were all verified by a typed code.
    op.execute("UPDATE pickups SET verified_how = 'code' WHERE status = 'picked_up'")
    with op.batch_alter_table("pickups") as batch:
        batch.create_check_constraint(
            op.f("ck_pickups_verified_how"),
            "verified_how IS NULL OR verified_how IN ('code', 'scan', 'lookup')",
        )


def downgrade() -> None:
    with op.batch_alter_table("pickups") as batch:
        batch.drop_constraint(op.f("ck_pickups_verified_how"), type_="check")
        batch.drop_column("verified_how")
