"""Posts over HTTP: the feeds, a post and its replies, likes, shares, pins, the day's deal, and
the leader's posting rhythm. Writes accept an ``Idempotency-Key``.

A rhythm refusal (``rhythm_limited``, 429 with ``retry_after`` and ``Retry-After``) is not
stored under the request's key: it says "not yet", so the same request retried with the same
key once the wait is over is judged again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.accounts.service import Principal
from tuangou.api.deps import Caller, IdemKey, Member, idempotent
from tuangou.core.config import get_settings
from tuangou.core.db import unit_of_work
from tuangou.posts import errors, schemas
from tuangou.posts import service as posts

router = APIRouter(tags=["posts"])

Cursor = Query(default=None, max_length=200, description="the next_cursor of the page before")


def _base(request: Request) -> str:
    return (get_settings().public_url or str(request.base_url)).rstrip("/")


def _viewer(who: Principal) -> posts.Viewer:
    return posts.Viewer(user_id=who.user_id, operator=who.role == "operator")


_KEY_USED = text("SELECT 1 FROM idempotency_records WHERE scope = :s AND key = :k")


class _NotStored(Exception):
    def __init__(self, refusal: errors.RhythmLimited) -> None:
        self.refusal = refusal


def _write(
    request: Request,
    who: Principal,
    key: str | None,
    body: Any,
    work: Callable[[Session], Any],
    status_code: int = 200,
) -> JSONResponse:
    def unstored(session: Session) -> Any:
        try:
            return work(session)
        except errors.RhythmLimited as refusal:
            if key is not None and session.scalar(
                _KEY_USED, {"s": f"user:{who.user_id}", "k": key}
            ):
                # A retry of a request that went through: the key's stored answer is the
                # answer (the idempotency layer replays it on the key's unique index).
                raise IntegrityError("key already used", None, refusal) from None
            raise _NotStored(refusal) from None

    try:
        return idempotent(
            request, who=who, key=key, body=body, work=unstored, status_code=status_code
        )
    except _NotStored as wrapped:
        raise wrapped.refusal from None


@router.get("/communities/{community_id}/posts", response_model=schemas.FeedOut)
def community_feed(community_id: int, who: Caller, cursor: str | None = Cursor) -> Any:
    """A community's feed, newest first, its pinned posts on the first page's top; for its
    members and operators (others: 404)."""
    with unit_of_work(readonly=True) as session:
        page = posts.community_feed(session, community_id, _viewer(who), cursor=cursor)
        return schemas.FeedOut.of(page)


@router.get("/feed", response_model=schemas.FeedOut)
def home_feed(who: Member, cursor: str | None = Cursor) -> Any:
    """The caller's home feed: the posts of all their communities, newest first."""
    with unit_of_work(readonly=True) as session:
        return schemas.FeedOut.of(posts.home_feed(session, who.user_id, cursor=cursor))


@router.post("/communities/{community_id}/posts", status_code=201, response_model=schemas.PostOut)
def create_post(
    community_id: int, body: schemas.PostIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Post in a community you belong to (``not_a_member`` otherwise). Held for review
    (``status: held``) if the text filter matches. Refused by the rhythm with
    ``rhythm_limited`` (429, ``retry_after``)."""

    def work(session: Session) -> dict[str, Any]:
        post = posts.create_post(
            session,
            user_id=who.user_id,
            community_id=community_id,
            body=body.text,
            photo_ids=body.photo_ids,
            campaign_id=body.campaign_id,
            listing_id=body.listing_id,
        )
        view = posts.post_view(session, post.id, posts.Viewer(who.user_id))
        return schemas.PostOut.of(view).model_dump()

    return _write(request, who, key, body.model_dump(), work, 201)


@router.get("/posts/{post_id}", response_model=schemas.PostOut)
def get_post(post_id: int, who: Caller) -> Any:
    with unit_of_work(readonly=True) as session:
        return schemas.PostOut.of(posts.post_view(session, post_id, _viewer(who)))


@router.delete("/posts/{post_id}", response_model=schemas.PostOut)
def delete_post(post_id: int, request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """The author deletes their post."""

    def work(session: Session) -> dict[str, Any]:
        post = posts.delete_post(session, who.user_id, post_id)
        view = posts.views(session, [post], posts.Viewer(who.user_id))[0]
        return schemas.PostOut.of(view).model_dump()

    return _write(request, who, key, None, work)


@router.post("/posts/{post_id}/replies", status_code=201, response_model=schemas.ReplyOut)
def reply(
    post_id: int, body: schemas.ReplyIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Reply on a post (``reply_to_id``: the reply you answer). The author hears of it."""

    def work(session: Session) -> dict[str, Any]:
        made = posts.add_reply(
            session,
            user_id=who.user_id,
            post_id=post_id,
            body=body.text,
            reply_to_id=body.reply_to_id,
        )
        return schemas.ReplyOut.of(posts.reply_view(session, made, who.user_id)).model_dump()

    return _write(request, who, key, body.model_dump(), work, 201)


@router.get("/posts/{post_id}/replies", response_model=schemas.RepliesOut)
def replies(post_id: int, who: Caller, cursor: str | None = Cursor) -> Any:
    """A post's replies, oldest first, paged by cursor."""
    with unit_of_work(readonly=True) as session:
        page = posts.replies(session, post_id, _viewer(who), cursor=cursor)
        return schemas.RepliesOut.model_construct(
            items=[schemas.ReplyOut.of(r) for r in page.items], next_cursor=page.next_cursor
        )


def _like(request: Request, who: Principal, key: str | None, post_id: int, on: bool) -> Any:
    def work(session: Session) -> dict[str, Any]:
        post = (posts.like if on else posts.unlike)(session, who.user_id, post_id)
        return schemas.LikeOut.model_construct(
            post_id=post.id, liked=on, like_count=post.like_count
        ).model_dump()

    return _write(request, who, key, None, work)


@router.put("/posts/{post_id}/like", response_model=schemas.LikeOut)
def like(post_id: int, request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """Like a post (again: no change)."""
    return _like(request, who, key, post_id, True)


@router.delete("/posts/{post_id}/like", response_model=schemas.LikeOut)
def unlike(post_id: int, request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """Take your like back (none: no change)."""
    return _like(request, who, key, post_id, False)


@router.post("/posts/{post_id}/share", response_model=schemas.ShareOut)
def share(post_id: int, request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """Count a share; the reply carries the link and a line to send with it."""

    def work(session: Session) -> dict[str, Any]:
        post = posts.share(session, who.user_id, post_id)
        return schemas.ShareOut.model_construct(
            post_id=post.id,
            share_count=post.share_count,
            url=_base(request) + f"/posts/{post.id}",
            text=posts.rules.excerpt(post.text, 40),
        ).model_dump()

    return _write(request, who, key, None, work)


def _pin(request: Request, who: Principal, key: str | None, post_id: int, on: bool) -> Any:
    def work(session: Session) -> dict[str, Any]:
        post = posts.pin(session, _viewer(who), post_id, pinned=on)
        return schemas.PostOut.of(posts.views(session, [post], _viewer(who))[0]).model_dump()

    return _write(request, who, key, None, work)


@router.put("/posts/{post_id}/pin", response_model=schemas.PostOut)
def pin(post_id: int, request: Request, who: Caller, key: IdemKey = None) -> JSONResponse:
    """The community's leader or an admin (or an operator) pins a post: 3 at most
    (``pin_limit``)."""
    return _pin(request, who, key, post_id, True)


@router.delete("/posts/{post_id}/pin", response_model=schemas.PostOut)
def unpin(post_id: int, request: Request, who: Caller, key: IdemKey = None) -> JSONResponse:
    return _pin(request, who, key, post_id, False)


@router.put("/posts/{post_id}/deal-of-day", response_model=schemas.PostOut)
def deal_of_day(post_id: int, request: Request, who: Caller, key: IdemKey = None) -> JSONResponse:
    """Mark a deal post as the community's deal of the day (今日推荐); it replaces today's
    earlier mark."""

    def work(session: Session) -> dict[str, Any]:
        post = posts.mark_day_deal(session, _viewer(who), post_id)
        return schemas.PostOut.of(posts.views(session, [post], _viewer(who))[0]).model_dump()

    return _write(request, who, key, None, work)


@router.get(
    "/leader/communities/{community_id}/rhythm",
    response_model=schemas.RhythmOut,
    tags=["leaders"],
)
def rhythm(community_id: int, who: Member) -> Any:
    """The community's posting rhythm, with the operator's bound and the new members' limits."""
    with unit_of_work(readonly=True) as session:
        return schemas.RhythmOut.of(posts.leader_rhythm(session, who.user_id, community_id))


@router.put(
    "/leader/communities/{community_id}/rhythm",
    response_model=schemas.RhythmOut,
    tags=["leaders"],
)
def set_rhythm(
    community_id: int, body: schemas.RhythmIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """The leader sets deal posts a day (within the operator's bound) and optional posting
    hours."""

    def work(session: Session) -> dict[str, Any]:
        view = posts.set_rhythm(
            session,
            who.user_id,
            community_id,
            deals_per_day=body.deals_per_day,
            opens=body.opens,
            closes=body.closes,
        )
        return schemas.RhythmOut.of(view).model_dump()

    return _write(request, who, key, body.model_dump(), work)
