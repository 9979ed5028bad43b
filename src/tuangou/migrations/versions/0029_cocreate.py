"""co-creation: proposals, their votes and pledges, each community's threshold

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("target_price", sa.Integer(), nullable=False),
        sa.Column("supplier_hint", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("pledged", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ready_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("wave_id", sa.Integer(), nullable=True),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("early_until", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "votes >= 0 AND pledged >= 0", name=op.f("ck_proposals_counts_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("wave_id", name=op.f("uq_proposals_wave_id")),
    )
    op.create_index(op.f("ix_proposals_author_id"), "proposals", ["author_id"])
    op.create_index("ix_proposals_community", "proposals", ["community_id", "status", "id"])
    op.create_index("ix_proposals_due", "proposals", ["status", "created_at"])
    op.create_table(
        "proposal_votes",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("pledge", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "pledge >= 0 AND pledge <= 99", name=op.f("ck_proposal_votes_pledge_range")
        ),
        sa.PrimaryKeyConstraint("proposal_id", "user_id", name=op.f("pk_proposal_votes")),
    )
    op.create_table(
        "cocreate_settings",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("early_hours", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_cocreate_settings")),
    )


def downgrade() -> None:
    op.drop_table("cocreate_settings")
    op.drop_table("proposal_votes")
    op.drop_index("ix_proposals_due", table_name="proposals")
    op.drop_index("ix_proposals_community", table_name="proposals")
    op.drop_index(op.f("ix_proposals_author_id"), table_name="proposals")
    op.drop_table("proposals")
