"""referral: invite codes and bindings, the operator's terms, two-level commission lines,
members' referral wallets; withdrawals name their wallet

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral_members",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("inviter_id", sa.Integer(), nullable=True),
        sa.Column("bound_at", sa.DateTime(), nullable=True),
        sa.Column("bound_until", sa.DateTime(), nullable=True),
        sa.Column("appointed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "inviter_id IS NULL OR inviter_id <> user_id",
            name=op.f("ck_referral_members_not_self"),
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_referral_members")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_members_code")),
    )
    with op.batch_alter_table("referral_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_members_inviter_id"), ["inviter_id"], unique=False
        )

    op.create_table(
        "referral_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level1_bps", sa.Integer(), nullable=False),
        sa.Column("level2_bps", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("min_spend", sa.Integer(), nullable=False),
        sa.Column("binding_days", sa.Integer(), nullable=True),
        sa.Column("self_purchase", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "level1_bps >= 0 AND level2_bps >= 0 AND level1_bps + level2_bps <= 3000",
            name=op.f("ck_referral_settings_cap"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_settings")),
    )

    op.create_table(
        "referral_commissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("base_amount", sa.Integer(), nullable=False),
        sa.Column("released", sa.Integer(), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reversed_amount", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("level IN (1, 2)", name=op.f("ck_referral_commissions_two_levels")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_referral_commissions_amount_positive")),
        sa.CheckConstraint(
            "reversed_amount >= 0 AND reversed_amount <= amount",
            name=op.f("ck_referral_commissions_reversal"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_commissions")),
        sa.UniqueConstraint(
            "order_id", "level", name=op.f("uq_referral_commissions_order_id_level")
        ),
    )
    with op.batch_alter_table("referral_commissions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referral_commissions_due", ["status", "available_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_referral_commissions_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_referral_commissions_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_referral_commissions_buyer_id"), ["buyer_id"], unique=False
        )

    op.create_table(
        "referral_wallets",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("frozen", sa.Integer(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.Column("withdrawing", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("debt", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "frozen >= 0 AND available >= 0 AND withdrawing >= 0 AND withdrawn >= 0 AND debt >= 0",
            name=op.f("ck_referral_wallets_non_negative"),
        ),
        sa.CheckConstraint(
            "debt = 0 OR available = 0", name=op.f("ck_referral_wallets_debt_before_available")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_referral_wallets")),
    )

    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("wallet", sa.String(length=16), server_default="leader", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_column("wallet")
    op.drop_table("referral_wallets")
    with op.batch_alter_table("referral_commissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_commissions_buyer_id"))
        batch_op.drop_index(batch_op.f("ix_referral_commissions_user_id"))
        batch_op.drop_index(batch_op.f("ix_referral_commissions_order_id"))
        batch_op.drop_index("ix_referral_commissions_due")
    op.drop_table("referral_commissions")
    op.drop_table("referral_settings")
    with op.batch_alter_table("referral_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_members_inviter_id"))
    op.drop_table("referral_members")
