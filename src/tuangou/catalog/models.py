from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    contact: Mapped[str] = mapped_column(String(128), default="")
    # A leader's own goods: the supplier record a leader runs (None: an independent supplier).
    # Waves of this leader on these SKUs are exempt from the supplier's terms. (No foreign
    # key: leaders → users → suppliers would close a cycle; the service checks the leader.)
    leader_id: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Category(Base):
    """A product category (水果, 蔬菜…), managed by operators: the members' home shows the
    visible ones as a strip, in ``position`` order. Hiding one takes it off the strip only:
    its products stay listed and found."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str] = mapped_column(String(500), default="")
    # One category at most (None: not yet sorted).
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id"), index=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Sku(Base):
    """A sellable variant with its physical stock; campaigns allocate from it.

    The supplier's terms for leaders' waves: ``floor_price``, the lowest unit price (base
    price and every tier) a leader may sell it at, and ``max_commission_bps``, the highest
    commission a leader may take on it.
    """

    __tablename__ = "skus"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    price: Mapped[int] = mapped_column(Integer)  # the single (non-group) price, fen
    stock: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    floor_price: Mapped[int] = mapped_column(Integer)  # fen
    max_commission_bps: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("floor_price > 0", name="floor_price_positive"),
        CheckConstraint(
            "max_commission_bps >= 0 AND max_commission_bps <= 5000",
            name="max_commission_within_bounds",
        ),
        CheckConstraint("allocated >= 0 AND allocated <= stock", name="allocated_within_stock"),
    )
