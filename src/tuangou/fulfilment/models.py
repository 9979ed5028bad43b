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
from tuangou.fulfilment.rules import PickupStatus


class Shipment(Base):
    """A wave's goods on their way to one pickup point.

    ``shipped_at``: the supplier marked them sent (may stay empty: a leader can confirm goods
    that arrived anyway). ``received_at``: the leader confirmed receipt, exactly once.
    ``refunded_at``: they never arrived and the pickup point's orders were refunded. Receipt
    and that refund exclude each other (compare-and-set on this row).
    """

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(Integer)
    pickup_point_id: Mapped[int] = mapped_column(Integer, index=True)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    shipped_by: Mapped[int | None] = mapped_column(Integer, default=None)
    received_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    received_by: Mapped[int | None] = mapped_column(Integer, default=None)
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    refunded_by: Mapped[int | None] = mapped_column(Integer, default=None)  # None: the worker
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Delivery tracking (``fulfilment.tracking``): the carrier as the supplier named it and its
    # tracking number; the step reached (已发货 → 运输中 → 已到达, forward only, each step's
    # time in ``shipment_tracking_events``); when a polled carrier was last asked.
    carrier: Mapped[str | None] = mapped_column(String(64), default=None)
    tracking_no: Mapped[str | None] = mapped_column(String(64), default=None)
    tracking_status: Mapped[str | None] = mapped_column(String(12), default=None)
    tracking_polled_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        UniqueConstraint("wave_id", "pickup_point_id"),
        CheckConstraint("received_at IS NULL OR refunded_at IS NULL", name="received_or_refunded"),
        CheckConstraint(
            "tracking_status IS NULL OR tracking_status IN ('shipped', 'in_transit', 'arrived')",
            name="tracking_status",
        ),
        Index("ix_shipments_tracking", "tracking_status", "tracking_polled_at"),
    )


class TrackingEvent(Base):
    """One step a shipment reached, once (unique on the shipment and the step), with its
    time and who said so: ``source`` "manual" (the supplier's staff or an operator, ``by_user``)
    or "carrier" (the worker's poll of the carrier)."""

    __tablename__ = "shipment_tracking_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    status: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(8))
    by_user: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        UniqueConstraint("shipment_id", "status"),
        CheckConstraint("status IN ('shipped', 'in_transit', 'arrived')", name="status"),
        CheckConstraint("source IN ('manual', 'carrier')", name="source"),
    )


class Pickup(Base):
    """A member's order waiting at the pickup point, with its pickup code (提货码).

    status: waiting → picked_up (verified, 核销); or, left past ``unpicked_at``, refunded or
    kept by the wave's policy. Each move is a compare-and-set from ``waiting``.
    """

    __tablename__ = "pickups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer, unique=True)
    wave_id: Mapped[int] = mapped_column(Integer, index=True)
    pickup_point_id: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16), default=PickupStatus.WAITING)
    arrived_at: Mapped[datetime] = mapped_column(DateTime)
    unpicked_at: Mapped[datetime] = mapped_column(DateTime)  # the wave's policy applies then
    picked_up_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    verified_by: Mapped[int | None] = mapped_column(Integer, default=None)
    # how it was handed over: "code" (typed), "scan" (its QR) or "lookup" (phone tail + name)
    verified_how: Mapped[str | None] = mapped_column(String(8), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        Index("uq_pickups_code", "pickup_point_id", "wave_id", "code", unique=True),
        Index("ix_pickups_point_code", "pickup_point_id", "code"),
        Index("ix_pickups_due", "status", "unpicked_at"),
        CheckConstraint("status IN ('waiting', 'picked_up', 'refunded', 'kept')", name="status"),
        CheckConstraint(
            "verified_how IS NULL OR verified_how IN ('code', 'scan', 'lookup')",
            name="verified_how",
        ),
    )
