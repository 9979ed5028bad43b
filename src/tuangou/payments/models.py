from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
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
    # The gateway's own transaction id, once a notification or a lookup told it.
    gateway_txn: Mapped[str | None] = mapped_column(String(64), default=None)
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


class GatewayNotification(Base):
    """A notification a real gateway sent us, kept once it passed the checks (signature,
    freshness, merchant, amount). The unique (gateway, txn_id, event) key makes a repeated or
    re-ordered notice a no-op: ``txn_id`` is the gateway's transaction id (its refund id for a
    refund notice) and ``event`` what it reports (``SUCCESS``, ``TRADE_CLOSED``, ``REFUND``…).
    """

    __tablename__ = "gateway_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16))
    txn_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(64), index=True)
    refund_key: Mapped[str | None] = mapped_column(String(100), default=None)
    amount: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("gateway", "txn_id", "event"),)


class GatewayRefund(Base):
    """A refund we sent to a real gateway (keyed by our refund key, ``refund:<id>``), and what
    the gateway said of it: the record ``tuangou reconcile`` compares with the statement."""

    __tablename__ = "gateway_refunds"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(16), index=True)
    ref: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    gateway_refund_id: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="accepted")
    created_at: Mapped[datetime] = mapped_column(DateTime)
