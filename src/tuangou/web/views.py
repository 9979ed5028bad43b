"""What the member pages show of a wave or an order, read through the domains' services and
shaped for the templates. Read-only: nothing here decides a rule; it only puts together what
the services say (statuses, amounts, pickup codes) so that a page stays a thin entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from tuangou.aftersales import rules as aftersale_rules
from tuangou.aftersales import service as aftersales
from tuangou.bargains import service as bargains
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.errors import DomainError
from tuangou.events import service as events
from tuangou.flashsales import service as flash
from tuangou.fulfilment import service as fulfilment
from tuangou.fulfilment.rules import PickupStatus
from tuangou.orders import rules as order_rules
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.points import service as points
from tuangou.pools import rules as pools_rules
from tuangou.pools import service as pools
from tuangou.teams import service as teams
from tuangou.web import status
from tuangou.web.i18n import lazy

REFUND_REASONS = {
    "price_protection": lazy("Price protection: the group reached a cheaper price"),
    "team_failed": lazy("The team did not form in time"),
    "left_team": lazy("You left the team before it formed"),
    "cancelled_by_member": lazy("You cancelled the order before the cut-off"),
    "opener_free": lazy("Opener free: the opener's order is on the platform"),
    "not_shipped": lazy("The supplier did not ship in time"),
    "late_payment": lazy("The payment arrived after the order was closed"),
    "manual": lazy("Refunded by the platform"),
    "moq_not_met": lazy("Not enough orders for this item (below its minimum)"),
    "not_delivered": lazy("The goods never reached the pickup point"),
    "not_picked_up": lazy("Not picked up in time"),
    "after_sale": lazy("After-sale: missing or damaged items"),
    "event_cancelled": lazy("Event cancelled"),
}
CASE_KINDS = {
    "missing": lazy("Missing items"),
    "damaged": lazy("Damaged items"),
    "wrong": lazy("Wrong items"),
}
CASE_STATUS = status.CASE  # the words for a state are in web/status.py
LINE_STATUS = {
    "open": lazy("Ordered"),
    "confirmed": lazy("Confirmed"),
    "refunded": lazy("Refunded"),
    "cancelled": lazy("Refunded"),
}


# ---------------------------------------------------------------- a wave (接龙)


@dataclass
class WaveItemView:
    id: int
    title: str
    image_url: str
    price: int
    current_price: int
    moq: int
    ordered: int
    available: int
    limit: int
    tiers: list[dict[str, int]]
    next_tier: dict[str, int] | None
    status: str

    @property
    def percent(self) -> int:
        return min(100, self.ordered * 100 // self.moq) if self.moq else 100

    @property
    def sold_out(self) -> bool:
        return self.available <= 0


@dataclass
class WavePage:
    listing: Any
    wave: Any
    community: Any
    leader_name: str
    point: Any
    map_url: str
    items: list[WaveItemView]
    chain: list[dict[str, Any]]  # a page of the chain list (the first, or after ``?chain=``)
    chain_count: int  # the orders in the whole chain
    chain_next: str | None  # the cursor of the page after this one ("更多")
    mine: list[dict[str, Any]]  # the viewer's own lines, wherever they are in the chain
    open: bool
    delivery_date: date
    delivery_tomorrow: bool
    is_member: bool
    invite_code: str | None
    share_path: str  # the wave's share link, which carries its token
    share: str | None = None  # the token this visit came with (kept by the order form)
    # A pre-sale wave not yet open to everyone: when it opens, and the viewer's level if its
    # early hours let them order before then.
    opens_at: datetime | None = None
    early_level: str = ""
    early_hours: int = 0

    @property
    def action(self) -> str:
        """Where the order form posts: the page itself, with the token it was opened with."""
        return f"/w/{self.listing.id}" + (f"?share={self.share}" if self.share else "")


def _image(session: Session, sku_id: int, cache: dict[int, str]) -> str:
    if sku_id not in cache:
        try:
            sku = catalog.get_sku(session, sku_id)
            cache[sku_id] = catalog.get_product(session, sku.product_id).image_url or ""
        except DomainError:
            cache[sku_id] = ""
    return cache[sku_id]


def wave_page(
    session: Session,
    listing_id: int,
    user_id: int | None,
    *,
    operator: bool = False,
    share: str | None = None,
    chain_cursor: str | None = None,
) -> WavePage:
    """The wave for those who may see it (``pools.visible_listing``), else 404; its chain
    list one page at a time (``chain_cursor``: after the page before)."""
    listing = pools.visible_listing(
        session, listing_id, user_id=user_id, operator=operator, share=share
    )
    wave = pools.get_wave(session, listing.wave_id)
    leader = communities.get_leader(session, listing.leader_id)
    point = communities.get_pickup_point(session, listing.pickup_point_id)
    community = communities.get_community(session, listing.community_id)
    names = communities.people(session, [leader.user_id])
    images: dict[int, str] = {}
    items = []
    for item in pools.items_of(session, wave.id):
        p = pools.progress(item)
        items.append(
            WaveItemView(
                id=item.id,
                title=item.title,
                image_url=_image(session, item.sku_id, images),
                price=item.price,
                current_price=p["current_unit_price"],
                moq=item.moq,
                ordered=p["ordered"],
                available=max(0, p["available"]),
                limit=item.per_member_limit,
                tiers=p["tiers"],
                next_tier=p["next_tier"],
                status=item.status,
            )
        )
    now = clock.now()
    member = user_id is not None and communities.is_member(session, community.id, user_id)
    summary = pools.chain_summary(session, listing.id, viewer_id=user_id, latest=0)
    chain = pools.chain_page(session, listing.id, viewer_id=user_id, cursor=chain_cursor)
    return WavePage(
        listing=listing,
        wave=wave,
        community=community,
        leader_name=names[leader.user_id].nickname,
        point=point,
        map_url=_map_url(point),
        items=items,
        chain=chain.lines,
        chain_count=summary.count,
        chain_next=chain.next_cursor,
        mine=summary.mine,
        open=wave.status == pools.WaveStatus.OPEN and wave.cutoff_at > now,
        delivery_date=wave.delivery_date,
        delivery_tomorrow=(wave.delivery_date - clock.local_date(now)).days == 1,
        is_member=member,
        invite_code=community.invite_code if user_id is not None and not member else None,
        share_path=pools_rules.share_path(listing.id, listing.share_token),
        share=share if share == listing.share_token else None,
        **_early(session, wave.id, user_id, now),
    )


def _early(session: Session, wave_id: int, user_id: int | None, now: datetime) -> dict[str, Any]:
    opening = pools.opens_at(session, wave_id)
    if opening is None or opening <= now:
        return {}
    level = points.level_of(session, user_id) if user_id is not None else None
    if level is None or level.early_hours <= 0:
        return {"opens_at": opening}
    return {"opens_at": opening, "early_level": level.name, "early_hours": level.early_hours}


def _map_url(point: Any) -> str:
    from tuangou.fulfilment import rules as fulfilment_rules

    return fulfilment_rules.map_link(point.latitude, point.longitude, point.name)


# ---------------------------------------------------------------- orders


@dataclass
class Step:
    label: str
    at: datetime | None
    done: bool
    refund: bool = False
    note: str = ""
    amount: int | None = None
    said: str = ""  # an operator's own words to the member (a manual refund's reason)


@dataclass
class Line:
    item_id: int | None
    title: str
    quantity: int
    unit_price: int
    final_unit_price: int | None
    status: str

    @property
    def status_label(self) -> str:
        return LINE_STATUS.get(self.status, self.status)


class _OrderStatus:
    """An order's state in words (web/status.py), and the colour of its badge."""

    order: Any
    state: str

    @property
    def status_label(self) -> str:
        return status.order_word(self.state or self.order.status)

    @property
    def badge(self) -> str:
        return status.order_badge(self.state or self.order.status)

    @property
    def confirming(self) -> bool:
        """Paid at the gateway, its confirmation on its way (支付确认中): not to be paid again."""
        return self.state == status.CONFIRMING


@dataclass
class OrderCard(_OrderStatus):
    order: Any
    title: str
    state: str = ""
    tab: str | None = None


@dataclass
class OrderPage(_OrderStatus):
    order: Any
    title: str
    lines: list[Line]
    refunds: list[Any]
    steps: list[Step]
    in_escrow: int
    pending_payment_id: int | None
    state: str = ""
    pickup: dict[str, Any] | None = None
    seq: int | None = None
    remark: str = ""
    listing_id: int | None = None
    team_id: int | None = None
    cases: list[Any] = field(default_factory=list)
    case_photos: dict[int, int] = field(default_factory=dict)
    rating: Any = None
    can_report: bool = False
    can_rate: bool = False
    can_confirm: bool = False

    @property
    def kept(self) -> int:
        return int(self.order.paid_amount - self.order.refunded_amount)


def refund_reason(reason: str) -> str:
    return REFUND_REASONS.get(reason, reason)


def _title(session: Session, order: Any, cache: dict[tuple[str, int], str]) -> str:
    key = (order.kind, order.campaign_id)
    if key not in cache:
        try:
            if order.kind == "wave":
                cache[key] = pools.get_wave(session, order.campaign_id).title
            elif order.kind == flash.KIND_NAME:
                cache[key] = flash.get_slot(session, order.campaign_id).title
            elif order.kind == bargains.KIND_NAME:
                cache[key] = bargains.get_campaign(session, order.campaign_id).title
            elif order.kind == events.KIND_NAME:
                cache[key] = events.get_event(session, order.campaign_id).title
            else:
                cache[key] = teams.get_campaign(session, order.campaign_id).title
        except DomainError:
            cache[key] = ""
    return cache[key]


def _team_status(session: Session, order: Any) -> str | None:
    """The status of a team order's team (None for a wave order, or a team not found)."""
    if order.kind != "team":
        return None
    seat = teams.seat_of(session, order.id)
    if seat is None:
        return None
    try:
        return str(teams.get_team(session, seat.team_id).status)
    except DomainError:
        return None


def order_state(session: Session, order: Any) -> str:
    """The state a member reads on ``order`` (:func:`status.order_state`): 支付确认中 while a
    charged payment waits for its confirmation, 已成团 for a paid order of a formed team."""
    confirming = (
        order.status == orders.OrderStatus.PENDING_PAYMENT
        and payments.in_flight(session, order.id) is not None
    )
    return status.order_state(
        order.status,
        kind=order.kind,
        confirming=confirming,
        team_status=_team_status(session, order),
    )


def order_cards(
    session: Session, user_id: int, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[OrderCard], str | None]:
    """A page of the member's orders, newest first, each with its state and the tab of
    我的订单 it is under, and the cursor of the next page (None on the last)."""
    cache: dict[tuple[str, int], str] = {}
    with_case = {c.order_id for c in aftersales.cases_of_member(session, user_id)}
    cards = []
    found, more = orders.page_for_user(session, user_id, cursor=cursor, limit=limit)
    for o in found:
        state = order_state(session, o)
        tab = status.tab_of(state, refunded=o.refunded_amount, cases=int(o.id in with_case))
        cards.append(OrderCard(o, _title(session, o, cache), state, tab))
    return cards, more


def _steps(order: Any, pickup: Any, formed_at: datetime | None, refunds: list[Any]) -> list[Step]:
    wave = order.kind == "wave"
    # The states' own words (web/status.py), as the pill and the team page say them.
    word = status.STEP
    plan: list[tuple[str, datetime | None]] = [
        (word[orders.OrderStatus.PAID], order.paid_at),
        (word[orders.OrderStatus.CONFIRMED], formed_at or order.settled_at),
        (word[orders.OrderStatus.SHIPPED], order.shipped_at),
    ]
    if wave:
        plan += [
            (lazy("Arrived"), pickup.arrived_at if pickup is not None else None),
            (status.PICKUP[PickupStatus.PICKED_UP], pickup.picked_up_at if pickup else None),
        ]
    plan.append((word[orders.OrderStatus.COMPLETED], order.completed_at))
    closed = order.status in orders.CLOSED
    steps = [Step(label, at, at is not None) for label, at in plan if at is not None or not closed]
    if order.status == orders.OrderStatus.CANCELLED:
        steps.append(Step(word[orders.OrderStatus.CANCELLED], order.closed_at, True, refund=True))
    # Every refund is a step of its own, with its amount and why (price protection and
    # partial refunds happen on live orders too).
    for r in refunds:
        steps.append(
            Step(
                word[orders.OrderStatus.REFUNDED],
                r.created_at,
                True,
                refund=True,
                note=refund_reason(r.reason),
                amount=r.amount,
                said=r.note if r.reason == "manual" else "",
            )
        )
    # By the minute: a refund made in the same settlement shows after the step that made it.
    steps.sort(
        key=lambda s: (s.at is None, (s.at or datetime.max).replace(second=0, microsecond=0))
    )
    return steps


def order_page(session: Session, order_id: int, user_id: int) -> OrderPage:
    """The member's own order; anybody else's is "no such order" (never a hint it exists)."""
    try:
        order = orders.get_for_user(session, order_id, user_id)
    except orders.errors.NotYourOrder as exc:
        raise orders.errors.OrderNotFound() from exc
    refunds = orders.refunds_of(session, order.id)
    state = order_state(session, order)
    pending = [
        p.id
        for p in payments.payments_of(session, order.id)
        if p.status == payments.PaymentStatus.PENDING
        and order.status == orders.OrderStatus.PENDING_PAYMENT
        and state != status.CONFIRMING  # its payment is in flight: nothing to pay
    ]
    page = OrderPage(
        order=order,
        title=_title(session, order, {}),
        lines=[],
        refunds=refunds,
        steps=[],
        in_escrow=order_rules.in_escrow(
            order.paid_amount, order.subsidy_amount, order.refunded_amount, order.released_amount
        ),
        pending_payment_id=pending[-1] if pending else None,
        state=state,
    )
    pickup_row = None
    formed_at = None
    if order.kind == "wave":
        info = pools.info_of(session, order.id)
        titles = {i.id: i.title for i in pools.items_of(session, info.wave_id)}
        page.lines = [
            Line(
                line.item_id,
                titles.get(line.item_id, ""),
                line.quantity,
                line.unit_price,
                line.final_unit_price,
                line.status,
            )
            for line in pools.lines_of(session, order.id)
        ]
        page.seq, page.remark, page.listing_id = info.seq, info.remark, info.listing_id
        page.pickup = fulfilment.member_pickup(session, user_id=user_id, order_id=order.id)
        pickup_row = fulfilment.pickup_of_order(session, order.id)
        page.rating = aftersales.rating_of(session, order.id)
        page.can_rate = order.status == orders.OrderStatus.COMPLETED and page.rating is None
    else:
        page.lines = [
            Line(
                None,
                page.title,
                order.quantity,
                order.unit_price,
                order.final_unit_price,
                order.status,
            )
        ]
        seat = teams.seat_of(session, order.id)
        page.team_id = seat.team_id if seat is not None else None
        if page.team_id is not None:
            try:
                team = teams.get_team(session, page.team_id)
                formed_at = team.formed_at if order.paid_at is not None else None
            except DomainError:
                formed_at = None
        page.can_confirm = order.status == orders.OrderStatus.SHIPPED
    page.steps = _steps(order, pickup_row, formed_at, refunds)
    page.cases = [c for c in aftersales.cases_of_member(session, user_id) if c.order_id == order.id]
    page.case_photos = {c.id: len(aftersales.photos_of(session, c.id)) for c in page.cases}
    page.can_report = aftersale_rules.reportable(
        order.kind, order.status
    ) and aftersale_rules.window_open(order.status, order.completed_at, clock.now())
    return page
