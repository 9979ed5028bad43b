"""keyset paging: the indexes the paged lists read in order (my orders, the operator's and a
supplier's orders with their filters, the inbox, the live campaigns), so a page is an index
range, never a sort of the whole table

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None

ORDER_INDEXES = {
    "ix_orders_created": ["created_at", "id"],
    "ix_orders_user_created": ["user_id", "created_at", "id"],
    "ix_orders_status_created": ["status", "created_at", "id"],
    "ix_orders_kind_created": ["kind", "created_at", "id"],
    "ix_orders_campaign_created": ["campaign_id", "created_at", "id"],
    "ix_orders_supplier_created": ["supplier_id", "created_at", "id"],
}


def upgrade() -> None:
    for name, columns in ORDER_INDEXES.items():
        op.create_index(name, "orders", columns)
    op.create_index("ix_notifications_user_page", "notifications", ["user_id", "created_at", "id"])
    op.drop_index("ix_notifications_user", table_name="notifications")
    op.create_index("ix_team_campaigns_status_id", "team_campaigns", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_team_campaigns_status_id", table_name="team_campaigns")
    op.create_index("ix_notifications_user", "notifications", ["user_id", "created_at"])
    op.drop_index("ix_notifications_user_page", table_name="notifications")
    for name in reversed(ORDER_INDEXES):
        op.drop_index(name, table_name="orders")
