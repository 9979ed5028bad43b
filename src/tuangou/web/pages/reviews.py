"""Reviews (晒单) on the pages: the review form of a completed order's line (stars, text,
photos with a preview), the reviews of a product, a team campaign and a wave with their
summary bar chart, one review, and the reply forms of the leader and the supplier.

The blocks other pages include (:func:`order_reviews` on the order page, :func:`block` on
the campaign and wave pages) are built here, so those pages only call one function.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tuangou.accounts.service import Principal
from tuangou.achievements import service as achievements
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core.db import read, run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.orders import service as orders
from tuangou.photos import service as photos
from tuangou.pools import service as pools
from tuangou.reviews import errors as review_errors
from tuangou.reviews import rules
from tuangou.reviews import service as reviews
from tuangou.teams import service as teams
from tuangou.web import errors as page_errors
from tuangou.web import once, session
from tuangou.web.forms import FormState
from tuangou.web.session import Form, PageBuyer
from tuangou.web.templating import render

router = APIRouter()
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # read no more of one upload (the photos service decides)
BLOCK_SIZE = 3  # reviews shown on a campaign or wave page (the rest: "all reviews")


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _cards(db: Session, found: list[Any]) -> list[dict[str, Any]]:
    """Reviews as the pages show them: with the author's masked name and the photos."""
    names = reviews.authors(db, found)
    pics = reviews.photos_by_review(db, found)
    badges = achievements.badges_of_many(db, [r.user_id for r in found])
    return [
        {
            "r": r,
            "author": names.get(r.user_id, ""),
            "photos": pics.get(r.id, []),
            "badges": badges.get(r.user_id, [])[-3:],  # the latest three, small
        }
        for r in found
    ]


# ---------------------------------------------------------------- blocks of other pages


def order_reviews(db: Session, order: Any) -> list[dict[str, Any]]:
    """The lines of a completed order, each with its review (any state: the author reads
    it) or none yet; empty for an order not completed."""
    if not reviews.completed(order):
        return []
    mine = reviews.of_order(db, order.id)
    cards = {c["r"].line_id: c for c in _cards(db, list(mine.values()))}
    return [{"line": ln, "card": cards.get(ln.line_id)} for ln in reviews.lines_of(db, order)]


def block(db: Session, scope: reviews.Scope, link: str) -> dict[str, Any]:
    """The reviews section of a campaign or wave page: the summary and the newest few."""
    found = reviews.page(db, scope, limit=BLOCK_SIZE)
    return {
        "summary": reviews.summary(db, scope),
        "cards": _cards(db, found.reviews),
        "link": link,
        "more": found.next_cursor is not None,
    }


def campaign_block(campaign_id: int) -> dict[str, Any]:
    return read(
        lambda db: block(db, reviews.Scope("campaign", campaign_id), f"/c/{campaign_id}/reviews")
    )


def wave_block(listing_id: int, wave_id: int, share: str | None = None) -> dict[str, Any]:
    link = f"/w/{listing_id}/reviews" + (f"?share={share}" if share else "")
    return read(lambda db: block(db, reviews.Scope("wave", wave_id), link))


# ---------------------------------------------------------------- the lists


def _list_page(
    request: Request, scope: reviews.Scope, *, title: str, back: str, base: str
) -> Response:
    query = request.query_params
    stars_text = query.get("stars", "")
    stars = int(stars_text) if stars_text in ("1", "2", "3", "4", "5") else None
    with_photos = query.get("photos") == "1"
    cursor = query.get("cursor") or None
    with unit_of_work(readonly=True) as db:
        try:
            found = reviews.page(db, scope, cursor=cursor, stars=stars, with_photos=with_photos)
        except DomainError:
            found = reviews.page(db, scope, stars=stars, with_photos=with_photos)
        context = {
            "title": title,
            "back": back,
            "base": base,
            "summary": reviews.summary(db, scope),
            "cards": _cards(db, found.reviews),
            "next_cursor": found.next_cursor,
            "stars": stars,
            "with_photos": with_photos,
            "first_page": cursor is None,
        }
    return render(request, "member/reviews/list.html", context)


@router.get("/products/{product_id}/reviews")
def product_reviews(request: Request, product_id: int) -> Response:
    """A product's reviews (all its SKUs, every kind of order), with the summary."""
    title = read(lambda db: catalog.get_product(db, product_id).title)
    return _list_page(
        request,
        reviews.Scope("product", product_id),
        title=title,
        back="/",
        base=f"/products/{product_id}/reviews",
    )


@router.get("/c/{campaign_id}/reviews")
def campaign_reviews(request: Request, campaign_id: int) -> Response:
    session.require(request)
    title = read(lambda db: teams.get_campaign(db, campaign_id).title)
    return _list_page(
        request,
        reviews.Scope("campaign", campaign_id),
        title=title,
        back=f"/c/{campaign_id}",
        base=f"/c/{campaign_id}/reviews",
    )


@router.get("/w/{listing_id}/reviews")
def wave_reviews(request: Request, listing_id: int) -> Response:
    """A wave's reviews: for whoever may see the wave (its share link included)."""
    who = session.current(request)
    share = (request.query_params.get("share") or "")[:64] or None

    def load(db: Session) -> tuple[int, str]:
        listing = pools.visible_listing(
            db,
            listing_id,
            user_id=who.user_id if who else None,
            operator=who is not None and who.role == "operator",
            share=share,
        )
        return listing.wave_id, pools.get_wave(db, listing.wave_id).title

    wave_id, title = read(load)
    suffix = f"?share={share}" if share else ""
    return _list_page(
        request,
        reviews.Scope("wave", wave_id),
        title=title,
        back=f"/w/{listing_id}{suffix}",
        base=f"/w/{listing_id}/reviews",
    )


@router.get("/reviews/{review_id}")
def one_review(request: Request, review_id: int) -> Response:
    """One review: published, for everyone; held or hidden, for its author (with its state),
    the community's leader and operators."""
    who = session.current(request)
    with unit_of_work(readonly=True) as db:
        found = reviews.get_visible(
            db,
            review_id,
            viewer_id=who.user_id if who else None,
            operator=who is not None and who.role == "operator",
        )
        card = _cards(db, [found])[0]
        liked = bool(reviews.liked_by(db, who.user_id if who else None, [found.id]))
    mine = who is not None and who.user_id == found.user_id
    context = {"card": card, "mine": mine, "liked": liked}
    return render(request, "member/reviews/one.html", context)


@router.post("/reviews/{review_id}/like")
def like_review(request: Request, review_id: int, form: Form, who: PageBuyer) -> Response:
    """Mark a review helpful: once per member (a second press changes nothing), never
    one's own."""
    # The button is disabled on one's own review: a forced press does nothing.
    with contextlib.suppress(review_errors.CannotLikeOwnReview):
        run_in_transaction(lambda db: reviews.like(db, user_id=who.user_id, review_id=review_id))
    return RedirectResponse(f"/reviews/{review_id}", status_code=303)


# ---------------------------------------------------------------- writing one


def _form_context(
    request: Request, order_id: int, line_id: int, who: Principal, state: FormState
) -> dict[str, Any]:
    with unit_of_work(readonly=True) as db:
        try:
            order = orders.get_for_user(db, order_id, who.user_id)
        except orders.errors.NotYourOrder as exc:  # the same 404 as a missing order
            raise orders.errors.OrderNotFound() from exc
        lines = order_reviews(db, order)
    line = next((x for x in lines if x["line"].line_id == line_id), None)
    return {
        "order_id": order_id,
        "line": line["line"] if line else None,
        "reviewed": bool(line and line["card"]),
        "completed": bool(lines),
        "form": state,
        "key": once.new_key(),
        "max_photos": rules.MAX_PHOTOS,
        "text_max": rules.TEXT_MAX,
    }


@router.get("/orders/{order_id}/review")
def review_form(request: Request, order_id: int, who: PageBuyer) -> Response:
    """The review form of one line of the member's completed order (``?line=``)."""
    line_text = request.query_params.get("line", "0")
    line_id = int(line_text) if line_text.isdigit() and len(line_text) < 10 else -1
    state = FormState(values={"rating": "5", "line": str(line_id)})
    context = _form_context(request, order_id, line_id, who, state)
    if context["reviewed"]:
        return _redirect(f"/orders/{order_id}#reviews")
    return render(request, "member/reviews/form.html", context)


async def _uploads(form: Any) -> list[tuple[str, bytes]]:
    found = []
    for item in form.getlist("photos"):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read(MAX_PHOTO_BYTES + 1)
            found.append((item.content_type or "", data))
    return found


@router.post("/orders/{order_id}/review")
async def write_review(request: Request, order_id: int, form: Form) -> Response:
    uploads = await _uploads(form)
    return await run_in_threadpool(_write, request, order_id, form, uploads)


def _write(
    request: Request, order_id: int, form: Any, uploads: list[tuple[str, bytes]]
) -> Response:
    import hashlib

    who = session.require_buyer(request)
    state = FormState.of(form)
    line_text = state.get("line")
    line_id = int(line_text) if line_text.isdigit() and len(line_text) < 10 else -1
    rating = state.integer(request, "rating", low=rules.MIN_RATING, high=rules.MAX_RATING)
    state.at_most(request, "text", rules.TEXT_MAX)
    if len(uploads) > rules.MAX_PHOTOS:
        state.add(request, "photos", "At most 9 photos")
    if state.ok and rating is not None:
        text = state.text("text")
        body = {
            "line": line_id,
            "rating": rating,
            "text": text,
            "photos": [hashlib.sha256(data).hexdigest() for _, data in uploads],
        }

        def work(db: Session) -> dict[str, Any]:
            ids = [
                photos.upload(db, user_id=who.user_id, content_type=kind, data=data).id
                for kind, data in uploads
            ]
            review = reviews.write(
                db,
                user_id=who.user_id,
                order_id=order_id,
                line_id=line_id,
                rating=rating,
                text=text,
                photo_ids=[str(i) for i in ids],
            )
            return {"review_id": review.id}

        try:
            once.do(request, who, state.get("idem"), body, work)
            return _redirect(f"/orders/{order_id}?done=reviewed#reviews")
        except orders.errors.OrderNotFound:
            raise
        except DomainError as exc:
            field = str(exc.extra.get("field") or "")
            target = {"rating": "rating", "text": "text"}.get(field, "")
            if not target and field.startswith("photo"):
                target = "photos"
            if not target and exc.code.startswith("photo"):
                target = "photos"
            state.errors.setdefault(target or "_form", page_errors.message(request, exc))
    context = _form_context(request, order_id, line_id, who, state)
    return render(request, "member/reviews/form.html", context, status_code=400)


# ---------------------------------------------------------------- answering: leader, supplier


def _answer_page(request: Request, who: Principal, *, as_leader: bool) -> Response:
    def load(db: Session) -> list[dict[str, Any]]:
        if as_leader:
            found = reviews.awaiting_reply(db, leader_user_id=who.user_id)
        else:
            found = reviews.awaiting_reply(db, supplier_id=who.supplier_id)
        return _cards(db, found)

    context = {
        "cards": read(load),
        "as_leader": as_leader,
        "action": "/leader/reviews" if as_leader else "/supplier/reviews",
        "done": request.query_params.get("done", ""),
        "form": FormState(),
        "form_review": None,
        "reply_max": rules.REPLY_MAX,
    }
    return render(request, "member/reviews/answer.html", context)


def _leader(request: Request) -> Principal:
    who = session.require(request)
    if read(lambda db: communities.find_leader_by_user(db, who.user_id)) is None:
        from tuangou.web.pages.leader import NotALeader

        raise NotALeader()
    return who


@router.get("/leader/reviews")
def leader_reviews(request: Request) -> Response:
    """The reviews of the leader's waves not answered yet, each with its reply form."""
    return _answer_page(request, _leader(request), as_leader=True)


@router.get("/supplier/reviews")
def supplier_reviews(request: Request) -> Response:
    """The reviews of the supplier's goods not answered yet, each with its reply form."""
    return _answer_page(request, session.require(request, "supplier"), as_leader=False)


def _reply(
    request: Request, review_id: int, form: Any, who: Principal, *, as_leader: bool
) -> Response:
    state = FormState.of(form)
    state.required(request, "text")
    state.at_most(request, "text", rules.REPLY_MAX)
    base = "/leader/reviews" if as_leader else "/supplier/reviews"
    if state.ok:
        try:
            run_in_transaction(
                lambda db: reviews.reply(
                    db,
                    review_id=review_id,
                    user_id=who.user_id,
                    role=who.role,
                    supplier_id=who.supplier_id,
                    text=state.text("text"),
                )
            )
            return _redirect(f"{base}?done=replied")
        except DomainError as exc:
            state.refuse(request, exc, "text")
    context = {
        "cards": read(
            lambda db: _cards(
                db,
                reviews.awaiting_reply(db, leader_user_id=who.user_id)
                if as_leader
                else reviews.awaiting_reply(db, supplier_id=who.supplier_id),
            )
        ),
        "as_leader": as_leader,
        "action": base,
        "done": "",
        "form": state,
        "form_review": review_id,
        "reply_max": rules.REPLY_MAX,
    }
    return render(request, "member/reviews/answer.html", context, status_code=400)


@router.post("/leader/reviews/{review_id}/reply")
def leader_reply(request: Request, review_id: int, form: Form) -> Response:
    return _reply(request, review_id, form, _leader(request), as_leader=True)


@router.post("/supplier/reviews/{review_id}/reply")
def supplier_reply(request: Request, review_id: int, form: Form) -> Response:
    return _reply(request, review_id, form, session.require(request, "supplier"), as_leader=False)
