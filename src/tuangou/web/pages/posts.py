"""Community life on the pages: the home feed (``/feed``, from the 社群 tab), a community's
feed (``/communities/{id}/posts``), the composer with photos, a post with its replies, the
like, pin and day's-deal buttons, and the leader's posting rhythm.

Each handler parses the form, calls the posts service (as ``posts/router.py`` does) inside one
transaction, and renders; a refusal comes back next to the field it concerns, and a rhythm
refusal says when the member may write again. The composer and the reply box carry a one-time
key (:mod:`tuangou.web.once`): a double submit posts once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tuangou.accounts.service import Principal
from tuangou.communities import errors as community_errors
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.photos import service as photos
from tuangou.posts import errors as post_errors
from tuangou.posts import rules as post_rules
from tuangou.posts import service as posts
from tuangou.web import i18n, once, session
from tuangou.web.forms import FormState
from tuangou.web.session import Form, PageBuyer, PageUser
from tuangou.web.templating import absolute_url, language, render

router = APIRouter()

PHOTO_BYTES = 10 * 1024 * 1024  # what the photos domain takes; larger is refused there too


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _viewer(who: Principal) -> posts.Viewer:
    return posts.Viewer(who.user_id, operator=who.role == "operator")


def rhythm_message(request: Request, exc: DomainError) -> str:
    """A rhythm refusal in the member's words, saying when they may write again."""
    lang = language(request)
    retry_at = exc.extra.get("retry_at")
    reasons = {
        "deal_cap": i18n.lazy("Today's deal posts in this community are used up."),
        "hours": i18n.lazy("This community is outside its posting hours."),
        "post_gap": i18n.lazy("New members post at most once every two minutes."),
        "reply_gap": i18n.lazy("New members reply at most once every 30 seconds."),
        "first_day_replies": i18n.lazy("New members' replies for their first day are used up."),
    }
    why = i18n.gettext(lang, reasons.get(str(exc.extra.get("reason")), exc.title))
    if not isinstance(retry_at, str):
        return why
    when = clock.to_local(datetime.fromisoformat(retry_at))
    today = clock.to_local(clock.now()).date()
    shown = when.strftime("%H:%M") if when.date() == today else when.strftime("%m-%d %H:%M")
    again = i18n.gettext(lang, i18n.lazy("You may post again at %(time)s.")) % {"time": shown}
    return f"{why} {again}"


def _refuse(request: Request, state: FormState, exc: DomainError, default: str) -> None:
    if exc.code == post_errors.PostErrorCode.RHYTHM_LIMITED:
        state.errors.setdefault("_form", rhythm_message(request, exc))
    else:
        field = str(exc.extra.get("field") or "")
        target = {"text": "text", "photo_ids": "photos", "photo": "photos"}.get(field, default)
        state.refuse(request, exc, target)


# ---------------------------------------------------------------- feeds


@router.get("/feed")
def home_feed(request: Request, who: PageUser, cursor: str | None = None) -> Response:
    """The home feed: the posts of all my communities, newest first (the 社群 tab links it)."""
    page = read(lambda db: posts.home_feed(db, who.user_id, cursor=cursor))
    mine = read(lambda db: communities.communities_of(db, who.user_id))
    return render(
        request,
        "member/posts/feed.html",
        {"page": page, "community": None, "communities": mine, "cursor": cursor},
    )


@router.get("/communities/{community_id}/posts")
def community_feed(
    request: Request, community_id: int, who: PageUser, cursor: str | None = None
) -> Response:
    viewer = _viewer(who)

    def load(db: Session) -> dict[str, Any]:
        page = posts.community_feed(db, community_id, viewer, cursor=cursor)
        community = communities.get_community(db, community_id)
        leader = communities.get_leader(db, community.leader_id).user_id == who.user_id
        return {
            "page": page,
            "community": community,
            "moderator": posts.can_moderate(db, community_id, viewer),
            "is_leader": leader,
            "member": communities.is_member(db, community_id, who.user_id),
        }

    context = read(load)
    context.update(cursor=cursor, done=request.query_params.get("done"))
    return render(request, "member/posts/feed.html", context)


# ---------------------------------------------------------------- the composer


def _compose_context(
    request: Request, community_id: int, who: Principal, state: FormState
) -> dict[str, Any]:
    def load(db: Session) -> dict[str, Any]:
        community = communities.get_community(db, community_id)
        if not communities.is_member(db, community_id, who.user_id):
            raise community_errors.CommunityNotFound()
        return {"community": community, "deals": posts.deal_choices(db, community_id)}

    context = read(load)
    context.update(
        form=state,
        key=once.new_key(),
        max_photos=post_rules.PHOTOS_MAX,
        max_text=post_rules.TEXT_MAX,
    )
    return context


@router.get("/communities/{community_id}/posts/new")
def compose_page(request: Request, community_id: int, who: PageBuyer) -> Response:
    deal = request.query_params.get("deal", "")
    state = FormState(values={"deal": deal})
    return render(
        request, "member/posts/compose.html", _compose_context(request, community_id, who, state)
    )


async def _uploads(form: Any) -> list[tuple[str, bytes]]:
    found = []
    for item in form.getlist("photos"):
        if isinstance(item, UploadFile) and item.filename:
            found.append((item.content_type or "", await item.read(PHOTO_BYTES + 1)))
    return found


@router.post("/communities/{community_id}/posts/new")
async def compose(request: Request, community_id: int, form: Form) -> Response:
    uploads = await _uploads(form)
    return await run_in_threadpool(_compose, request, community_id, form, uploads)


def _deal_link(value: str) -> tuple[int | None, int | None]:
    kind, _, number = value.partition(":")
    if not number.isdigit() or int(number) > 2**31 - 1:
        return None, None
    return (int(number), None) if kind == "campaign" else (None, int(number))


def _compose(
    request: Request, community_id: int, form: Any, uploads: list[tuple[str, bytes]]
) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    state.required(request, "text")
    state.at_most(request, "text", post_rules.TEXT_MAX)
    if len(uploads) > post_rules.PHOTOS_MAX:
        state.add(request, "photos", "At most 9 photos")
    for _, data in uploads:
        if len(data) > PHOTO_BYTES:
            state.add(request, "photos", "A photo may be at most 10 MB")
    campaign_id, listing_id = _deal_link(state.text("deal")) if state.text("deal") else (None, None)
    if state.text("deal") and campaign_id is None and listing_id is None:
        state.add(request, "deal", "Choose a deal from the list")
    if state.ok:
        text = state.text("text")
        body = {
            "text": text,
            "deal": state.text("deal"),
            "photos": [hashlib.sha256(data).hexdigest() for _, data in uploads],
        }

        def work(db: Session) -> dict[str, Any]:
            ids = [
                photos.upload(db, user_id=who.user_id, content_type=kind, data=data).id
                for kind, data in uploads
            ]
            post = posts.create_post(
                db,
                user_id=who.user_id,
                community_id=community_id,
                body=text,
                photo_ids=ids,
                campaign_id=campaign_id,
                listing_id=listing_id,
            )
            return {"post_id": post.id, "status": post.status}

        try:
            done = once.do(request, who, state.get("idem"), body, work)
            flag = "held" if done["status"] == post_rules.PostStatus.HELD else "posted"
            return _redirect(f"/communities/{community_id}/posts?done={flag}")
        except DomainError as exc:
            if exc.status == 404 and exc.code == "community_not_found":
                raise
            _refuse(request, state, exc, "_form")
    context = _compose_context(request, community_id, who, state)
    return render(request, "member/posts/compose.html", context, status_code=400)


# ---------------------------------------------------------------- a post and its replies


def _post_context(
    request: Request, post_id: int, who: Principal, state: FormState
) -> dict[str, Any]:
    viewer = _viewer(who)

    def load(db: Session) -> dict[str, Any]:
        view = posts.post_view(db, post_id, viewer)
        replies = posts.replies(db, post_id, viewer, cursor=request.query_params.get("cursor"))
        return {
            "v": view,
            "replies": replies,
            "moderator": posts.can_moderate(db, view.post.community_id, viewer),
            "member": communities.is_member(db, view.post.community_id, who.user_id),
        }

    context = read(load)
    context.update(
        form=state,
        key=once.new_key(),
        share_url=absolute_url(request, f"/posts/{post_id}"),
        done=request.query_params.get("done"),
        max_reply=post_rules.REPLY_MAX,
    )
    return context


@router.get("/posts/{post_id}")
def post_page(request: Request, post_id: int, who: PageUser) -> Response:
    state = FormState(values={"reply_to": request.query_params.get("reply_to", "")})
    return render(request, "member/posts/post.html", _post_context(request, post_id, who, state))


@router.post("/posts/{post_id}/replies")
def reply(request: Request, post_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    state.required(request, "text")
    state.at_most(request, "text", post_rules.REPLY_MAX)
    reply_to = state.text("reply_to")
    reply_to_id = int(reply_to) if reply_to.isdigit() and int(reply_to) < 2**31 else None
    if state.ok:
        text = state.text("text")

        def work(db: Session) -> dict[str, Any]:
            made = posts.add_reply(
                db, user_id=who.user_id, post_id=post_id, body=text, reply_to_id=reply_to_id
            )
            return {"reply_id": made.id}

        try:
            done = once.do(request, who, state.get("idem"), {"text": text, "to": reply_to}, work)
            return _redirect(f"/posts/{post_id}?done=replied#r-{done['reply_id']}")
        except post_errors.PostNotFound:
            raise
        except DomainError as exc:
            _refuse(request, state, exc, "text")
    context = _post_context(request, post_id, who, state)
    return render(request, "member/posts/post.html", context, status_code=400)


def _act(request: Request, post_id: int, form: Form, action: str) -> Response:
    who = session.require(request)
    viewer = _viewer(who)

    def work(db: Session) -> int:
        if action in ("like", "unlike", "share", "delete") and viewer.operator:
            raise post_errors.PostNotFound()
        if action == "like":
            post = posts.like(db, who.user_id, post_id)
        elif action == "unlike":
            post = posts.unlike(db, who.user_id, post_id)
        elif action == "delete":
            post = posts.delete_post(db, who.user_id, post_id)
        elif action in ("pin", "unpin"):
            post = posts.pin(db, viewer, post_id, pinned=action == "pin")
        else:
            post = posts.mark_day_deal(db, viewer, post_id)
        return post.community_id

    community_id = run_in_transaction(work)
    if action == "delete":
        return _redirect(f"/communities/{community_id}/posts?done=deleted")
    target = session.safe_next(str(form.get("next") or ""), f"/posts/{post_id}")
    return _redirect(target)


@router.post("/posts/{post_id}/like")
def like(request: Request, post_id: int, form: Form) -> Response:
    return _act(request, post_id, form, "like")


@router.post("/posts/{post_id}/unlike")
def unlike(request: Request, post_id: int, form: Form) -> Response:
    return _act(request, post_id, form, "unlike")


@router.post("/posts/{post_id}/pin")
def pin(request: Request, post_id: int, form: Form) -> Response:
    return _act(request, post_id, form, "pin")


@router.post("/posts/{post_id}/unpin")
def unpin(request: Request, post_id: int, form: Form) -> Response:
    return _act(request, post_id, form, "unpin")


@router.post("/posts/{post_id}/deal-of-day")
def deal_of_day(request: Request, post_id: int, form: Form) -> Response:
    return _act(request, post_id, form, "deal")


@router.post("/posts/{post_id}/delete")
def delete(request: Request, post_id: int, form: Form) -> Response:
    return _act(request, post_id, form, "delete")


# ---------------------------------------------------------------- the leader's rhythm


def _rhythm_context(community_id: int, who: Principal, state: FormState | None) -> dict[str, Any]:
    def load(db: Session) -> dict[str, Any]:
        view = posts.leader_rhythm(db, who.user_id, community_id)
        return {"view": view, "community": communities.get_community(db, community_id)}

    context = read(load)
    view: posts.RhythmView = context["view"]
    if state is None:
        r = view.rhythm
        state = FormState(
            values={
                "deals_per_day": str(r.deals_per_day),
                "opens": r.opens.strftime("%H:%M") if r.opens else "",
                "closes": r.closes.strftime("%H:%M") if r.closes else "",
            }
        )
    context["form"] = state
    return context


@router.get("/leader/communities/{community_id}/rhythm")
def rhythm_page(request: Request, community_id: int, who: PageBuyer) -> Response:
    context = _rhythm_context(community_id, who, None)
    context["done"] = request.query_params.get("done")
    return render(request, "leader/posts/rhythm.html", context)


@router.post("/leader/communities/{community_id}/rhythm")
def set_rhythm(request: Request, community_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    bound = read(lambda db: posts.leader_rhythm(db, who.user_id, community_id).bound)
    deals = state.integer(request, "deals_per_day", low=0, high=bound)
    if state.ok and deals is not None:
        try:
            run_in_transaction(
                lambda db: posts.set_rhythm(
                    db,
                    who.user_id,
                    community_id,
                    deals_per_day=deals,
                    opens=state.text("opens") or None,
                    closes=state.text("closes") or None,
                )
            )
            return _redirect(f"/leader/communities/{community_id}/rhythm?done=saved")
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            state.refuse(request, exc, "opens")
    context = _rhythm_context(community_id, who, state)
    return render(request, "leader/posts/rhythm.html", context, status_code=400)
