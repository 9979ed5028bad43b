from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base
from tuangou.payments.rules import ChargeStatus, PaymentStatus


class Payment(Base):
    """One attempt to pay an order through a gateway.

    status: pending → succeeded | failed (declined) | expired (order released unpaid).
    A payment that succeeds after its order was released is refunded in full.
    """

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    user_id: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    gateway: Mapped[str] = mapped_column(String(16))
    gateway_ref: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.PENDING)
    failure_reason: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payments_status_created", "status", "created_at"),
    )


class SandboxCharge(Base):
    """The sandbox gateway's own book of charges: it stands for the outside payment provider.

    status: created → succeeded | declined; ``callbacks_due`` callbacks are still to be sent
    (two or three for an injected duplicate, none for an injected lost callback).
    """

    __tablename__ = "sandbox_charges"

    ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ChargeStatus.CREATED)
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    callbacks_due: Mapped[int] = mapped_column(Integer, default=0)
    callback_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_sandbox_callbacks", "callbacks_due", "callback_at"),)


class SandboxRefund(Base):
    __tablename__ = "sandbox_refunds"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    charge_ref: Mapped[str] = mapped_column(ForeignKey("sandbox_charges.ref"))
    amount: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
