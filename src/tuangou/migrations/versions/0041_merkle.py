"""the verifiable record: the journal's leaves, its counter row, who each leaf concerns, and
signed checkpoints

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.CheckConstraint("size >= 0", name=op.f("ck_journal_head_size_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_head")),
    )
    op.execute("INSERT INTO journal_head (id, size) VALUES (1, 0)")
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("source", "ref", name="uq_journal_entries_source_ref"),
    )
    op.create_index("uq_journal_entries_leaf_index", "journal_entries", ["leaf_index"], unique=True)
    op.create_index(
        "ix_journal_entries_community", "journal_entries", ["community_id", "leaf_index"]
    )
    op.create_index(
        "ix_journal_entries_unsequenced",
        "journal_entries",
        ["id"],
        sqlite_where=sa.text("leaf_index IS NULL"),
        postgresql_where=sa.text("leaf_index IS NULL"),
    )
    op.create_table(
        "journal_members",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", "entry_id", name=op.f("pk_journal_members")),
    )
    op.create_table(
        "journal_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_checkpoints")),
        sa.UniqueConstraint("community_id", "tree_size", name="uq_journal_checkpoints_size"),
    )


def downgrade() -> None:
    op.drop_table("journal_checkpoints")
    op.drop_table("journal_members")
    op.drop_index("ix_journal_entries_unsequenced", table_name="journal_entries")
    op.drop_index("ix_journal_entries_community", table_name="journal_entries")
    op.drop_index("uq_journal_entries_leaf_index", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_table("journal_head")
