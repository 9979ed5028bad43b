"""team reservations (a team opens only if it can form) and 单独购买 (allow_solo)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Campaigns that ran before this revision keep selling in teams only: an operator turns
    # 单独购买 on for them; new campaigns allow it unless told otherwise.
    with op.batch_alter_table("team_campaigns") as batch:
        batch.add_column(sa.Column("reserved", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("allow_solo", sa.Boolean(), server_default="0", nullable=False))
        batch.drop_constraint(op.f("ck_team_campaigns_no_oversell"), type_="check")
        batch.create_check_constraint(
            op.f("ck_team_campaigns_no_oversell"),
            "sold >= 0 AND held >= 0 AND reserved >= 0 AND sold + held + reserved <= stock",
        )
    # Teams opened before this revision hold no reservation: their joins take free stock.
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("reserved", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("seat_units", sa.Integer(), server_default="1", nullable=False))
        batch.create_check_constraint(
            op.f("ck_teams_reservation"), "reserved >= 0 AND seat_units >= 1"
        )


def downgrade() -> None:
    # Reservations go back to the free stock (the old schema knows none).
    with op.batch_alter_table("teams") as batch:
        batch.drop_constraint(op.f("ck_teams_reservation"), type_="check")
        batch.drop_column("seat_units")
        batch.drop_column("reserved")
    with op.batch_alter_table("team_campaigns") as batch:
        batch.drop_constraint(op.f("ck_team_campaigns_no_oversell"), type_="check")
        batch.create_check_constraint(
            op.f("ck_team_campaigns_no_oversell"),
            "sold >= 0 AND held >= 0 AND sold + held <= stock",
        )
        batch.drop_column("allow_solo")
        batch.drop_column("reserved")
