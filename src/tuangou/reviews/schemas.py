from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.reviews import rules
from tuangou.reviews.rules import Summary

VERIFIED_LABEL = "已购买 · verified buyer"


class ReviewIn(In):
    line_id: int | None = Field(
        default=None,
        description="the wave order line (GET /api/me/reviewable lists them); leave out (or 0)"
        " for a one-SKU order (team, solo, flash, bargain)",
    )
    rating: int = Field(description="1–5 stars (else invalid_rating)")
    text: str = Field(default="", max_length=rules.TEXT_MAX, description="0–1000 characters")
    photo_ids: list[str] = Field(
        default_factory=list,
        max_length=rules.MAX_PHOTOS,
        description="up to 9 ids returned by POST /api/photos, in the order to show them",
    )


class ReplyIn(In):
    text: str = Field(min_length=1, max_length=rules.REPLY_MAX)


# ---------------------------------------------------------------- replies


class ReviewPhotoOut(Out):
    id: str
    url: str
    thumb_url: str
    width: int
    height: int

    @classmethod
    def of(cls, p: Any) -> ReviewPhotoOut:
        return cls.model_construct(
            id=str(p.id),
            url=str(p.url),
            thumb_url=str(p.thumb_url),
            width=int(p.width),
            height=int(p.height),
        )


class ReplyOut(Out):
    """The one public reply: by the wave's leader or the goods' supplier."""

    text: str
    by: str = Field(description="leader | supplier")
    at: Iso


class ReviewOut(Out):
    """A review as everyone reads it: a verified buyer's, what they bought and when."""

    id: int
    verified_buyer: bool = Field(description="always true: only buyers of completed orders review")
    verified_label: str = Field(description="已购买 · verified buyer")
    order_kind: str
    title: str = Field(description="what was bought: the goods' name")
    quantity: int
    sku_id: int
    product_id: int
    completed_on: str = Field(description="the day the order completed (YYYY-MM-DD)")
    rating: int
    text: str
    photos: list[ReviewPhotoOut]
    author: str = Field(description="the author's masked name")
    status: str = Field(description="published | held (for review) | hidden (by a moderator)")
    created_at: Iso
    reply: ReplyOut | None
    likes: int = Field(0, description="members who found it helpful")

    @classmethod
    def of(cls, r: Any, *, author: str, photos: Sequence[Any] = ()) -> ReviewOut:
        reply = None
        if r.reply_by is not None:
            reply = ReplyOut.model_construct(
                text=r.reply_text or "", by=r.reply_role or "", at=clock.iso(r.replied_at)
            )
        return cls.model_construct(
            id=r.id,
            verified_buyer=True,
            verified_label=VERIFIED_LABEL,
            order_kind=r.order_kind,
            title=r.title,
            quantity=r.quantity,
            sku_id=r.sku_id,
            product_id=r.product_id,
            completed_on=r.completed_on.isoformat(),
            rating=r.rating,
            text=r.text,
            photos=[ReviewPhotoOut.of(p) for p in photos],
            author=author,
            status=r.status,
            created_at=clock.iso(r.created_at),
            reply=reply,
            likes=r.likes or 0,
        )


class MyReviewOut(ReviewOut):
    """A review as its author (or a moderator) reads it: with its order and line."""

    order_id: int
    line_id: int

    @classmethod
    def mine(cls, r: Any, *, author: str, photos: Sequence[Any] = ()) -> MyReviewOut:
        base = ReviewOut.of(r, author=author, photos=photos)
        return cls.model_construct(**dict(base), order_id=r.order_id, line_id=r.line_id)


class StarCountOut(Out):
    stars: int
    count: int


class SummaryOut(Out):
    """An honest summary: the count, how many of each star, the average with one decimal
    (null: no reviews yet). Only published reviews count (not held or hidden ones)."""

    count: int
    stars: list[StarCountOut] = Field(description="1 to 5 stars, each with its count")
    average: str | None

    @classmethod
    def of(cls, s: Summary) -> SummaryOut:
        return cls.model_construct(
            count=s.count,
            stars=[StarCountOut.model_construct(stars=k, count=s.stars[k]) for k in rules.STARS],
            average=s.average,
        )


class ReviewPageOut(Out):
    """A page of reviews, newest first, with the summary of them all."""

    summary: SummaryOut
    reviews: list[ReviewOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page")


class ReviewableOut(Out):
    """A line of my completed order that I have not reviewed yet."""

    order_id: int
    line_id: int
    order_kind: str
    title: str
    quantity: int
    sku_id: int
    product_id: int
    completed_on: str


class ReviewablesOut(Out):
    lines: list[ReviewableOut]


class LikedOut(Out):
    """A review marked helpful: its count of likes, and whether this like was new."""

    review_id: int
    likes: int
    new: bool
