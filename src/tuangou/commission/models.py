"""The commission's tables: each commission line, each leader's wallet, each withdrawal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class Commission(Base):
    """A leader's commission (direct) or their upline's override on one picked-up order.

    status: frozen (through the after-sale window) → available; or reversed (after-sale).
    """

    __tablename__ = "commissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    leader_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # direct | override
    base_amount: Mapped[int] = mapped_column(Integer)  # what the member paid, net
    rate_bps: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    reversed_amount: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="frozen")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    available_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("order_id", "kind"),
        Index("ix_commissions_due", "status", "available_at"),
        CheckConstraint("reversed_amount >= 0 AND reversed_amount <= amount", name="reversal"),
    )


class CommissionWallet(Base):
    """A leader's commission balances: guarded counters, mirrored by the ledger accounts
    ``leader_frozen:<id>``, ``leader_available:<id>`` and ``leader_withdrawing:<id>``."""

    __tablename__ = "commission_wallets"

    leader_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    frozen: Mapped[int] = mapped_column(Integer, default=0)
    available: Mapped[int] = mapped_column(Integer, default=0)
    withdrawing: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint(
            "frozen >= 0 AND available >= 0 AND withdrawing >= 0 AND withdrawn >= 0",
            name="non_negative",
        ),
    )


class Withdrawal(Base):
    """A leader asks to be paid their available commission; an operator approves or rejects.

    ``wallet`` is "leader" (``leader_id`` is the leader) or another kind registered with
    the commission service ("referral": ``leader_id`` is then the member's user id)."""

    __tablename__ = "withdrawals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leader_id: Mapped[int] = mapped_column(Integer, index=True)
    wallet: Mapped[str] = mapped_column(String(16), default="leader", server_default="leader")
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    account_note: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    decided_by: Mapped[int | None] = mapped_column(Integer, default=None)

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)
