"""The coupon catalogue, members' coupons and how many of each coupon a member bought."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
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
from tuangou.coupons.rules import Status


class Coupon(Base):
    """A coupon in the operator's catalogue: what it gives (a fixed amount, or a percentage
    with an optional cap), when it applies (a minimum spend, the kinds of order), what it
    costs in points, how long a bought one lasts (a window, or N days from purchase), the
    stock left (a guarded UPDATE, and a CHECK behind it) and the limit per member."""

    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    form: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(Integer, default=0)
    percent_bps: Mapped[int] = mapped_column(Integer, default=0)
    cap: Mapped[int | None] = mapped_column(Integer, default=None)
    min_spend: Mapped[int] = mapped_column(Integer, default=0)
    points_price: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[str] = mapped_column(String(64))  # comma-separated order kinds
    valid_from: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    valid_days: Mapped[int | None] = mapped_column(Integer, default=None)
    stock: Mapped[int] = mapped_column(Integer)
    per_member_limit: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_non_negative"),
        CheckConstraint("points_price >= 1", name="points_price_positive"),
        CheckConstraint("per_member_limit >= 1", name="limit_positive"),
        CheckConstraint("valid_until IS NOT NULL OR valid_days IS NOT NULL", name="has_validity"),
    )


class MemberCoupon(Base):
    """A coupon a member bought, with the catalogue's terms as they were then.

    status: available → used (taken onto an order by a guarded UPDATE) → available again
    (the order released unpaid, or refunded in full before ``expires_at``) or expired (refunded
    in full after it). An available coupon past ``expires_at`` is shown as expired."""

    __tablename__ = "member_coupons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(64))  # the purchase's idempotency key
    name: Mapped[str] = mapped_column(String(60))
    form: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(Integer, default=0)
    percent_bps: Mapped[int] = mapped_column(Integer, default=0)
    cap: Mapped[int | None] = mapped_column(Integer, default=None)
    min_spend: Mapped[int] = mapped_column(Integer, default=0)
    kinds: Mapped[str] = mapped_column(String(64))
    points_paid: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=Status.AVAILABLE)
    order_id: Mapped[int | None] = mapped_column(Integer, default=None)
    acquired_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_member_coupons_user_key"),
        CheckConstraint("(status = 'used') = (order_id IS NOT NULL)", name="order_when_used"),
        Index("ix_member_coupons_user_status", "user_id", "status"),
    )


class CouponHolding(Base):
    """How many of a coupon a member has bought: the per-member limit, as a guarded row."""

    __tablename__ = "coupon_holdings"

    coupon_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bought: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("bought >= 0", name="bought_non_negative"),)
