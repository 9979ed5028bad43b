"""The referral tables: each member's code and binding, the operator's settings, each
commission line (level 1 or 2, never a third) and each member's referral wallet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class ReferralMember(Base):
    """A member's invite code, their inviter (set once, at signup) and whether the operator
    appointed them a partner. ``inviter_id`` is never updated once set."""

    __tablename__ = "referral_members"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    inviter_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    bound_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    bound_until: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    appointed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("inviter_id IS NULL OR inviter_id <> user_id", name="not_self"),
    )


class ReferralSettings(Base):
    """The operator's referral terms: one row (id 1)."""

    __tablename__ = "referral_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level1_bps: Mapped[int] = mapped_column(Integer)
    level2_bps: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    min_spend: Mapped[int] = mapped_column(Integer)
    binding_days: Mapped[int | None] = mapped_column(Integer, default=None)
    self_purchase: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[int | None] = mapped_column(Integer, default=None)

    __table_args__ = (
        CheckConstraint(
            "level1_bps >= 0 AND level2_bps >= 0 AND level1_bps + level2_bps <= 3000",
            name="cap",
        ),
    )


class ReferralCommission(Base):
    """A referrer's share of one completed order. ``level`` is 1 or 2, never more: one row per
    order and level."""

    __tablename__ = "referral_commissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)  # who earns it
    buyer_id: Mapped[int] = mapped_column(Integer, index=True)
    level: Mapped[int] = mapped_column(Integer)
    base_amount: Mapped[int] = mapped_column(Integer)  # the order's kept amount
    released: Mapped[int] = mapped_column(Integer)  # what escrow released at completion
    rate_bps: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    reversed_amount: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="frozen")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    available_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("order_id", "level"),
        Index("ix_referral_commissions_due", "status", "available_at"),
        CheckConstraint("level IN (1, 2)", name="two_levels"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("reversed_amount >= 0 AND reversed_amount <= amount", name="reversal"),
    )


class ReferralWallet(Base):
    """A member's referral balances, mirrored by the ledger accounts ``referral_frozen:<id>``,
    ``referral_available:<id>``, ``referral_withdrawing:<id>`` and ``referral_debt:<id>``.

    ``debt`` is what refunds took back after the commission had been withdrawn: it is never a
    negative balance; it is paid off first from commission that becomes available later."""

    __tablename__ = "referral_wallets"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    frozen: Mapped[int] = mapped_column(Integer, default=0)
    available: Mapped[int] = mapped_column(Integer, default=0)
    withdrawing: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    debt: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint(
            "frozen >= 0 AND available >= 0 AND withdrawing >= 0 AND withdrawn >= 0 AND debt >= 0",
            name="non_negative",
        ),
        CheckConstraint("debt = 0 OR available = 0", name="debt_before_available"),
    )
