"""product categories, and the search index of live campaigns and waves

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_categories_name")),
    )
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("category_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_products_category_id"), ["category_id"])
        batch.create_foreign_key(
            batch.f("fk_products_category_id_categories"), "categories", ["category_id"], ["id"]
        )
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_search_entries_kind_ref_id")),
    )
    op.create_table(
        "search_terms",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["search_entries.id"],
            name=op.f("fk_search_terms_entry_id_search_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", "term", name=op.f("pk_search_terms")),
    )
    op.create_index("ix_search_terms_term", "search_terms", ["term", "entry_id"])


def downgrade() -> None:
    op.drop_index("ix_search_terms_term", table_name="search_terms")
    op.drop_table("search_terms")
    op.drop_table("search_entries")
    with op.batch_alter_table("products") as batch:
        batch.drop_constraint(batch.f("fk_products_category_id_categories"), type_="foreignkey")
        batch.drop_index(batch.f("ix_products_category_id"))
        batch.drop_column("category_id")
    op.drop_table("categories")
