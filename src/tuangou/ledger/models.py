from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class LedgerTransfer(Base):
    """One movement of money. The id is chosen by the caller, so a retry is recorded once."""

    __tablename__ = "ledger_transfers"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class LedgerEntry(Base):
    """A leg of a transfer; the legs of a transfer sum to zero. Rows are never updated."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfers.id"), index=True)
    account: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(Integer, default=None)
    amount: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_ledger_entries_account", "account"),
        Index("ix_ledger_entries_order", "order_id", "account"),
    )
