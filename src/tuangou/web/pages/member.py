"""The member pages: a wave (接龙) to order in, my orders with their timeline and pickup code,
after-sales with photos, the inbox, my communities and joining one, and 我的.

Each handler parses the form, calls the domain's service (as its ``router.py`` does) inside
one transaction, and renders; refusals come back next to the field they concern. Forms that
create an order, a payment or an after-sale case carry a one-time key (``idem``) and run
through :mod:`tuangou.web.once`, so a double submit creates nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from tuangou.accounts import service as accounts
from tuangou.accounts.service import Principal
from tuangou.achievements import service as achievements
from tuangou.aftersales import rules as aftersale_rules
from tuangou.aftersales import service as aftersales
from tuangou.api.deps import screen
from tuangou.communities import errors as community_errors
from tuangou.communities import service as communities
from tuangou.core.config import get_settings
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError, InvalidInput
from tuangou.core.schemas import Out
from tuangou.fulfilment import service as fulfilment
from tuangou.notifications import service as notifications
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.points import service as points
from tuangou.pools import errors as pool_errors
from tuangou.pools import rules as pools_rules
from tuangou.pools import service as pools
from tuangou.teams import service as teams
from tuangou.web import errors as page_errors
from tuangou.web import i18n, once, responses, session, status, views, wayout
from tuangou.web.forms import FormState
from tuangou.web.pages import coupons as coupon_pages
from tuangou.web.pages import moderation as moderation_pages
from tuangou.web.pages import recommend as recommend_pages
from tuangou.web.pages import reviews as review_pages
from tuangou.web.session import Form, PageBuyer, PageUser
from tuangou.web.templating import absolute_url, language, render, translate

router = APIRouter()


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# ---------------------------------------------------------------- the wave (接龙)


def _wave_context(request: Request, listing_id: int) -> dict[str, Any]:
    """The wave for its community's members, its leader and operators, and for invitees: the
    share link carries the listing's token (``?share=``). Anyone else gets 404."""
    who = session.current(request)
    share = request.query_params.get("share") or None
    with unit_of_work(readonly=True) as db:
        page = views.wave_page(
            db,
            listing_id,
            who.user_id if who else None,
            operator=who is not None and who.role == "operator",
            share=share[:64] if share else None,
            chain_cursor=(request.query_params.get("chain") or "")[:200] or None,
        )
        choice = coupon_pages.checkout_choice(db, who, "wave")
    return {
        **choice,
        "page": page,
        "key": once.new_key(),
        "share_url": absolute_url(request, page.share_path),
        "poster_url": pools_rules.poster_path(page.listing.id, page.listing.share_token),
        "back_url": _wave_back(request, page),
        "reviews_block": review_pages.wave_block(
            page.listing.id, page.listing.wave_id, share[:64] if share else None
        ),
    }


# The pages a member opens a wave from: the home and 我的社区 (their communities' waves).
_WAVE_FROM = ("/", "/communities")


def _wave_back(request: Request, page: views.WavePage) -> str:
    """Where the wave page's back arrow leads: the page of this site the member came from (the
    home, with its search, or their communities), else their communities for a member of the
    wave's community, else the home (a visitor who came by a share link)."""
    came = urlsplit(request.headers.get("referer", ""))
    if came.netloc == request.url.netloc and came.path in _WAVE_FROM:
        return came.path + (f"?{came.query}" if came.query else "")
    return "/communities" if page.is_member else "/"


def _limit_message(request: Request, values: dict[str, Any]) -> str:
    if values["left"]:
        return translate(
            request, "At most %(limit)s per member: you may add %(left)s more", **values
        )
    return translate(request, "At most %(limit)s per member: you have ordered them all", **values)


def _item_for(page: views.WavePage, exc: DomainError) -> str:
    """Which item a refusal names (the service says it in its detail), else the form."""
    if exc.code in (pool_errors.AboveLimit.code, pool_errors.SoldOut.code):
        for item in sorted(page.items, key=lambda i: -len(i.title)):
            if item.title and item.title in exc.detail:
                return f"qty_{item.id}"
    if exc.code == pool_errors.BelowLimit.code:
        return "_items"
    if isinstance(exc, InvalidInput) and exc.extra.get("field") == "remark":
        return "remark"
    if exc.extra.get("field") == "coupon_id":
        return "coupon_id"
    return "_form"


@router.get("/w/{listing_id}")
def wave(request: Request, listing_id: int) -> Response:
    context = _wave_context(request, listing_id)
    context["form"] = FormState()
    return render(request, "member/wave.html", context)


@router.post("/w/{listing_id}")
def place_order(request: Request, listing_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    context = _wave_context(request, listing_id)
    page: views.WavePage = context["page"]
    quantities: dict[int, int] = {}
    for item in page.items:
        name = f"qty_{item.id}"
        if state.text(name) in ("", "0"):
            continue
        value = state.integer(request, name, low=0, high=9999)
        if value:
            quantities[item.id] = value
    if state.ok and not quantities:
        state.add(request, "_items", "Choose at least one item with +")
    if len(state.text("remark")) > 200:
        state.add(request, "remark", "At most 200 characters")
    coupon_id = coupon_pages.coupon_id_of(request, state)
    if state.ok:
        remark = state.text("remark")
        body = {
            "items": {str(k): v for k, v in sorted(quantities.items())},
            "remark": remark,
            "coupon_id": coupon_id,
        }

        def work(db: Session) -> dict[str, Any]:
            placed = pools.place_order(
                db,
                user_id=who.user_id,
                listing_id=listing_id,
                quantities=quantities,
                remark=remark,
                coupon_id=coupon_id,
            )
            screen(
                request,
                db,
                type="order",
                actor=who.user_id,
                target=f"order:{placed.order.id}",
                amount_fen=placed.order.amount,
                cookie=True,
            )
            return {"order_id": placed.order.id, "payment_id": placed.started.payment.id}

        try:
            done = once.do(request, who, state.get("idem"), body, work)
            return _redirect(f"/pay/{done['payment_id']}")
        except DomainError as exc:
            field = _item_for(page, exc)
            if exc.code == pool_errors.AboveLimit.code and "left" in exc.extra:
                # Say how many more, not only that it is too many.
                values = {"limit": exc.extra["limit"], "left": exc.extra["left"]}
                state.errors.setdefault(field, _limit_message(request, values))
            state.refuse(request, exc, field)
            context = _wave_context(request, listing_id)  # fresh counts and a new form key
            context["not_member"] = exc.code == pool_errors.NotCommunityMember.code
            context["form"] = state
            return render(request, "member/wave.html", context, status_code=exc.status)
    context["form"] = state
    return render(request, "member/wave.html", context, status_code=400)


# ---------------------------------------------------------------- orders


@router.get("/orders")
def my_orders(request: Request, who: PageUser, cursor: str | None = None) -> Response:
    """我的订单, with a tab per group of states (``?tab=``), each with its count on this page
    of 50; "More" (更多) opens the next page by its cursor."""
    tab = request.query_params.get("tab", "")
    tab = tab if tab in status.TAB_KEYS else ""
    with unit_of_work(readonly=True) as db:
        cards, more = views.order_cards(db, who.user_id, cursor=cursor)
    counts = {key: sum(1 for c in cards if c.tab == key) for key, _ in status.TABS}
    shown = [c for c in cards if not tab or c.tab == tab]
    context = {
        "cards": shown,
        "tab": tab,
        "tabs": status.TABS,
        "counts": counts,
        "all": len(cards),
        "more": more,
    }
    return render(request, "member/orders.html", context)


class OrderStateOut(Out):
    """What a page waiting for a payment's confirmation asks for (app.js polls it)."""

    order_id: int
    state: str
    confirming: bool


@router.get("/orders/{order_id}/state", response_model=OrderStateOut)
def order_state(order_id: int, who: PageUser) -> OrderStateOut:
    """The state of the member's own order (``orders.rules.display_status``): ``confirming`` is
    true while its payment is in flight (``confirming_payment``)."""
    with unit_of_work(readonly=True) as db:
        try:
            order = orders.get_for_user(db, order_id, who.user_id)
        except orders.errors.NotYourOrder as exc:  # the same 404 as a missing order
            raise orders.errors.OrderNotFound() from exc
        state = views.order_state(db, order)
    return OrderStateOut(order_id=order_id, state=state, confirming=state == status.CONFIRMING)


def _order_context(request: Request, order_id: int, who: Principal) -> dict[str, Any]:
    with unit_of_work(readonly=True) as db:
        page = views.order_page(db, order_id, who.user_id)
        way = wayout.way_out(db, page.order, who.user_id)
        order_reviews = review_pages.order_reviews(db, page.order)
        db_payments = payments.payments_of(db, order_id)
        tracking = (
            fulfilment.order_tracking(db, user_id=who.user_id, order_id=order_id, raw=True)
            if page.order.kind == "wave"
            else None
        )
    return {
        "tracking": tracking,
        "order_reviews": order_reviews,
        "page": page,
        "way": way,
        "poll_url": f"/orders/{order_id}/state" if page.confirming else "",
        "key": once.new_key(),
        "done": request.query_params.get("done", ""),
        "reasons": views.REFUND_REASONS,
        "case_kinds": views.CASE_KINDS,
        "case_status": views.CASE_STATUS,
        "paid_through": _gateway_of(db_payments),
    }


def _gateway_of(tried: list[Any]) -> Any:
    """Which gateway pays the order (its words): its paid payment's, else its latest
    attempt's; nothing for the sandbox."""
    paid = [p for p in tried if p.status == payments.PaymentStatus.SUCCEEDED]
    last = (paid or tried or [None])[-1]
    if last is None or last.gateway == "sandbox":
        return ""
    return status.GATEWAYS.get(last.gateway, last.gateway)


@router.get("/orders/{order_id}")
def order_detail(request: Request, order_id: int, who: PageUser) -> Response:
    context = _order_context(request, order_id, who)
    context["rate_form"] = FormState(values={"stars": "5"})
    context["recommend"] = recommend_pages.row(who, "after_order", order_id)
    return render(request, "member/order.html", context)


def _order_action_failed(
    request: Request, order_id: int, who: Principal, exc: DomainError, status: int = 409
) -> Response:
    context = _order_context(request, order_id, who)
    context["action_error"] = page_errors.message(request, exc)
    context["rate_form"] = FormState(values={"stars": "5"})
    return render(request, "member/order.html", context, status_code=status)


@router.post("/orders/{order_id}/pay")
def pay_order(request: Request, order_id: int, form: Form) -> Response:
    """A new payment attempt for an unpaid order (after a decline, say); then the pay page."""
    who = session.require_buyer(request)
    with unit_of_work(readonly=True) as db:
        views.order_page(db, order_id, who.user_id)  # the owner's order, or "no such order"

    def work(db: Session) -> dict[str, Any]:
        started = payments.start_for_user(db, user_id=who.user_id, order_id=order_id)
        return {"payment_id": started.payment.id}

    try:
        done = once.do(request, who, str(form.get("idem") or ""), None, work)
    except DomainError as exc:
        return _order_action_failed(request, order_id, who, exc)
    return _redirect(f"/pay/{done['payment_id']}")


def _order_action(
    request: Request, order_id: int, action: Callable[..., Any], done: str
) -> Response:
    """One of the member's buttons on their order (``action`` is the service's function)."""
    who = session.require_buyer(request)
    try:
        with unit_of_work() as db:
            views.order_page(db, order_id, who.user_id)  # the owner's order, or "no such order"
            action(db, user_id=who.user_id, order_id=order_id)
    except orders.errors.OrderNotFound:
        raise
    except DomainError as exc:
        return _order_action_failed(request, order_id, who, exc)
    return _redirect(f"/orders/{order_id}?done={done}")


@router.post("/orders/{order_id}/cancel")
def cancel_order(request: Request, order_id: int, form: Form) -> Response:
    return _order_action(request, order_id, orders.cancel, "cancelled")


@router.post("/orders/{order_id}/withdraw")
def withdraw_order(request: Request, order_id: int, form: Form) -> Response:
    """Cancel a paid wave order before the cut-off: a full refund (the page asked first)."""
    return _order_action(request, order_id, pools.cancel_order, "withdrawn")


def _leave(db: Session, *, user_id: int, order_id: int) -> None:
    seat = teams.seat_of(db, order_id)
    if seat is None:
        raise orders.errors.OrderNotFound()
    teams.leave_team(db, user_id=user_id, team_id=seat.team_id)


@router.post("/orders/{order_id}/leave")
def leave_team(request: Request, order_id: int, form: Form) -> Response:
    """Leave the order's team before it forms: a full refund (the page asked first)."""
    return _order_action(request, order_id, _leave, "left")


@router.post("/orders/{order_id}/confirm")
def confirm_receipt(request: Request, order_id: int, form: Form) -> Response:
    return _order_action(request, order_id, orders.confirm_receipt, "received")


@router.post("/orders/{order_id}/rate")
def rate_pickup(request: Request, order_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    stars = state.integer(request, "stars", low=1, high=5)
    if len(state.text("comment")) > aftersale_rules.COMMENT_MAX:
        state.add(request, "comment", "At most 300 characters")
    if state.ok and stars is not None:
        try:
            with unit_of_work() as db:
                views.order_page(db, order_id, who.user_id)
                aftersales.rate_pickup(
                    db,
                    user_id=who.user_id,
                    order_id=order_id,
                    stars=stars,
                    comment=state.text("comment"),
                )
            return _redirect(f"/orders/{order_id}?done=rated")
        except orders.errors.OrderNotFound:
            raise
        except DomainError as exc:
            state.refuse(request, exc, "stars")
    context = _order_context(request, order_id, who)
    context["rate_form"] = state
    return render(request, "member/order.html", context, status_code=400)


# ---------------------------------------------------------------- after-sales


def _aftersale_context(request: Request, order_id: int, who: Principal) -> dict[str, Any]:
    context = _order_context(request, order_id, who)
    context["kinds"] = views.CASE_KINDS
    context["max_photos"] = aftersale_rules.MAX_PHOTOS
    return context


@router.get("/orders/{order_id}/aftersale")
def aftersale_page(request: Request, order_id: int, who: PageBuyer) -> Response:
    context = _aftersale_context(request, order_id, who)
    context["form"] = FormState(values={"kind": "missing"})
    return render(request, "member/aftersale.html", context)


async def _photos(form: Any) -> list[tuple[str, bytes]]:
    found = []
    for item in form.getlist("photos"):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read(aftersale_rules.MAX_PHOTO_BYTES + 1)
            found.append((item.content_type or "", data))
    return found


@router.post("/orders/{order_id}/aftersale")
async def report_aftersale(request: Request, order_id: int, form: Form) -> Response:
    from starlette.concurrency import run_in_threadpool

    photos = await _photos(form)
    return await run_in_threadpool(_report, request, order_id, form, photos)


def _report(
    request: Request, order_id: int, form: Any, photos: list[tuple[str, bytes]]
) -> Response:
    who = session.require_buyer(request)
    context = _aftersale_context(request, order_id, who)
    page: views.OrderPage = context["page"]
    state = FormState.of(form)
    state.required(request, "description")
    if state.get("kind") not in aftersale_rules.KINDS:
        state.add(request, "kind", "Choose what went wrong")
    lines: dict[int | None, int] = {}
    for n, line in enumerate(page.lines):
        name = f"line_{n}"
        if state.text(name) in ("", "0"):
            continue
        value = state.integer(request, name, low=0, high=line.quantity)
        if value:
            lines[line.item_id] = value
    if state.ok and not lines:
        state.add(request, "_lines", "Say how many units of which item")
    if not aftersale_rules.MIN_PHOTOS <= len(photos) <= aftersale_rules.MAX_PHOTOS:
        state.add(request, "photos", "Attach 1 to 6 photos")
    for _, data in photos:
        if len(data) > aftersale_rules.MAX_PHOTO_BYTES:
            state.add(request, "photos", "A photo may be at most 5 MB")
    if state.ok:
        kind, description = state.get("kind"), state.text("description")
        body = {
            "kind": kind,
            "description": description,
            "lines": {str(k): v for k, v in lines.items()},
            "photos": [hashlib.sha256(data).hexdigest() for _, data in photos],
        }

        def work(db: Session) -> dict[str, Any]:
            ids = [
                aftersales.upload_photo(
                    db, user_id=who.user_id, content_type=content_type, data=data
                ).id
                for content_type, data in photos
            ]
            case = aftersales.report(
                db,
                user_id=who.user_id,
                order_id=order_id,
                kind=kind,
                description=description,
                lines=lines,
                photo_ids=ids,
            )
            return {"case_id": case.id}

        try:
            once.do(request, who, state.get("idem"), body, work)
            return _redirect(f"/orders/{order_id}/aftersale?done=reported")
        except orders.errors.OrderNotFound:
            raise
        except DomainError as exc:
            field = str(exc.extra.get("field") or "")
            target = {
                "lines": "_lines",
                "photo": "photos",
                "photo_ids": "photos",
                "content_type": "photos",
                "description": "description",
                "kind": "kind",
            }.get(field, "_form")
            state.refuse(request, exc, target)
            if target != "_form" and target not in state.errors:
                state.errors[target] = page_errors.message(request, exc)
    context["form"] = state
    return render(request, "member/aftersale.html", context, status_code=400)


@router.get("/orders/{order_id}/aftersale/{case_id}/photos/{n}")
def aftersale_photo(
    request: Request, order_id: int, case_id: int, n: int, who: PageUser
) -> Response:
    """A photo of the member's own case (the API's is for bearer tokens)."""
    viewer = aftersales.Viewer(user_id=who.user_id, role=who.role)
    with unit_of_work(readonly=True) as db:
        case = aftersales.get_case(db, case_id)
        if case.order_id != order_id:
            raise aftersales.errors.CaseNotFound()
        data, content_type = aftersales.photo(db, viewer, case_id, n)
    return responses.private_image(data, content_type)


# ---------------------------------------------------------------- inbox


# Where a message links to, by what it is about (notifications.rules.target), and the words
# of its button.
_LINKS: dict[str, tuple[Callable[[dict[str, Any], int], str], str]] = {
    "order": (lambda data, i: f"/orders/{i}", i18n.lazy("View order")),
    "team": (lambda data, i: f"/t/{i}", i18n.lazy("View team")),
    "case": (lambda data, i: f"/orders/{data.get('order_id')}/aftersale", i18n.lazy("View case")),
    "commission": (lambda data, i: "/leader/money", i18n.lazy("View earnings")),
    "withdrawal": (
        lambda data, i: "/me/referral" if data.get("wallet") == "referral" else "/leader/money",
        i18n.lazy("View earnings"),
    ),
    "referral": (lambda data, i: "/me/referral", i18n.lazy("View earnings")),
    "leader": (lambda data, i: "/leader", i18n.lazy("Leader console")),
    "application": (lambda data, i: "/me/apply", i18n.lazy("View application")),
    "event": (lambda data, i: f"/events/{i}", i18n.lazy("View event")),
    "post": (lambda data, i: f"/posts/{i}", i18n.lazy("View the post")),
    "points": (lambda data, i: "/me/points", i18n.lazy("View points")),
    "achievements": (lambda data, i: "/me/achievements", i18n.lazy("View tasks and badges")),
    "proposal": (lambda data, i: f"/proposals/{i}", i18n.lazy("View proposal")),
}


def _message(n: Any, lang: str) -> dict[str, Any]:
    """A message as the inbox shows it: its title (a state in the pages' words), what it is
    about, what happened, and where it leads."""
    title, body = notifications.render(n.kind, n.data, lang)
    state = status.message_title(n.kind)
    if state is not None:
        title = i18n.gettext(lang, state)
    link = notifications.target(n)
    url = label = ""
    if link is not None and link[0] in _LINKS:
        to, words = _LINKS[link[0]]
        url, label = to(n.data or {}, link[1]), i18n.gettext(lang, words)
    return {"n": n, "title": title, "subject": n.subject, "body": body, "url": url, "label": label}


@router.get("/inbox")
def inbox(request: Request, who: PageUser, cursor: str | None = None) -> Response:
    lang = language(request)
    with unit_of_work(readonly=True) as db:
        rows, more = notifications.inbox_page(db, who.user_id, cursor=cursor, limit=100)
        unread = notifications.unread_count(db, who.user_id)
    items = [_message(n, lang) for n in rows]
    return render(request, "member/inbox.html", {"items": items, "unread": unread, "more": more})


@router.post("/inbox/read")
def read_all(request: Request, form: Form) -> Response:
    who = session.require(request)
    with unit_of_work() as db:
        notifications.mark_read(db, who.user_id)
    return _redirect("/inbox")


@router.post("/inbox/{notification_id}/read")
def read_one(request: Request, notification_id: int, form: Form) -> Response:
    who = session.require(request)
    with unit_of_work() as db:
        notifications.mark_read(db, who.user_id, notification_id)
    target = session.safe_next(str(form.get("next") or ""), "/inbox")
    return _redirect(target)


# ---------------------------------------------------------------- communities


@router.get("/communities")
def my_communities(request: Request, who: PageUser) -> Response:
    with unit_of_work(readonly=True) as db:
        rows = []
        for community, role, count in communities.my_communities(db, who.user_id):
            leader = communities.get_leader(db, community.leader_id)
            rows.append(
                {
                    "community": community,
                    "role": role,
                    "members": count,
                    "leader": communities.people(db, [leader.user_id])[leader.user_id],
                    "points": communities.pickup_points_of(db, leader.id, active_only=True),
                    "standing": moderation_pages.standing(db, community.id, who.user_id),
                    "waves": pools.listings_of_community(
                        db, community.id, open_only=True, viewer_id=who.user_id
                    ),
                }
            )
    return render(request, "member/communities.html", {"rows": rows})


def _join_context(request: Request, code: str) -> dict[str, Any]:
    who = session.current(request)
    with unit_of_work(readonly=True) as db:
        invite = communities.invite_page(db, code)
        leader = communities.get_leader(db, invite.community.leader_id)
        points = communities.pickup_points_of(db, leader.id, active_only=True)
        member = who is not None and communities.is_member(db, invite.community.id, who.user_id)
    return {"invite": invite, "points": points, "member": member, "code": code}


@router.get("/join/{code}")
def join_page(request: Request, code: str) -> Response:
    return render(
        request, "member/join.html", {**_join_context(request, code), "form": FormState()}
    )


@router.post("/join/{code}")
def join(request: Request, code: str, form: Form) -> Response:
    """Join; a community with rules (群规) is joined by ticking "I accept" under them (the
    version read is posted with the form, so rules changed meanwhile are shown again)."""
    who = session.require_buyer(request)
    state = FormState.of(form)
    with unit_of_work(readonly=True) as db:
        community = communities.community_by_invite(db, code)
        inviter = communities.get_leader(db, community.leader_id).user_id
        member = communities.is_member(db, community.id, who.user_id)
    target = f"community:{community.id}"
    screen(request, type="invite", actor=who.user_id, target=target, other=inviter, cookie=True)
    version = None
    if communities.current_rules_version(community) and not member:
        if state.get("accept_rules") != "1":
            state.add(
                request, "accept_rules", "Read the community rules and tick the box to accept them"
            )
            context = {**_join_context(request, code), "form": state}
            return render(request, "member/join.html", context, status_code=400)
        version = state.integer(request, "rules_version", low=1, high=2**31 - 1)
    try:
        run_in_transaction(
            lambda db: communities.join_by_invite(db, code, who.user_id, rules_version=version)
        )
    except DomainError as exc:
        if not isinstance(exc, community_errors.RulesNotAccepted):
            raise
        state.refuse(request, exc, "accept_rules")
        context = {**_join_context(request, code), "form": state}
        return render(request, "member/join.html", context, status_code=exc.status)
    return _redirect("/communities")


# ---------------------------------------------------------------- 我的


def _me_context(request: Request, who: Principal) -> dict[str, Any]:
    with unit_of_work(readonly=True) as db:
        user = accounts.get_user(db, who.user_id)
        leader = communities.find_leader_by_user(db, who.user_id)
        applications = communities.applications_of(db, who.user_id)
        unread = notifications.unread_count(db, who.user_id)
        points_balance = points.balance_of(db, who.user_id)
        points_level = points.level_of(db, who.user_id).name
        my_badges = achievements.badges_of(db, who.user_id)
    return {
        "points_balance": points_balance,
        "points_level": points_level,
        "my_badges": my_badges,
        "me": user,
        "leader": leader,
        "application": applications[0] if applications else None,
        "unread": unread,
        "done": request.query_params.get("done", ""),
    }


def _profile_form(user: Any) -> FormState:
    address = user.address or {}
    return FormState(
        values={
            "nickname": user.nickname,
            "address_name": address.get("name", ""),
            "address_phone": address.get("phone", ""),
            "address_line": address.get("line", ""),
        }
    )


@router.get("/me")
def me(request: Request, who: PageUser) -> Response:
    context = _me_context(request, who)
    context["form"] = _profile_form(context["me"])
    return render(request, "member/me.html", context)


@router.post("/me")
def update_me(request: Request, form: Form) -> Response:
    who = session.require(request)
    state = FormState.of(form)
    state.required(request, "nickname")
    parts = [state.text(n) for n in ("address_name", "address_phone", "address_line")]
    address = None
    if any(parts):
        address = {"name": parts[0], "phone": parts[1], "line": parts[2]}
    if state.ok:
        try:
            run_in_transaction(
                lambda db: accounts.update_profile(
                    db, who.user_id, nickname=state.text("nickname"), address=address
                )
            )
            return _redirect("/me?done=saved")
        except DomainError as exc:
            field = {"address": "address_line", "address.phone": "address_phone"}.get(
                str(exc.extra.get("field") or ""), str(exc.extra.get("field") or "nickname")
            )
            state.refuse(request, exc, field)
            if field not in state.errors:
                state.errors[field] = page_errors.message(request, exc)
    context = _me_context(request, who)
    context["form"] = state
    return render(request, "member/me.html", context, status_code=400)


def _map() -> dict[str, str] | None:
    """The map the applicant picks the point on (static/mappick.js), from the operator's tile
    provider (``TUANGOU_MAP_TILE_URL``); None without one: the coordinates are typed."""
    settings = get_settings()
    if not settings.map_tile_url:
        return None
    return {
        "tiles": settings.map_tile_url,
        "attribution": settings.map_attribution,
        "center": settings.map_center or "35.0,105.0",
        "zoom": "13" if settings.map_center else "4",
    }


@router.get("/me/apply")
def apply_page(request: Request, who: PageBuyer) -> Response:
    context = _me_context(request, who)
    context["form"] = FormState(values={"opening_hours": "08:00-21:00"})
    context["map"] = _map()
    return render(request, "member/apply.html", context)


def _coordinate(request: Request, state: FormState, name: str) -> float | None:
    raw = state.text(name)
    try:
        return float(raw)
    except ValueError:
        state.add(request, name, "Enter a number, like 30.27")
        return None


@router.post("/me/apply")
def apply(request: Request, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    state.required(request, "name", "address", "latitude", "longitude")
    lat = _coordinate(request, state, "latitude") if state.text("latitude") else None
    lon = _coordinate(request, state, "longitude") if state.text("longitude") else None
    if state.ok and lat is not None and lon is not None:
        point = communities.PickupPointInput(
            name=state.text("name"),
            address=state.text("address"),
            latitude=lat,
            longitude=lon,
            opening_hours=state.text("opening_hours"),
        )
        try:
            run_in_transaction(
                lambda db: communities.apply(db, who.user_id, point, note=state.text("note"))
            )
            return _redirect("/me?done=applied")
        except DomainError as exc:
            state.refuse(request, exc, "_form")
    context = _me_context(request, who)
    context["form"] = state
    context["map"] = _map()
    return render(request, "member/apply.html", context, status_code=400)
