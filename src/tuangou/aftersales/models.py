from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.aftersales.rules import CaseStatus
from tuangou.core.db import Base


class AfterSaleCase(Base):
    """A member's report of a missing, damaged or wrong item on one order (售后).

    status: open → accepted | rejected, decided once (compare-and-set) by the leader of the
    order's community or an operator. An accepted case refunds ``amount_refunded`` through
    the ledger: from escrow before pickup, or by reversing the release after it.
    """

    __tablename__ = "aftersale_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    order_kind: Mapped[str] = mapped_column(String(16))
    # For a wave order: whose community and pickup point (the leader decides).
    leader_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    community_id: Mapped[int | None] = mapped_column(Integer, default=None)
    pickup_point_id: Mapped[int | None] = mapped_column(Integer, default=None)
    kind: Mapped[str] = mapped_column(String(16))  # missing | damaged | wrong
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.OPEN)
    amount_requested: Mapped[int] = mapped_column(Integer)
    amount_refunded: Mapped[int] = mapped_column(Integer, default=0)
    refund_id: Mapped[int | None] = mapped_column(Integer, default=None)
    refund_mode: Mapped[str | None] = mapped_column(String(16), default=None)  # escrow|reversal
    reject_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    decided_by: Mapped[int | None] = mapped_column(Integer, default=None)

    __table_args__ = (
        CheckConstraint("status IN ('open', 'accepted', 'rejected')", name="status"),
        CheckConstraint("kind IN ('missing', 'damaged', 'wrong')", name="kind"),
        CheckConstraint("amount_requested > 0", name="amount_positive"),
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount_requested", name="refund_bounded"
        ),
        Index("ix_aftersale_cases_queue", "status", "created_at"),
    )


class AfterSaleLine(Base):
    """The units of one order line a case claims. ``item_id``: the wave item (None for a
    one-SKU order); ``unit_price``: what one unit finally cost."""

    __tablename__ = "aftersale_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("aftersale_cases.id"), index=True)
    order_id: Mapped[int] = mapped_column(Integer, index=True)
    item_id: Mapped[int | None] = mapped_column(Integer, default=None)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class AfterSalePhoto(Base):
    """An uploaded photo: first owned by its uploader alone, then attached to one case at
    ``position`` 1–6. The file lives in the storage under ``storage_key`` (a random name)."""

    __tablename__ = "aftersale_photos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("aftersale_cases.id"), index=True, default=None
    )
    position: Mapped[int | None] = mapped_column(Integer, default=None)
    storage_key: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("case_id", "position"),)


class PickupRating(Base):
    """A member's rating of a completed pickup (1–5 stars), one per order: a part of the
    leader's credit."""

    __tablename__ = "pickup_ratings"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    leader_id: Mapped[int] = mapped_column(Integer)
    pickup_point_id: Mapped[int] = mapped_column(Integer)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("stars >= 1 AND stars <= 5", name="stars"),
        Index("ix_pickup_ratings_leader", "leader_id", "created_at"),
    )
