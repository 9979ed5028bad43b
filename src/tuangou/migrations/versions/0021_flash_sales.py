"""flash sales: time slots of a SKU at a deep price, and each member's count in a slot

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flash_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("per_order_cap", sa.Integer(), nullable=False),
        sa.Column("per_member_cap", sa.Integer(), nullable=False),
        sa.Column("hold_minutes", sa.Integer(), nullable=False),
        sa.Column("ship_within_hours", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "available >= 0 AND held >= 0 AND sold >= 0 AND available + held + sold = stock",
            name=op.f("ck_flash_slots_no_oversell"),
        ),
        sa.CheckConstraint(
            "per_order_cap >= 1 AND per_member_cap >= per_order_cap",
            name=op.f("ck_flash_slots_caps"),
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_flash_slots_sku_id_skus")),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_flash_slots_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flash_slots")),
    )
    op.create_index(op.f("ix_flash_slots_sku_id"), "flash_slots", ["sku_id"])
    op.create_index(op.f("ix_flash_slots_supplier_id"), "flash_slots", ["supplier_id"])
    op.create_index(op.f("ix_flash_slots_starts_at"), "flash_slots", ["starts_at"])
    op.create_table(
        "flash_usage",
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_flash_usage_non_negative")),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["flash_slots.id"], name=op.f("fk_flash_usage_slot_id_flash_slots")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_flash_usage_user_id_users")
        ),
        sa.PrimaryKeyConstraint("slot_id", "user_id", name=op.f("pk_flash_usage")),
    )


def downgrade() -> None:
    op.drop_table("flash_usage")
    op.drop_index(op.f("ix_flash_slots_starts_at"), table_name="flash_slots")
    op.drop_index(op.f("ix_flash_slots_supplier_id"), table_name="flash_slots")
    op.drop_index(op.f("ix_flash_slots_sku_id"), table_name="flash_slots")
    op.drop_table("flash_slots")
