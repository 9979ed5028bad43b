from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base
from tuangou.pools.rules import (
    SHARE_TOKEN_LENGTH,
    ItemStatus,
    LineStatus,
    WaveStatus,
    new_share_token,
)


class Wave(Base):
    """A pre-sale wave (团期): SKUs of one supplier, a cut-off and a delivery date.

    A leader's own wave has one listing (their community); a supplier's catalogue wave is
    adopted by many leaders (帮卖), one listing each. MOQs count across the whole wave.
    status: open → settling → settled (at cut-off), or cancelled before any order.
    """

    __tablename__ = "waves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # leader | catalogue | supplier
    created_by: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    cutoff_at: Mapped[datetime] = mapped_column(DateTime)
    delivery_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=WaveStatus.OPEN)
    commission_bps: Mapped[int] = mapped_column(Integer)
    unpicked_policy: Mapped[str] = mapped_column(String(8), default="refund")
    unpicked_days: Mapped[int] = mapped_column(Integer, default=3)
    arrival_grace_days: Mapped[int] = mapped_column(Integer, default=2)
    auto_refund_undelivered: Mapped[bool] = mapped_column(Boolean, default=True)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (Index("ix_waves_due", "status", "cutoff_at"),)


class WaveItem(Base):
    """One SKU in a wave, with its price, tiers, MOQ and stock allotment."""

    __tablename__ = "wave_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    title: Mapped[str] = mapped_column(String(200))
    price: Mapped[int] = mapped_column(Integer)
    tiers: Mapped[list[list[int]]] = mapped_column(JSON)
    moq: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    per_member_limit: Mapped[int] = mapped_column(Integer)
    commission_bps: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.OPEN)
    final_unit_price: Mapped[int | None] = mapped_column(Integer, default=None)

    __table_args__ = (
        CheckConstraint("sold >= 0 AND held >= 0 AND sold + held <= stock", name="no_oversell"),
    )


class WaveListing(Base):
    """A wave published in one community, with the pickup point its members collect from.

    Its members, leader and operators see it; so does anyone holding its share link, which
    carries ``share_token`` (random, so listing ids that follow each other reveal nothing).
    """

    __tablename__ = "wave_listings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"), index=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    leader_id: Mapped[int] = mapped_column(Integer, index=True)
    pickup_point_id: Mapped[int] = mapped_column(Integer)
    commission_bps: Mapped[int] = mapped_column(Integer)
    next_seq: Mapped[int] = mapped_column(Integer, default=0)
    share_token: Mapped[str] = mapped_column(
        String(SHARE_TOKEN_LENGTH), unique=True, default=new_share_token
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("wave_id", "community_id"),)


class WaveUsage(Base):
    """Units a member has live of one wave item: the per-member limit as a guarded row."""

    __tablename__ = "wave_usage"

    item_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_non_negative"),)


class WaveOrderInfo(Base):
    """What a wave order adds to an order: its listing, chain number (跟团号) and remark."""

    __tablename__ = "wave_orders"

    order_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(Integer, index=True)
    listing_id: Mapped[int] = mapped_column(Integer, index=True)
    pickup_point_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int | None] = mapped_column(Integer, default=None)
    remark: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        Index("uq_wave_orders_seq", "listing_id", "seq", unique=True),
        Index("ix_wave_orders_pickup", "wave_id", "pickup_point_id"),
    )


class WaveOrderLine(Base):
    """One SKU of a wave order. status: open → confirmed | refunded (below MOQ)."""

    __tablename__ = "wave_order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("wave_items.id"), index=True)
    sku_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    final_unit_price: Mapped[int | None] = mapped_column(Integer, default=None)
    status: Mapped[str] = mapped_column(String(16), default=LineStatus.OPEN)

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
