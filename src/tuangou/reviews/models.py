from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base
from tuangou.reviews.rules import ReviewStatus


class Review(Base):
    """A verified buyer's review (晒单) of one line of their completed order.

    What was bought is copied from the order when the review is written (the SKU, its product,
    the supplier, the wave's community and leader, the title and quantity, the day the order
    completed): the lists and summaries of a product, a SKU, a team campaign or a wave then
    read this table alone, by its indexes. ``(order_id, line_id)`` is unique: one review per
    order line, however many requests race to write it. The one public reply is written once,
    by compare-and-set on ``reply_by IS NULL``.
    """

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(Integer)
    line_id: Mapped[int] = mapped_column(Integer)  # the wave order line; 0: a one-SKU order
    user_id: Mapped[int] = mapped_column(Integer)
    order_kind: Mapped[str] = mapped_column(String(16))
    campaign_id: Mapped[int] = mapped_column(Integer)  # the order's campaign (a wave: its id)
    sku_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    supplier_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int | None] = mapped_column(Integer, default=None)
    leader_user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    title: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    completed_on: Mapped[date] = mapped_column(Date)
    rating: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    photo_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default=ReviewStatus.PUBLISHED)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    reply_text: Mapped[str | None] = mapped_column(Text, default=None)
    reply_by: Mapped[int | None] = mapped_column(Integer, default=None)
    reply_role: Mapped[str | None] = mapped_column(String(16), default=None)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    # "Helpful" likes: one per member (``review_likes``), counted in the like's transaction.
    likes: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))

    __table_args__ = (
        UniqueConstraint("order_id", "line_id", name="uq_reviews_order_line"),
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("photo_count >= 0 AND photo_count <= 9", name="photo_count_range"),
        CheckConstraint("likes >= 0", name="likes_non_negative"),
        # Each scope: newest first (keyset by id), and its summary (grouped by rating).
        Index("ix_reviews_product_list", "product_id", "status", "id"),
        Index("ix_reviews_product_stars", "product_id", "status", "rating", "id"),
        Index("ix_reviews_sku_list", "sku_id", "status", "id"),
        Index("ix_reviews_sku_stars", "sku_id", "status", "rating", "id"),
        Index("ix_reviews_campaign_list", "order_kind", "campaign_id", "status", "id"),
        Index("ix_reviews_campaign_stars", "order_kind", "campaign_id", "status", "rating", "id"),
        Index("ix_reviews_user", "user_id", "id"),
    )


class ReviewCount(Base):
    """How many published reviews of each star a product, a SKU, a team campaign or a wave
    has: kept in the transaction that publishes, hides or restores a review, so a summary
    reads five rows by their key, however many reviews there are (``service.recount``
    rebuilds them from the reviews)."""

    __tablename__ = "review_counts"

    scope: Mapped[str] = mapped_column(String(8))  # product | sku | campaign | wave
    scope_id: Mapped[int] = mapped_column(Integer)
    rating: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        PrimaryKeyConstraint("scope", "scope_id", "rating", name="pk_review_counts"),
        CheckConstraint("n >= 0", name="n_non_negative"),
    )


class ReviewLike(Base):
    """A member found a review helpful: one per member and review (the primary key), never
    their own; the review's ``likes`` moves in the same transaction."""

    __tablename__ = "review_likes"

    review_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (PrimaryKeyConstraint("review_id", "user_id", name="pk_review_likes"),)
