"""A flash sale's slots (秒杀场次) and each member's count in a slot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class FlashSlot(Base):
    """One time slot of a SKU at a deep price, with its own small stock, allocated from the
    SKU when it is created. ``available`` is what can still be bought; a purchase moves units to
    ``held`` (one guarded UPDATE), a payment to ``sold``, a released hold back to ``available``."""

    __tablename__ = "flash_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    available: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer, default=0)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    per_order_cap: Mapped[int] = mapped_column(Integer)
    per_member_cap: Mapped[int] = mapped_column(Integer)
    hold_minutes: Mapped[int] = mapped_column(Integer)
    ship_within_hours: Mapped[int] = mapped_column(Integer, default=72)
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Over and nothing held: the units sold left the SKU's stock, the allocation went back.
    settled_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        CheckConstraint(
            "available >= 0 AND held >= 0 AND sold >= 0 AND available + held + sold = stock",
            name="no_oversell",
        ),
        CheckConstraint("per_order_cap >= 1 AND per_member_cap >= per_order_cap", name="caps"),
    )


class FlashUsage(Base):
    """How many units of a slot a member holds or bought: the per-member cap's guard."""

    __tablename__ = "flash_usage"

    slot_id: Mapped[int] = mapped_column(ForeignKey("flash_slots.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("quantity >= 0", name="non_negative"),)
