"""The member's home and team-buy pages: campaigns, teams (the share link), the share page
with its poster, and paying on the sandbox gateway.

Opening and joining a team go through the same services as the API (``teams.open_team`` /
``teams.join_team``) and, like the API's ``Idempotency-Key``, each form carries a one-time key
run through :mod:`tuangou.web.once`: a double submit replays the first answer
(the same order and payment) instead of creating a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlparse

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tuangou.accounts import addresses as address_book
from tuangou.accounts.errors import AccountErrorCode
from tuangou.accounts.rules import may_buy
from tuangou.accounts.service import Principal
from tuangou.api.deps import screen
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock, money
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError, NotFound
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.pools import rules as pool_rules
from tuangou.pools import service as pools
from tuangou.search import rules as search_rules
from tuangou.search import service as search
from tuangou.teams import schemas as team_schemas
from tuangou.teams import service as teams
from tuangou.web import i18n, once, poster, session, status, views
from tuangou.web.app import STATIC_DIR
from tuangou.web.codes import WebErrorCode
from tuangou.web.errors import message as page_message
from tuangou.web.forms import FormState
from tuangou.web.pages import coupons as coupon_pages
from tuangou.web.pages import recommend as recommend_pages
from tuangou.web.pages import reviews as review_pages
from tuangou.web.session import Form, PageBuyer, PageUser
from tuangou.web.templating import absolute_url, language, render, translate

if TYPE_CHECKING:
    from tuangou.teams.models import Team, TeamCampaign

router = APIRouter()

PLACEHOLDER = "/static/demo/placeholder.svg"
PAY_OUTCOMES = {"approve", "decline"}
REFRESH_SECONDS = 2


# ---------------------------------------------------------------- small reads


def _product(db: Session, campaign: TeamCampaign) -> dict[str, Any]:
    product = catalog.sku_summary(db, campaign.sku_id)
    return {**product, "image": product["image_url"] or PLACEHOLDER}


def _campaign(db: Session, campaign: TeamCampaign) -> dict[str, Any]:
    view = team_schemas.campaign_view(campaign, product=_product(db, campaign))
    # Sold out: no free unit and none reserved for an open team's seats either.
    view["sold_out"] = view["available"] <= 0 and view["reserved"] <= 0
    view["model"] = campaign
    return view


@dataclass
class Viewer:
    """The logged-in member's relation to a team: their seat, its order and payment."""

    seat: Any = None
    order: Any = None
    payment: Any = None
    gateway_status: str | None = None  # the sandbox's word on the latest payment
    refunds: list[Any] | None = None
    in_flight: bool = False  # a payment of the order is charged, its confirmation on its way

    @property
    def live(self) -> bool:
        return self.seat is not None and self.seat.status in (
            teams.SeatStatus.HELD,
            teams.SeatStatus.PAID,
        )

    @property
    def paid(self) -> bool:
        return self.seat is not None and self.seat.status == teams.SeatStatus.PAID

    @property
    def confirming(self) -> bool:
        """Paid at the gateway, waiting for its confirmation callback (支付确认中): the seat
        is not to be paid again (:func:`payments.in_flight`)."""
        return (
            self.seat is not None and self.seat.status == teams.SeatStatus.HELD and self.in_flight
        )

    @property
    def member(self) -> bool:
        """In the team: a paid seat, or one whose payment is being confirmed."""
        return self.paid or self.confirming

    @property
    def declined(self) -> bool:
        return (
            self.seat is not None
            and self.seat.status == teams.SeatStatus.HELD
            and not self.in_flight
            and self.payment is not None
            and (
                self.payment.status == payments.PaymentStatus.FAILED
                or self.gateway_status == payments.ChargeStatus.DECLINED
            )
        )


def _viewer(db: Session, team_id: int, who: Principal | None) -> Viewer:
    if who is None:
        return Viewer()
    seat = teams.seat_in_team(db, team_id, who.user_id)
    if seat is None:
        return Viewer()
    order = orders.get(db, seat.order_id)
    tried = payments.payments_of(db, order.id)
    payment = tried[-1] if tried else None
    charge = payments.sandbox_charge(db, payment.gateway_ref) if payment else None
    return Viewer(
        seat=seat,
        order=order,
        payment=payment,
        gateway_status=charge.status if charge else None,
        refunds=orders.refunds_of(db, order.id),
        in_flight=order.status == orders.OrderStatus.PENDING_PAYMENT
        and payments.in_flight(db, order.id) is not None,
    )


def _team_context(db: Session, team: Team, who: Principal | None) -> dict[str, Any]:
    campaign = teams.get_campaign(db, team.campaign_id)
    chain = teams.chain_list(db, team.id)
    view = team_schemas.team_view(team, campaign, chain)
    opener = next((row["name"] for row in chain if row["is_opener"]), None)
    slots = max(team.min_size if team.formed_at is None else team.max_size, len(chain))
    if slots > 12:  # a long ladder: show the seats taken and a few free ones
        slots = max(len(chain) + 3, team.min_size)
    slots = min(slots, team.max_size)
    me = _viewer(db, team.id, who)
    shown = _campaign(db, campaign)
    # A seat of this team is sold out only when neither its reservation nor free stock is left.
    shown["sold_out"] = team.reserved <= 0 and shown["available"] <= 0
    return {
        "team": team,
        "view": view,
        "campaign": shown,
        "chain": chain,
        "opener": opener,
        "slots": slots,
        "me": me,
        "share_path": f"/t/{team.id}",
        "key": once.new_key(),
        "waiting": me.confirming,
        "poll_url": f"/orders/{me.order.id}/state" if me.confirming else "",
        "team_word": status.TEAM.get(team.status, team.status),
        "refund_reasons": REFUND_REASONS,
    }


def _quantity(request: Request, state: FormState, campaign: dict[str, Any]) -> int | None:
    if not state.text("quantity"):
        return 1
    return state.integer(request, "quantity", low=1, high=campaign["max_quantity_per_order"])


# Refusals about the shipping address, shown next to the address choice.
_ADDRESS_CODES = {AccountErrorCode.ADDRESS_REQUIRED, AccountErrorCode.ADDRESS_NOT_FOUND}


def _checkout(request: Request, db: Session, who: Principal | None, back: str) -> dict[str, Any]:
    """The address step of opening or joining: the member's address book, the entry chosen
    (``?address=`` after adding one, else the default), and the way to add one and come
    back to this step."""
    if who is None or not may_buy(who.role):
        return {"addresses": [], "chosen_address": None, "address_next": back}
    entries = address_book.list_addresses(db, who.user_id)
    ids = {a.id for a in entries}
    asked = request.query_params.get("address", "")
    chosen = int(asked) if asked.isdigit() and int(asked) in ids else None
    if chosen is None and entries:
        chosen = entries[0].id  # the default comes first
    return {"addresses": entries, "chosen_address": chosen, "address_next": back}


def _address_id(request: Request, state: FormState) -> int | None:
    """The form's chosen address (None: none chosen; the service then takes the default
    or refuses with ``address_required``)."""
    if not state.text("address_id"):
        return None
    return state.integer(request, "address_id", low=1)


def _take_seat(
    request: Request,
    who: Principal,
    state: FormState,
    campaign: dict[str, Any],
    take: Callable[[Session, int, int | None, int | None], teams.Seat],
    target: str,
) -> Response | int:
    """Open or join a team with the form's quantity and shipping address, once per form key:
    the way to the pay page, or the status to show the form again with (its errors are in
    ``state``). The risk engine judges the join first (``target``: the campaign or team)."""
    quantity = _quantity(request, state, campaign)
    address_id = _address_id(request, state)
    coupon_id = coupon_pages.coupon_id_of(request, state)
    if not state.ok or quantity is None:
        return 400

    def work(db: Session) -> dict[str, Any]:
        seat = take(db, quantity, address_id, coupon_id)
        return {"team_id": seat.team.id, "payment_id": seat.started.payment.id}

    body = {"quantity": quantity, "address_id": address_id, "coupon_id": coupon_id}
    try:
        screen(request, type="join", actor=who.user_id, target=target, cookie=True)
        done = once.do(request, who, state.get("key"), body, work)
    except DomainError as exc:
        if exc.code in _ADDRESS_CODES:
            state.errors.setdefault("address_id", page_message(request, exc))
        elif exc.extra.get("field") == "coupon_id":
            state.errors.setdefault("coupon_id", page_message(request, exc))
        else:
            state.refuse(request, exc, "quantity" if exc.extra.get("field") else "_form")
        return exc.status
    return RedirectResponse(f"/pay/{done['payment_id']}", status_code=303)


# ---------------------------------------------------------------- home


MATCHED_FIELDS = {
    "title": i18n.lazy("Title"),
    "product": i18n.lazy("Product"),
    "item": i18n.lazy("Item"),
    "description": i18n.lazy("Description"),
}


def _search_of(request: Request) -> tuple[str, int | None, str | None]:
    """The home's search words and category, and what is wrong with them (None: nothing)."""
    query = request.query_params.get("q", "")
    raw = request.query_params.get("category", "").strip()
    category_id = int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None
    error = None
    if len(query.strip()) > search_rules.MAX_QUERY:
        error = translate(request, "Enter at most %(n)s characters", n=search_rules.MAX_QUERY)
    return query.strip(), category_id, error


@router.get("/")
def home(request: Request, who: PageUser) -> Response:
    query, category_id, search_error = _search_of(request)
    with unit_of_work(readonly=True) as db:
        strip = catalog.list_categories(db, visible_only=True)
        if category_id is not None and category_id not in {c.id for c in strip}:
            category_id = None  # unknown or hidden: the strip shows everything
        hits: dict[tuple[str, int], Any] | None = None
        if search_error is None and (query or category_id is not None):
            found = search.search(db, user_id=who.user_id, query=query, category_id=category_id)
            hits = {(h.kind, h.id): h for h in found}
        waves: list[dict[str, Any]] = []
        for community in communities.communities_of(db, who.user_id):
            for listing, wave in pools.listings_of_community(db, community.id, open_only=True):
                items = pools.items_of(db, wave.id)
                image = PLACEHOLDER
                if items:
                    sku = catalog.get_sku(db, items[0].sku_id)
                    image = catalog.get_product(db, sku.product_id).image_url or PLACEHOLDER
                waves.append(
                    {
                        "listing_id": listing.id,
                        "title": wave.title,
                        "community": community.name,
                        "cutoff_at": wave.cutoff_at,
                        "delivery_date": wave.delivery_date,
                        "image": image,
                        "from_price": min((i.price for i in items), default=None),
                        "items": len(items),
                    }
                )
        live = teams.list_campaigns(db)
        counts = teams.joinable_counts(db, [c.id for c in live])
        campaigns = [{**_campaign(db, c), "open_teams": counts.get(c.id, 0)} for c in live]
        mine = []
        for team in teams.live_teams_of_member(db, who.user_id):
            campaign = teams.get_campaign(db, team.campaign_id)
            mine.append(
                {
                    "view": team_schemas.team_view(team, campaign, []),
                    "team": team,
                    "product": _product(db, campaign),
                }
            )
    waves.sort(key=lambda w: w["cutoff_at"])
    if hits is not None:
        waves = [
            {**w, "matched": hits[("wave", w["listing_id"])].matched}
            for w in waves
            if ("wave", w["listing_id"]) in hits
        ]
        campaigns = [
            {**c, "matched": hits[("campaign", c["id"])].matched}
            for c in campaigns
            if ("campaign", c["id"]) in hits
        ]
    return render(
        request,
        "member/home.html",
        {
            "waves": waves,
            "campaigns": campaigns,
            "mine": mine if hits is None else [],
            "categories": strip,
            "category_id": category_id,
            "query": query,
            "searching": hits is not None,
            "search_error": search_error,
            "matched_fields": MATCHED_FIELDS,
            "max_query": search_rules.MAX_QUERY,
            "recommend": recommend_pages.row(who) if hits is None else None,
        },
        status_code=422 if search_error else 200,
    )


# ---------------------------------------------------------------- campaign


def _campaign_page(
    request: Request, campaign_id: int, state: FormState | None = None, *, status_code: int = 200
) -> Response:
    with unit_of_work(readonly=True) as db:
        c = teams.get_campaign(db, campaign_id)
        campaign = _campaign(db, c)
        # One page of the open teams (the ones closest to forming first), in a constant
        # number of statements; "更多团" links to the next page (``?teams=`` its cursor).
        cursor = (request.query_params.get("teams") or "")[:200] or None
        page = teams.open_teams_page(db, c.id, cursor=cursor, with_total=True)
        open_teams = [
            {
                "team": team,
                "view": team_schemas.team_view(team, c, page.chains[team.id]),
                "opener": next((r["name"] for r in page.chains[team.id] if r["is_opener"]), "*"),
            }
            for team in page.teams
        ]
        who = session.current(request)
        checkout = _checkout(request, db, who, f"/c/{campaign_id}")
        checkout.update(coupon_pages.checkout_choice(db, who, "team"))
    context = {
        **checkout,
        "campaign": campaign,
        "open_teams": open_teams,
        "open_teams_total": page.total,
        "open_teams_next": page.next_cursor,
        "form": state or FormState.of(quantity="1"),
        "key": once.new_key(),
        "live": campaign["live"],
        "logged_in": who is not None,
        "reviews_block": review_pages.campaign_block(campaign_id),
    }
    return render(request, "member/campaign.html", context, status_code=status_code)


@router.get("/c/{campaign_id}")
def campaign_page(request: Request, campaign_id: int) -> Response:
    session.require(request)
    return _campaign_page(request, campaign_id)


@router.post("/c/{campaign_id}/open")
def open_team(request: Request, campaign_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    with unit_of_work(readonly=True) as db:
        campaign = _campaign(db, teams.get_campaign(db, campaign_id))
    taken = _take_seat(
        request,
        who,
        state,
        campaign,
        lambda db, quantity, address_id, coupon_id: teams.open_team(
            db,
            user_id=who.user_id,
            campaign_id=campaign_id,
            quantity=quantity,
            address_id=address_id,
            coupon_id=coupon_id,
        ),
        f"campaign:{campaign_id}",
    )
    if isinstance(taken, Response):
        return taken
    return _campaign_page(request, campaign_id, state, status_code=taken)


@router.post("/c/{campaign_id}/solo")
def buy_alone(request: Request, campaign_id: int, form: Form) -> Response:
    """单独购买: the same form as opening (quantity, address, one-time key), a plain order at
    the single price (as the API's ``POST /api/campaigns/{id}/solo``)."""
    who = session.require_buyer(request)
    state = FormState.of(form)
    with unit_of_work(readonly=True) as db:
        campaign = _campaign(db, teams.get_campaign(db, campaign_id))
    quantity = _quantity(request, state, campaign)
    address_id = _address_id(request, state)
    coupon_id = coupon_pages.coupon_id_of(request, state)
    if not state.ok or quantity is None:
        return _campaign_page(request, campaign_id, state, status_code=400)

    def work(db: Session) -> dict[str, Any]:
        solo = teams.buy_alone(
            db,
            user_id=who.user_id,
            campaign_id=campaign_id,
            quantity=quantity,
            address_id=address_id,
            coupon_id=coupon_id,
        )
        screen(
            request,
            db,
            type="order",
            actor=who.user_id,
            target=f"order:{solo.order.id}",
            amount_fen=solo.order.amount,
            cookie=True,
        )
        return {"payment_id": solo.started.payment.id}

    body = {"solo": True, "quantity": quantity, "address_id": address_id, "coupon_id": coupon_id}
    try:
        done = once.do(request, who, state.get("key"), body, work)
    except DomainError as exc:
        if exc.code in _ADDRESS_CODES:
            state.errors.setdefault("address_id", page_message(request, exc))
        else:
            state.refuse(request, exc, "quantity" if exc.extra.get("field") else "_form")
        return _campaign_page(request, campaign_id, state, status_code=exc.status)
    return RedirectResponse(f"/pay/{done['payment_id']}", status_code=303)


# ---------------------------------------------------------------- team (the share link)


def _team_page(
    request: Request, team_id: int, state: FormState | None = None, *, status_code: int = 200
) -> Response:
    who = session.current(request)
    with unit_of_work(readonly=True) as db:
        context = _team_context(db, teams.get_team(db, team_id), who)
        context.update(_checkout(request, db, who, f"/t/{team_id}"))
        context.update(coupon_pages.checkout_choice(db, who, "team"))
    context["form"] = state or FormState.of(quantity="1")
    context["login_next"] = "/login?next=" + quote(f"/t/{team_id}", safe="")
    return render(request, "member/team.html", context, status_code=status_code)


@router.get("/t/{team_id}")
def team_page(request: Request, team_id: int) -> Response:
    return _team_page(request, team_id)


@router.post("/t/{team_id}/join")
def join_team(request: Request, team_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    with unit_of_work(readonly=True) as db:
        team = teams.get_team(db, team_id)
        campaign = _campaign(db, teams.get_campaign(db, team.campaign_id))
    taken = _take_seat(
        request,
        who,
        state,
        campaign,
        lambda db, quantity, address_id, coupon_id: teams.join_team(
            db,
            user_id=who.user_id,
            team_id=team_id,
            quantity=quantity,
            address_id=address_id,
            coupon_id=coupon_id,
        ),
        f"team:{team_id}",
    )
    if isinstance(taken, Response):
        return taken
    return _team_page(request, team_id, state, status_code=taken)


@router.post("/t/{team_id}/leave")
def leave_team(request: Request, team_id: int, form: Form) -> Response:
    """Leave before the team forms: a paid seat is refunded in full (as the API's leave)."""
    who = session.require_buyer(request)
    try:
        run_in_transaction(lambda db: teams.leave_team(db, user_id=who.user_id, team_id=team_id))
    except DomainError as exc:
        state = FormState()
        state.refuse(request, exc)
        return _team_page(request, team_id, state, status_code=exc.status)
    return RedirectResponse(f"/t/{team_id}", status_code=303)


# ---------------------------------------------------------------- share and poster


@router.get("/t/{team_id}/share")
def share_page(request: Request, team_id: int) -> Response:
    who = session.current(request)
    with unit_of_work(readonly=True) as db:
        context = _team_context(db, teams.get_team(db, team_id), who)
    context["share_url"] = absolute_url(request, f"/t/{team_id}")
    context["share_title"] = _team_headline(request, context["opener"])
    return render(request, "member/share.html", context)


def _team_headline(request: Request, opener: str | None) -> str:
    if opener:
        return translate(request, "%(name)s invites you to a team buy", name=opener)
    return translate(request, "Join my team buy")


def _picture(image: str) -> tuple[str, str]:
    """A product picture for a poster: its address and the stamp of its file."""
    return image, poster.stamp(poster.picture_file(STATIC_DIR, image))


def _team_poster(request: Request, context: dict[str, Any], share_url: str) -> poster.Poster:
    view, team, product = context["view"], context["team"], context["campaign"]["product"]
    if view["members_to_form"] and view["joinable"]:
        state = translate(request, "%(n)s more to form", n=view["members_to_form"])
    elif view["formed"]:
        state = translate(request, "Formed")
    else:
        state = translate(request, str(context["team_word"]))
    size = translate(request, "%(n)s-person team", n=team.min_size)
    ladder = tuple(
        f"{translate(request, '%(n)s people', n=step['members'])} {money.fmt(step['unit_price'])}"
        for step in view["ladder"]
    )
    image, stamp = _picture(product["image"])
    return poster.Poster(
        lang=language(request),
        headline=_team_headline(request, context["opener"]),
        subline=f"{state} · {size}",
        title=product["title"],
        price_label=translate(request, "Group price"),
        price=money.fmt(view["final_unit_price"] or view["current_unit_price"]),
        was=f"{translate(request, 'Single price')} {money.fmt(view['single_price'])}",
        ladder=ladder,
        scan=translate(request, "Scan to join"),
        link=share_url,
        picture=image,
        picture_stamp=stamp,
    )


def _wave_poster(request: Request, page: views.WavePage, share_url: str) -> poster.Poster:
    lang = "en" if language(request) == "en" else "zh"
    now = clock.to_local(clock.now()).replace(tzinfo=None)
    cutoff = clock.to_local(page.wave.cutoff_at).replace(tzinfo=None)
    when = pool_rules.cutoff_phrase(cutoff, now, lang)
    if page.delivery_tomorrow:
        arrives = translate(request, "Arrives tomorrow")
    else:
        arrives = translate(request, "Arrives %(d)s", d=page.delivery_date.strftime("%m-%d"))
    head = f"[{page.community.name}] " if lang == "en" else f"【{page.community.name}】"
    rows = tuple(
        f"{n}. {item.title} {money.fmt(item.current_price)} · "
        + translate(request, "%(n)s/%(moq)s ordered", n=item.ordered, moq=item.moq)
        for n, item in enumerate(page.items, start=1)
    )
    prices = [item.current_price for item in page.items]
    image, stamp = _picture(next((i.image_url for i in page.items if i.image_url), PLACEHOLDER))
    return poster.Poster(
        lang=language(request),
        headline=f"{head}{page.wave.title}",
        subline=f"{when} · {arrives}",
        title=translate(
            request, "%(name)s · pickup at %(point)s", name=page.leader_name, point=page.point.name
        ),
        price_label=translate(request, "From"),
        price=money.fmt(min(prices)) if prices else "",
        rows=rows,
        scan=translate(request, "Scan to order"),
        link=share_url,
        picture=image,
        picture_stamp=stamp,
    )


def _png(request: Request, drawn: poster.Poster, cache: str) -> Response:
    """The poster as PNG, answered 304 when the browser holds the same (its ETag is a digest
    of what the poster shows), drawn only when it is not."""
    etag = drawn.etag(poster.current_font())
    headers = {
        "ETag": etag,
        "Cache-Control": cache,
        "Vary": "Accept-Language, Cookie",
        "Content-Language": language(request),
    }
    asked = request.headers.get("if-none-match", "")
    if etag in {tag.strip() for tag in asked.split(",")} or asked.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(poster.png(drawn, STATIC_DIR), media_type=poster.MEDIA_TYPE, headers=headers)


@router.get("/t/{team_id}/poster.png")
def team_poster(request: Request, team_id: int) -> Response:
    """The team's poster: seen by whoever may open the team's page (its share link)."""
    with unit_of_work(readonly=True) as db:
        context = _team_context(db, teams.get_team(db, team_id), None)
    drawn = _team_poster(request, context, absolute_url(request, f"/t/{team_id}"))
    return _png(request, drawn, "public, max-age=60")


@router.get("/w/{listing_id}/poster.png")
def wave_poster(request: Request, listing_id: int) -> Response:
    """A wave's poster: for those who may see the wave (its community's members, its leader,
    operators, and whoever holds its share link, ``?share=``); anyone else gets 404."""
    who = session.current(request)
    share = request.query_params.get("share") or None
    with unit_of_work(readonly=True) as db:
        page = views.wave_page(
            db,
            listing_id,
            who.user_id if who else None,
            operator=who is not None and who.role == "operator",
            share=share[:64] if share else None,
        )
    drawn = _wave_poster(request, page, absolute_url(request, page.share_path))
    return _png(request, drawn, "private, max-age=60")


# ---------------------------------------------------------------- paying (sandbox gateway)


def _pay_context(db: Session, who: Principal, payment_id: int) -> dict[str, Any]:
    payment = payments.get_for_user(db, user_id=who.user_id, payment_id=payment_id)
    order = orders.get_for_user(db, payment.order_id, who.user_id)
    charge = payments.sandbox_charge(db, payment.gateway_ref)
    product = None
    if order.kind == "team":
        product = _product(db, teams.get_campaign(db, order.campaign_id))
    # 支付确认中: this payment, or another of the order (another tab), was charged and its
    # confirmation is on its way; the order is not to be paid again.
    confirming = (
        order.status == orders.OrderStatus.PENDING_PAYMENT
        and payments.in_flight(db, order.id) is not None
    )
    return {
        "payment": payment,
        "order": order,
        "confirming": confirming,
        "poll_url": f"/orders/{order.id}/state" if confirming else "",
        "gateway_status": charge.status if charge else None,
        "product": product,
        "next_url": _after_paying(db, order),
        "key": once.new_key(),
        # Which gateway pays, and the others the member may choose instead (real gateways).
        "gateway_words": status.GATEWAYS,
        "other_gateways": [g for g in payments.gateways() if g != payment.gateway],
    }


def _after_paying(db: Session, order: Any) -> str:
    """Where the payer goes back to: the team's page for a team order, else the order."""
    seat = teams.seat_of(db, order.id) if order.kind == "team" else None
    return f"/t/{seat.team_id}" if seat is not None else f"/orders/{order.id}"


def _pay_refused(
    request: Request, who: Principal, payment_id: int, state: FormState, exc: DomainError
) -> Response:
    state.refuse(request, exc)
    with unit_of_work(readonly=True) as db:
        context = _pay_context(db, who, payment_id)
    context["form"] = state
    return render(request, "member/pay.html", context, status_code=exc.status)


@router.get("/pay/{payment_id}")
def pay_page(request: Request, payment_id: int, who: PageBuyer) -> Response:
    with unit_of_work(readonly=True) as db:
        context = _pay_context(db, who, payment_id)
    return render(request, "member/pay.html", context)


@router.post("/pay/{payment_id}")
def pay(request: Request, payment_id: int, form: Form) -> Response:
    """The payer's choice on the sandbox page: approve or decline. As on the API's sandbox
    page, the gateway answers at once and our order learns the outcome from its callback."""
    who = session.require_buyer(request)
    outcome = str(form.get("outcome") or "")
    state = FormState.of(form)

    def work(db: Session) -> str:
        if outcome not in PAY_OUTCOMES:
            raise _BadOutcome()
        payment = payments.get_for_user(db, user_id=who.user_id, payment_id=payment_id)
        order = orders.get_for_user(db, payment.order_id, who.user_id)
        # A double submit: the gateway holds one charge per payment, so it is not charged twice.
        charge = payments.sandbox_charge(db, payment.gateway_ref)
        if payment.status == payments.PaymentStatus.SUCCEEDED or (
            charge and charge.status == payments.ChargeStatus.SUCCEEDED
        ):
            return _after_paying(db, order)
        if payment.status == payments.PaymentStatus.FAILED or (
            charge and charge.status == payments.ChargeStatus.DECLINED
        ):
            return f"/pay/{payment_id}"
        if payment.status != payments.PaymentStatus.PENDING:
            raise _PaymentClosed()
        orders.assert_payable(order)
        query = parse_qs(urlparse(payments.pay_url(payment)).query)
        payments.sandbox_authorize(
            db, ref=payment.gateway_ref, amount=payment.amount, sig=query["sig"][0], outcome=outcome
        )
        return _after_paying(db, order) if outcome == "approve" else f"/pay/{payment_id}"

    try:
        return RedirectResponse(run_in_transaction(work), status_code=303)
    except (NotFound, orders.errors.NotYourOrder):
        raise
    except DomainError as exc:
        return _pay_refused(request, who, payment_id, state, exc)


@router.post("/pay/{payment_id}/retry")
def pay_again(request: Request, payment_id: int, form: Form) -> Response:
    """A new payment attempt for the same unpaid order (after a decline)."""
    who = session.require_buyer(request)
    state = FormState.of(form)

    def work(db: Session) -> dict[str, Any]:
        old = payments.get_for_user(db, user_id=who.user_id, payment_id=payment_id)
        started = payments.start_for_user(db, user_id=who.user_id, order_id=old.order_id)
        return {"payment_id": started.payment.id}

    try:
        done = once.do(request, who, state.get("key"), {"payment": payment_id}, work)
        return RedirectResponse(f"/pay/{done['payment_id']}", status_code=303)
    except (NotFound, orders.errors.NotYourOrder):
        raise
    except DomainError as exc:
        return _pay_refused(request, who, payment_id, state, exc)


# ---------------------------------------------------------------- paying (real gateways)


@router.get("/pay/{payment_id}/go")
def go_pay(request: Request, payment_id: int, who: PageBuyer) -> Response:
    """On to the gateway's own page (WeChat Pay's H5 page, Alipay's cashier) for the member's
    pending payment; the gateway's notice lands the outcome (a link, not a form: the pages'
    Content-Security-Policy keeps forms on this site)."""
    state = FormState.of(None)
    with unit_of_work(readonly=True) as db:
        payment = payments.get_for_user(db, user_id=who.user_id, payment_id=payment_id)
        order = orders.get_for_user(db, payment.order_id, who.user_id)
    if payment.gateway == "sandbox" or payment.status != payments.PaymentStatus.PENDING:
        return RedirectResponse(f"/pay/{payment_id}", status_code=303)
    try:
        orders.assert_payable(order)
        url = payments.pay_url(payment)
    except DomainError as exc:
        return _pay_refused(request, who, payment_id, state, exc)
    return RedirectResponse(url, status_code=303)


@router.post("/pay/{payment_id}/gateway")
def choose_gateway(request: Request, payment_id: int, form: Form) -> Response:
    """The member pays the order through another of the gateways on: a new payment there."""
    who = session.require_buyer(request)
    state = FormState.of(form)

    def work(db: Session) -> dict[str, Any]:
        old = payments.get_for_user(db, user_id=who.user_id, payment_id=payment_id)
        started = payments.start_for_user(
            db,
            user_id=who.user_id,
            order_id=old.order_id,
            gateway_name=str(form.get("gateway") or ""),
        )
        return {"payment_id": started.payment.id}

    try:
        done = once.do(request, who, state.get("key"), {"payment": payment_id}, work)
        return RedirectResponse(f"/pay/{done['payment_id']}", status_code=303)
    except (NotFound, orders.errors.NotYourOrder):
        raise
    except DomainError as exc:
        return _pay_refused(request, who, payment_id, state, exc)


class _BadOutcome(payments.errors.InvalidOutcome):
    title = "Choose to pay or to decline"


class _PaymentClosed(DomainError):
    code = WebErrorCode.PAYMENT_CLOSED
    status = 409
    title = "This payment is already settled; nothing was charged again"


# Messages shown by the templates through variables (kept here so they are extracted); a
# team's words are web/status.py's.
REFUND_REASONS = {
    "price_protection": i18n.lazy("Price protection: the team reached a cheaper tier"),
    "team_failed": i18n.lazy("The team did not form in time: full refund"),
    "left_team": i18n.lazy("You left the team before it formed: full refund"),
    "opener_free": i18n.lazy("Opener free: your payment is refunded"),
    "late_payment": i18n.lazy("The payment arrived after the hold expired: full refund"),
    "not_shipped": i18n.lazy("The supplier did not ship in time: full refund"),
    "manual": i18n.lazy("Refunded by the platform"),
}
