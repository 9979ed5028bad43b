from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base
from tuangou.orders.rules import OrderStatus, RefundStatus


class Order(Base):
    """A member's order.

    status: pending_payment → paid → confirmed (its team succeeded) → shipped → completed;
    pending_payment → cancelled (hold expired or cancelled); paid/confirmed → refunded
    (team failed, member left, never shipped, or refunded in full by an operator).
    """

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="team")
    # The campaign of the order's kind (a team campaign, a wave); what else the kind knows
    # of the order (its team and seat, its wave lines) is in the kind's own tables.
    campaign_id: Mapped[int] = mapped_column(Integer, index=True)
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"), default=None)  # one-SKU kinds
    quantity: Mapped[int] = mapped_column(Integer)  # all units (a wave order has lines)
    unit_price: Mapped[int] = mapped_column(Integer)  # charged per unit (0 for multi-line)
    amount: Mapped[int] = mapped_column(Integer)  # to pay: unit_price × quantity
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING_PAYMENT)
    paid_amount: Mapped[int] = mapped_column(Integer, default=0)
    payment_id: Mapped[int | None] = mapped_column(Integer, default=None)  # the one that paid
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    subsidy_amount: Mapped[int] = mapped_column(Integer, default=0)
    released_amount: Mapped[int] = mapped_column(Integer, default=0)
    final_unit_price: Mapped[int | None] = mapped_column(Integer, default=None)
    # Discounts at checkout (coupons): the price before them, the member's level discount and
    # the coupon's, in fen; ``amount`` is what is left for the member to pay. The subsidy
    # account pays both into escrow when the order is paid (``subsidy:discount:<order>``).
    list_amount: Mapped[int] = mapped_column(Integer, default=0)
    level_discount: Mapped[int] = mapped_column(Integer, default=0)
    coupon_discount: Mapped[int] = mapped_column(Integer, default=0)
    coupon_id: Mapped[int | None] = mapped_column(Integer, default=None)  # a member's coupon
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    carrier: Mapped[str | None] = mapped_column(String(64), default=None)
    tracking_no: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    ship_by: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    close_reason: Mapped[str | None] = mapped_column(String(32), default=None)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "level_discount >= 0 AND coupon_discount >= 0", name="discounts_non_negative"
        ),
        CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= paid_amount + subsidy_amount",
            name="refund_within_paid",
        ),
        Index("ix_orders_status_expires", "status", "expires_at"),
        Index("ix_orders_status_ship_by", "status", "ship_by"),
        # Keyset pages, newest first (core/paging.py): each list's filter column, then its
        # order (created_at, id), so a page is an index range read without a sort.
        Index("ix_orders_created", "created_at", "id"),
        Index("ix_orders_user_created", "user_id", "created_at", "id"),
        Index("ix_orders_status_created", "status", "created_at", "id"),
        Index("ix_orders_kind_created", "kind", "created_at", "id"),
        Index("ix_orders_campaign_created", "campaign_id", "created_at", "id"),
        Index("ix_orders_supplier_created", "supplier_id", "created_at", "id"),
    )


class CampaignUsage(Base):
    """How many units a member has live in a campaign: the per-member limit, as a guarded row."""

    __tablename__ = "campaign_usage"

    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_non_negative"),)


class Refund(Base):
    """Money going back to a member. ``key`` is unique: one refund per order and reason."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    funded_by: Mapped[str] = mapped_column(String(16), default="escrow")  # escrow|subsidy
    # The discounts' share of this refund, gone back to the subsidy account (not to the member).
    discount_amount: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.PENDING)
    gateway_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)
