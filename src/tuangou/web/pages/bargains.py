"""The bargain by friends' pages (砍价): the live bargain campaigns, a campaign's page with
its start button, a bargain's page (``/b/{id}``, the share link: the price falling, the
helpers with their cuts, the cuts left, the countdown, the share button and the poster, and
the cut button or the buy button), its PNG poster (``/b/{id}/poster.png``), the member's
bargains under 我的, and the operator's list and form (``/ops/bargains``). Each handler calls
the same services as the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tuangou.accounts import addresses as address_book
from tuangou.accounts.rules import may_buy
from tuangou.accounts.service import Principal
from tuangou.api.deps import device_of, screen
from tuangou.bargains import errors as bargain_errors
from tuangou.bargains import rules as bargain_rules
from tuangou.bargains import schemas as bargain_schemas
from tuangou.bargains import service as bargains
from tuangou.catalog import service as catalog
from tuangou.core import clock, money
from tuangou.core.config import get_settings
from tuangou.core.db import read, run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.web import i18n, once, poster, qr, session
from tuangou.web.errors import message as page_message
from tuangou.web.forms import FormState
from tuangou.web.pages import coupons as coupon_pages
from tuangou.web.pages.operator.common import _ctx, _done, _refused
from tuangou.web.pages.teambuy import _picture
from tuangou.web.pages.teambuy import _png as _poster_reply
from tuangou.web.session import Form, PageBuyer, PageOperator
from tuangou.web.templating import absolute_url, fmt_money, language, render, translate

router = APIRouter()

PLACEHOLDER = "/static/demo/placeholder.svg"
STATUSES: dict[str, str] = {
    bargain_rules.BargainStatus.OPEN: i18n.lazy("Bargaining"),
    bargain_rules.BargainStatus.COMPLETE: i18n.lazy("Floor reached"),
    bargain_rules.BargainStatus.ORDERED: i18n.lazy("Awaiting payment"),
    bargain_rules.BargainStatus.PAID: i18n.lazy("Bought"),
    bargain_rules.BargainStatus.EXPIRED: i18n.lazy("Time is up"),
}
CAMPAIGN_STATUSES = {
    "active": i18n.lazy("Active"),
    "paused": i18n.lazy("Paused"),
    "ended": i18n.lazy("Ended"),
}
_ADDRESS_CODES = {"address_required", "address_not_found"}


def _campaign_view(db: Session, c: Any) -> dict[str, Any]:
    view = bargain_schemas.BargainCampaignOut.of(c, catalog.sku_summary(db, c.sku_id)).model_dump()
    view["image"] = view["image_url"] or PLACEHOLDER
    view["goods"] = catalog.goods_name(view["product_title"], view["sku_name"])
    view["live"] = bargains.is_live(c)
    view["starts"], view["ends"] = c.starts_at, c.ends_at  # as times, for the pages' filters
    return view


# ---------------------------------------------------------------- campaigns


@router.get("/bargains")
def campaigns_page(request: Request) -> Response:
    """The bargain campaigns running now."""
    with unit_of_work(readonly=True) as db:
        found = [_campaign_view(db, c) for c in bargains.list_campaigns(db)]
    return render(request, "member/bargains.html", {"campaigns": found})


def _campaign_page(
    request: Request, campaign_id: int, state: FormState | None = None, *, status_code: int = 200
) -> Response:
    with unit_of_work(readonly=True) as db:
        campaign = _campaign_view(db, bargains.get_campaign(db, campaign_id))
    context = {
        "campaign": campaign,
        "form": state or FormState(),
        "login_next": "/login?next=" + quote(f"/bargains/{campaign_id}", safe=""),
    }
    return render(request, "member/bargain_campaign.html", context, status_code=status_code)


@router.get("/bargains/{campaign_id}")
def campaign_page(request: Request, campaign_id: int) -> Response:
    return _campaign_page(request, campaign_id)


@router.post("/bargains/{campaign_id}/start")
def start(request: Request, campaign_id: int, form: Form, who: PageBuyer) -> Response:
    def work(db: Session) -> int:
        b = bargains.start_bargain(db, user_id=who.user_id, campaign_id=campaign_id)
        target = f"bargain:{b.id}"
        screen(request, db, type="bargain", actor=who.user_id, target=target, cookie=True)
        return b.id

    try:
        bargain_id = run_in_transaction(work)
    except DomainError as exc:
        state = FormState()
        state.refuse(request, exc)
        return _campaign_page(request, campaign_id, state, status_code=exc.status)
    return RedirectResponse(f"/b/{bargain_id}?done=started", status_code=303)


# ---------------------------------------------------------------- a bargain (the share link)


def _addresses(request: Request, db: Session, who: Principal | None) -> dict[str, Any]:
    if who is None or not may_buy(who.role):
        return {"addresses": [], "chosen_address": None}
    entries = address_book.list_addresses(db, who.user_id)
    ids = {a.id for a in entries}
    asked = request.query_params.get("address", "")
    chosen = int(asked) if asked.isdigit() and int(asked) in ids else None
    if chosen is None and entries:
        chosen = entries[0].id
    return {"addresses": entries, "chosen_address": chosen}


def _bargain_page(
    request: Request,
    bargain_id: int,
    state: FormState | None = None,
    *,
    share: str | None = None,
    status_code: int = 200,
) -> Response:
    who = session.current(request)
    share = share if share is not None else request.query_params.get("share")
    with unit_of_work(readonly=True) as db:
        b = bargains.visible_bargain(
            db,
            bargain_id,
            user_id=who.user_id if who else None,
            operator=who is not None and who.role == "operator",
            share=share,
        )
        view = bargain_schemas.BargainOut.of(
            b, bargains.details(db, b), viewer_id=who.user_id if who else None
        ).model_dump()
        campaign = _campaign_view(db, bargains.get_campaign(db, b.campaign_id))
        has_helped = who is not None and bargains.helped(db, b.id, who.user_id)
        context: dict[str, Any] = _addresses(request, db, who) if view["is_starter"] else {}
        if view["is_starter"]:
            context.update(coupon_pages.checkout_choice(db, who, "bargain", view["price"]))
    here = f"/b/{bargain_id}?share={view['share_token']}"
    share_url = absolute_url(request, here)
    deadline = clock.now() + timedelta(seconds=view["seconds_left"])
    context.update(
        poster_url=f"/b/{bargain_id}/poster.png?share={quote(view['share_token'], safe='')}",
        share_title=_headline(request, view["starter"]),
        share_text=f"{campaign['goods']} {money.fmt(view['price'])}",
    )
    context.update(
        bargain=view,
        campaign=campaign,
        status_label=STATUSES.get(view["status"], view["status"]),
        deadline=deadline,
        share=view["share_token"],
        share_url=share_url,
        qr_code=qr.svg(share_url, scale=4),
        has_helped=has_helped and not view["is_starter"],
        can_help=view["status"] == bargain_rules.BargainStatus.OPEN and view["seconds_left"] > 0,
        can_buy=view["is_starter"]
        and view["status"] in bargain_rules.BUYABLE
        and view["seconds_left"] > 0
        and (view["buy_at_any_price"] or view["price"] <= view["floor_price"]),
        form=state or FormState(),
        key=once.new_key(),
        login_next="/login?next=" + quote(here, safe=""),
        address_next=here,
        done=request.query_params.get("done", ""),
    )
    return render(request, "member/bargain.html", context, status_code=status_code)


@router.get("/b/{bargain_id}")
def bargain_page(request: Request, bargain_id: int) -> Response:
    return _bargain_page(request, bargain_id)


def _headline(request: Request, starter: str) -> str:
    return translate(request, "%(name)s asks you to cut the price", name=starter)


def _bargain_poster(
    request: Request, view: dict[str, Any], campaign: dict[str, Any], ends: datetime, link: str
) -> poster.Poster:
    """The bargain's poster in the viewer's language: the price reached and the floor, the
    cuts left (or where the bargain stands), the time it ends, the QR code of its link."""
    if view["status"] == bargain_rules.BargainStatus.OPEN and view["cuts_left"]:
        cuts = translate(request, "%(n)s cuts left", n=view["cuts_left"])
    elif view["status"] == bargain_rules.BargainStatus.OPEN:
        cuts = translate(request, "Floor reached")
    else:
        cuts = translate(request, str(STATUSES.get(view["status"], view["status"])))
    image, stamp = _picture(campaign["image"])
    return poster.bargain(
        lang=language(request),
        headline=_headline(request, view["starter"]),
        cuts=cuts,
        deadline=translate(request, "Ends %(t)s", t=clock.to_local(ends).strftime("%m-%d %H:%M")),
        title=campaign["goods"],
        price_label=translate(request, "Price now"),
        price=money.fmt(view["price"]),
        was=f"{translate(request, 'Original price')} {money.fmt(view['start_price'])}",
        floor=translate(request, "floor %(floor)s", floor=money.fmt(view["floor_price"])),
        scan=translate(request, "Scan to cut"),
        link=link,
        picture=image,
        picture_stamp=stamp,
    )


@router.get("/b/{bargain_id}/poster.png")
def bargain_poster(request: Request, bargain_id: int) -> Response:
    """The bargain's poster: seen by whoever may open its page (its starter, its helpers,
    operators, and whoever holds its share link, ``?share=``); anyone else gets 404."""
    who = session.current(request)
    share = request.query_params.get("share") or None
    with unit_of_work(readonly=True) as db:
        b = bargains.visible_bargain(
            db,
            bargain_id,
            user_id=who.user_id if who else None,
            operator=who is not None and who.role == "operator",
            share=share[:64] if share else None,
        )
        view = bargain_schemas.BargainOut.of(b, bargains.details(db, b), viewer_id=None)
        campaign = _campaign_view(db, bargains.get_campaign(db, b.campaign_id))
        ends = b.deadline
    link = absolute_url(request, f"/b/{bargain_id}?share={view.share_token}")
    drawn = _bargain_poster(request, view.model_dump(), campaign, ends, link)
    return _poster_reply(request, drawn, "private, max-age=60")


@router.post("/b/{bargain_id}/help")
def help_bargain(request: Request, bargain_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    share = state.text("share")[:64] or None
    ip = request.client.host if request.client else None
    try:
        done = run_in_transaction(
            lambda db: (
                bargains.help_bargain(
                    db,
                    helper_id=who.user_id,
                    bargain_id=bargain_id,
                    share=share,
                    device=device_of(request, cookie=True),
                    ip=ip,
                ).refused
            )
        )
        if done:  # the refusal is recorded (committed); the helper hears no reason
            raise bargain_errors.RiskRefused()
    except DomainError as exc:
        state.refuse(request, exc)
        return _bargain_page(request, bargain_id, state, share=share, status_code=exc.status)
    return RedirectResponse(
        f"/b/{bargain_id}?share={quote(share or '', safe='')}&done=helped", status_code=303
    )


@router.post("/b/{bargain_id}/order")
def buy(request: Request, bargain_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    address_id = state.integer(request, "address_id", low=1) if state.text("address_id") else None
    coupon_id = coupon_pages.coupon_id_of(request, state)
    if not state.ok:
        return _bargain_page(request, bargain_id, state, status_code=400)

    def work(db: Session) -> dict[str, Any]:
        bought = bargains.place_order(
            db,
            user_id=who.user_id,
            bargain_id=bargain_id,
            address_id=address_id,
            coupon_id=coupon_id,
        )
        screen(
            request,
            db,
            type="order",
            actor=who.user_id,
            target=f"order:{bought.order.id}",
            amount_fen=bought.order.amount,
            cookie=True,
        )
        return {"payment_id": bought.started.payment.id}

    try:
        body = {"address_id": address_id, "coupon_id": coupon_id}
        done = once.do(request, who, state.get("key"), body, work)
    except DomainError as exc:
        if exc.code in _ADDRESS_CODES:
            state.errors.setdefault("address_id", page_message(request, exc))
        elif exc.extra.get("field") == "coupon_id":
            state.errors.setdefault("coupon_id", page_message(request, exc))
        else:
            state.refuse(request, exc)
        return _bargain_page(request, bargain_id, state, status_code=exc.status)
    return RedirectResponse(f"/pay/{done['payment_id']}", status_code=303)


# ---------------------------------------------------------------- 我的 → my bargains


@router.get("/me/bargains")
def my_bargains(request: Request, who: PageBuyer) -> Response:
    def load(db: Session) -> list[dict[str, Any]]:
        found = []
        for b in bargains.bargains_of(db, who.user_id):
            view = bargain_schemas.BargainOut.of(b, bargains.details(db, b), viewer_id=who.user_id)
            found.append({"b": view.model_dump(), "label": STATUSES.get(b.status, b.status)})
        return found

    return render(request, "member/my_bargains.html", {"rows": read(load)})


# ---------------------------------------------------------------- operators


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def _local_input(value: datetime) -> str:
    return clock.to_local(value).strftime("%Y-%m-%dT%H:%M")


def _parse_local(state: FormState, request: Request, name: str) -> datetime | None:
    try:
        local = datetime.fromisoformat(state.text(name))
    except ValueError:
        state.add(request, name, "Enter a date and time")
        return None
    return clock.as_utc(local.replace(tzinfo=_zone())).replace(tzinfo=None)


def _ops_page(request: Request, form: FormState | None = None, status: int = 200) -> Response:
    def load(db: Session) -> dict[str, Any]:
        rows = []
        for c in bargains.list_campaigns(db, live_only=False):
            started = bargains.bargains_of_campaign(db, c.id)
            rows.append(
                {
                    "c": _campaign_view(db, c),
                    "started": len(started),
                    "paid": sum(1 for b in started if b.status == bargains.BargainStatus.PAID),
                }
            )
        skus = [
            (sku, product)
            for product in catalog.list_products(db)
            for sku in catalog.skus_of(db, product.id)
        ]
        return {"rows": rows, "skus": skus}

    data = read(load)
    now = clock.now()
    if form is None:
        form = FormState(
            values={
                "helpers_needed": "5",
                "hours": str(bargain_rules.DEFAULT_HOURS),
                "helps_per_member": "1",
                "starts_per_member": "1",
                "new_member_bonus": "0",
                "stock": "50",
                "buy_at_any_price": "on",
                "starts_at": _local_input(now),
                "ends_at": _local_input(now.replace(second=0, microsecond=0) + timedelta(days=7)),
            }
        )
    return render(
        request,
        "operator/bargains.html",
        _ctx(
            request,
            rows=data["rows"],
            form=form,
            statuses=CAMPAIGN_STATUSES,
            new_member_hint=translate(
                request,
                "Added to the cut of a member who signed up within %(h)s hours and never paid",
                h=bargain_rules.NEW_MEMBER_HOURS,
            ),
            sku_options=[
                (sku.id, f"{catalog.goods_name(product.title, sku.name)} · {fmt_money(sku.price)}")
                for sku, product in data["skus"]
            ],
        ),
        status_code=status,
    )


@router.get("/ops/bargains")
def ops_bargains(request: Request, who: PageOperator) -> Response:
    return _ops_page(request)


@router.post("/ops/bargains")
def ops_create(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    state.required(request, "sku_id", "start_price", "floor_price", "stock", "ends_at")
    sku_id = state.integer(request, "sku_id", low=1) if state.text("sku_id") else None
    start_price = state.fen(request, "start_price") if state.text("start_price") else None
    floor_price = state.fen(request, "floor_price") if state.text("floor_price") else None
    stock = state.integer(request, "stock", low=1) if state.text("stock") else None
    helpers = state.integer(request, "helpers_needed", low=1, high=bargain_rules.MAX_HELPERS)
    hours = state.integer(request, "hours", low=1, high=bargain_rules.MAX_HOURS)
    helps = state.integer(request, "helps_per_member", low=1, high=1000)
    starts = state.integer(request, "starts_per_member", low=1, high=1000)
    bonus = state.fen(request, "new_member_bonus", required=False) or 0
    starts_at = _parse_local(state, request, "starts_at") if state.text("starts_at") else None
    ends_at = _parse_local(state, request, "ends_at") if state.text("ends_at") else None
    if not state.ok:
        return _ops_page(request, state, status=400)
    assert sku_id is not None and start_price is not None and floor_price is not None
    assert stock is not None and helpers is not None and hours is not None and ends_at
    assert helps is not None and starts is not None
    data = bargains.CampaignInput(
        sku_id=sku_id,
        title=state.text("title")[:200],
        starts_at=starts_at or clock.now(),
        ends_at=ends_at,
        start_price=start_price,
        floor_price=floor_price,
        helpers_needed=helpers,
        stock=stock,
        hours=hours,
        buy_at_any_price=state.get("buy_at_any_price") == "on",
        helps_per_member=helps,
        starts_per_member=starts,
        new_member_bonus=bonus,
    )
    try:
        run_in_transaction(lambda s: bargains.create_campaign(s, data))
    except DomainError as exc:
        state.refuse(request, exc, "sku_id")
        return _ops_page(request, state, status=_refused(exc))
    return _done("/ops/bargains")


@router.post("/ops/bargains/{campaign_id}/status")
def ops_status(campaign_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    status = str(form.get("status") or "")
    try:
        run_in_transaction(lambda s: bargains.set_campaign_status(s, campaign_id, status))
    except DomainError as exc:
        state = FormState()
        state.refuse(request, exc)
        return _ops_page(request, state, status=_refused(exc))
    return _done("/ops/bargains")
