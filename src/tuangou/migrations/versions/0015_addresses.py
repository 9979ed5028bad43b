"""member addresses: the address book a team buy's shipping address is chosen from; the
profile's single address becomes its first (default) entry

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 07:50:00
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_member_addresses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_addresses")),
    )
    op.create_index(op.f("ix_member_addresses_user_id"), "member_addresses", ["user_id"])
    # Each profile address becomes its owner's default entry.
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    book = sa.table(
        "member_addresses",
        sa.column("user_id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("phone", sa.String()),
        sa.column("region", sa.String()),
        sa.column("detail", sa.String()),
        sa.column("is_default", sa.Boolean()),
        sa.column("created_at", sa.DateTime()),
        sa.column("updated_at", sa.DateTime()),
    )
    rows = []
    for user_id, raw in bind.execute(sa.text("SELECT id, address FROM users")):
        value = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(value, dict) or not value.get("line"):
            continue
        rows.append(
            {
                "user_id": user_id,
                "name": str(value.get("name", ""))[:32],
                "phone": str(value.get("phone", ""))[:20],
                "region": str(value.get("region", ""))[:64],
                "detail": str(value["line"])[:200],
                "is_default": True,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        op.bulk_insert(book, rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_member_addresses_user_id"), table_name="member_addresses")
    op.drop_table("member_addresses")
