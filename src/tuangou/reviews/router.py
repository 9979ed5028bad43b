"""Verified-buyer reviews (晒单) over HTTP.

Photos first (``POST /api/photos``, one per request), then the review naming them:
``POST /api/orders/{order_id}/reviews``. The lists of a product, a SKU, a team campaign and a
wave come with their summary, newest first, paged by ``?cursor=``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.api.deps import Caller, IdemKey, MaybeCaller, Member, idempotent
from tuangou.catalog import service as catalog
from tuangou.core.db import unit_of_work
from tuangou.pools import errors as pool_errors
from tuangou.pools import service as pools
from tuangou.reviews import schemas
from tuangou.reviews import service as reviews
from tuangou.reviews.models import Review
from tuangou.teams import service as teams

router = APIRouter(tags=["reviews"])


def replies(session: Session, found: list[Review]) -> list[schemas.ReviewOut]:
    names = reviews.authors(session, found)
    pics = reviews.photos_by_review(session, found)
    return [
        schemas.ReviewOut.of(r, author=names.get(r.user_id, ""), photos=pics.get(r.id, []))
        for r in found
    ]


def mine(session: Session, r: Review) -> schemas.MyReviewOut:
    names = reviews.authors(session, [r])
    pics = reviews.photos_by_review(session, [r])
    return schemas.MyReviewOut.mine(r, author=names.get(r.user_id, ""), photos=pics.get(r.id, []))


def _page(
    session: Session,
    scope: reviews.Scope,
    cursor: str | None,
    stars: int | None,
    with_photos: bool,
    limit: int,
) -> schemas.ReviewPageOut:
    found = reviews.page(
        session, scope, cursor=cursor, stars=stars, with_photos=with_photos, limit=limit
    )
    return schemas.ReviewPageOut.model_construct(
        summary=schemas.SummaryOut.of(reviews.summary(session, scope)),
        reviews=replies(session, found.reviews),
        next_cursor=found.next_cursor,
    )


Cursor = Query(default=None, max_length=12, description="the next_cursor of the page before")
Stars = Query(default=None, description="only reviews of this many stars (1–5)")
WithPhotos = Query(default=False, description="only reviews with photos")
Limit = Query(default=20, ge=1, le=50)


@router.post("/orders/{order_id}/reviews", status_code=201, response_model=schemas.MyReviewOut)
def write(
    order_id: int, body: schemas.ReviewIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Review one line of your completed order (picked up, or receipt confirmed): 1–5 stars,
    0–1000 characters, up to 9 photos. Once per line. Refusals: ``not_a_verified_buyer``,
    ``already_reviewed``, ``invalid_rating``; a photo id unknown, another's or already used
    is refused by the photos' own errors."""

    def work(session: Session) -> dict[str, Any]:
        review = reviews.write(
            session,
            user_id=who.user_id,
            order_id=order_id,
            line_id=body.line_id,
            rating=body.rating,
            text=body.text,
            photo_ids=body.photo_ids,
        )
        return mine(session, review).model_dump()

    return idempotent(
        request, who=who, key=key, body=body.model_dump(mode="json"), work=work, status_code=201
    )


@router.get("/me/reviewable", response_model=schemas.ReviewablesOut)
def reviewable(who: Caller) -> schemas.ReviewablesOut:
    """The lines of your completed orders you have not reviewed yet."""
    with unit_of_work(readonly=True) as session:
        found = reviews.reviewable(session, who.user_id)
        return schemas.ReviewablesOut.model_construct(
            lines=[
                schemas.ReviewableOut.model_construct(
                    order_id=r.line.order_id,
                    line_id=r.line.line_id,
                    order_kind=r.order_kind,
                    title=r.line.title,
                    quantity=r.line.quantity,
                    sku_id=r.line.sku_id,
                    product_id=r.line.product_id,
                    completed_on=r.completed_on.isoformat(),
                )
                for r in found
            ]
        )


@router.get("/products/{product_id}/reviews", response_model=schemas.ReviewPageOut)
def of_product(
    product_id: int,
    cursor: str | None = Cursor,
    stars: int | None = Stars,
    with_photos: bool = WithPhotos,
    limit: int = Limit,
) -> schemas.ReviewPageOut:
    """A product's reviews (all its SKUs, every kind of order), newest first, with the
    summary."""
    with unit_of_work(readonly=True) as session:
        catalog.get_product(session, product_id)
        scope = reviews.Scope("product", product_id)
        return _page(session, scope, cursor, stars, with_photos, limit)


@router.get("/skus/{sku_id}/reviews", response_model=schemas.ReviewPageOut)
def of_sku(
    sku_id: int,
    cursor: str | None = Cursor,
    stars: int | None = Stars,
    with_photos: bool = WithPhotos,
    limit: int = Limit,
) -> schemas.ReviewPageOut:
    """A SKU's reviews, newest first, with the summary."""
    with unit_of_work(readonly=True) as session:
        catalog.get_sku(session, sku_id)
        return _page(session, reviews.Scope("sku", sku_id), cursor, stars, with_photos, limit)


@router.get("/campaigns/{campaign_id}/reviews", response_model=schemas.ReviewPageOut)
def of_campaign(
    campaign_id: int,
    cursor: str | None = Cursor,
    stars: int | None = Stars,
    with_photos: bool = WithPhotos,
    limit: int = Limit,
) -> schemas.ReviewPageOut:
    """A team campaign's reviews (its teams' and solo orders'), newest first, with the
    summary."""
    with unit_of_work(readonly=True) as session:
        teams.get_campaign(session, campaign_id)
        scope = reviews.Scope("campaign", campaign_id)
        return _page(session, scope, cursor, stars, with_photos, limit)


@router.get("/waves/{wave_id}/reviews", response_model=schemas.ReviewPageOut)
def of_wave(
    wave_id: int,
    who: MaybeCaller,
    share: str | None = Query(default=None, max_length=64, description="a listing's share token"),
    cursor: str | None = Cursor,
    stars: int | None = Stars,
    with_photos: bool = WithPhotos,
    limit: int = Limit,
) -> schemas.ReviewPageOut:
    """A wave's reviews, for whoever may see one of its listings (its communities' members,
    their leaders, operators, a share link's holder), newest first, with the summary."""
    with unit_of_work(readonly=True) as session:
        wave = pools.get_wave(session, wave_id)
        operator = who is not None and who.role == "operator"
        supplier = who is not None and who.supplier_id == wave.supplier_id
        visible = operator or supplier
        for listing in pools.listings_of_wave(session, wave_id):
            if visible:
                break
            visible = pools.may_see_listing(
                session,
                listing,
                user_id=who.user_id if who else None,
                operator=operator,
                share=share,
            )
        if not visible:
            raise pool_errors.WaveNotFound()
        return _page(session, reviews.Scope("wave", wave_id), cursor, stars, with_photos, limit)


@router.get("/reviews/{review_id}", response_model=schemas.MyReviewOut)
def review(review_id: int, who: MaybeCaller) -> schemas.MyReviewOut:
    """One review: a published one for everyone; a held or hidden one for its author, the
    community's leader and operators only."""
    with unit_of_work(readonly=True) as session:
        found = reviews.get_visible(
            session,
            review_id,
            viewer_id=who.user_id if who else None,
            operator=who is not None and who.role == "operator",
        )
        return mine(session, found)


@router.post("/reviews/{review_id}/reply", response_model=schemas.MyReviewOut)
def reply(
    review_id: int, body: schemas.ReplyIn, request: Request, who: Caller, key: IdemKey = None
) -> JSONResponse:
    """The one public reply, by the leader of the order's wave or the supplier of the goods:
    the first answer wins (``already_replied`` after); the author is told."""

    def work(session: Session) -> dict[str, Any]:
        found = reviews.reply(
            session,
            review_id=review_id,
            user_id=who.user_id,
            role=who.role,
            supplier_id=who.supplier_id,
            text=body.text,
        )
        return mine(session, found).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(mode="json"), work=work)


@router.post("/reviews/{review_id}/like", response_model=schemas.LikedOut)
def like(review_id: int, request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """Mark a published review helpful: once per member (a second like changes nothing),
    never one's own (``cannot_like_own_review``). Likes on verified reviews count on the
    community's leaderboard."""

    def work(session: Session) -> dict[str, Any]:
        done = reviews.like(session, user_id=who.user_id, review_id=review_id)
        return schemas.LikedOut(
            review_id=done.review_id, likes=done.likes, new=done.new
        ).model_dump()

    return idempotent(request, who=who, key=key, body=None, work=work)
