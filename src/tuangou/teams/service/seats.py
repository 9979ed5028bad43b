"""Taking a seat in a team (opening one, joining one), leaving it before it forms, and
buying alone (单独购买).

Every write is guarded (DOMAIN.md invariants 1 and 2):

* stock: ``UPDATE team_campaigns SET held = held + q, reserved = reserved + r
  WHERE sold + held + reserved + q + r <= stock``; opening reserves the rest of its team's
  minimum size (``r > 0``: a team opens only if it can form), a join draws from its team's
  reservation first (``r < 0``; see ``rules.opening_reservation``);
* seats: ``UPDATE teams SET seats_taken = seats_taken + 1 WHERE seats_taken < max_size``,
  plus a unique index on a member's live seat in a team.

Locks, in the one order (:mod:`tuangou.core.locks`): the team, the member's limit, the
campaign's stock last (the hottest row, held only to the commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tuangou.accounts import service as accounts
from tuangou.core import clock, locks
from tuangou.core.db import execute, get_or_404, insert_loaded, table
from tuangou.core.errors import InvalidInput
from tuangou.core.locks import Rank
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.teams import errors, rules
from tuangou.teams.models import Team, TeamCampaign, TeamSeat
from tuangou.teams.rules import SeatStatus, TeamStatus
from tuangou.teams.service import campaigns, gate, locking, membership

if TYPE_CHECKING:
    from tuangou.orders.models import Order


@dataclass(frozen=True)
class Seat:
    team: Team
    order: Order
    started: payments.Started


# The hot statements of a join, built once on the tables (plain Core: no ORM bookkeeping).
_campaigns = table(TeamCampaign)
_teams = table(Team)
_TAKE_STOCK = (
    update(_campaigns)
    .where(
        _campaigns.c.id == bindparam("b_campaign"),
        _campaigns.c.sold
        + _campaigns.c.held
        + _campaigns.c.reserved
        + bindparam("b_quantity")
        + bindparam("b_reserve")
        <= _campaigns.c.stock,
    )
    .values(
        held=_campaigns.c.held + bindparam("b_quantity"),
        reserved=_campaigns.c.reserved + bindparam("b_reserve"),
    )
)
_TAKE_SEAT = (
    update(_teams)
    .where(
        _teams.c.id == bindparam("b_team"),
        _teams.c.status.in_(tuple(rules.JOINABLE)),
        _teams.c.seats_taken < _teams.c.max_size,
        _teams.c.deadline > bindparam("b_now"),
    )
    .values(seats_taken=_teams.c.seats_taken + 1)
    .returning(
        _teams.c.status,
        _teams.c.seats_taken,
        _teams.c.paid_count,
        _teams.c.deadline,
        _teams.c.reserved,
    )
)
_DRAW = (
    update(_teams)
    .where(_teams.c.id == bindparam("b_team"))
    .values(reserved=_teams.c.reserved - bindparam("b_drawn"))
)
_ADD_SEAT = insert(table(TeamSeat))
_SEAT_COLUMNS = ("status", "seats_taken", "paid_count", "deadline", "reserved")
_TEAM_AND_CAMPAIGN = (
    select(Team, TeamCampaign)
    .join(TeamCampaign, TeamCampaign.id == Team.campaign_id)
    .where(Team.id == bindparam("b_team"))
)


def _check_quantity(campaign: TeamCampaign, quantity: int) -> None:
    if not 1 <= quantity <= campaign.max_quantity_per_order:
        raise InvalidInput(
            f"quantity must be 1 to {campaign.max_quantity_per_order}", field="quantity"
        )


def _take_stock(
    session: Session,
    campaign: TeamCampaign,
    quantity: int,
    *,
    reserve: int = 0,
    team_id: int | None = None,
) -> None:
    """Hold ``quantity`` on the campaign's row and move ``reserve`` units into (or, when
    negative, out of) its teams' reservations, or refuse (the whole unit of work rolls back).

    A join calls this last: every join of a campaign updates this one row, and on PostgreSQL
    its lock is held from here to the commit, so the less work after it, the more joins per
    second."""
    locks.note(session, Rank.STOCK, campaign.id)
    taken = execute(
        session,
        _TAKE_STOCK,
        {"b_campaign": campaign.id, "b_quantity": quantity, "b_reserve": reserve},
    ).rowcount
    if taken:
        if reserve <= 0 < quantity + reserve:
            # Free units taken (a team growing past its minimum, buying alone): a mark's free
            # count may now say too much; the next refusal marks it again.
            gate.given_back(campaign.id)
        return
    # A refusal: remember it if no team can open (and no seat of this team be had), so the
    # next ones are answered from memory (``gate``).
    gate.note_refusal(session, campaign_id=campaign.id, team_id=team_id)
    if reserve > 0:
        # Opening: if a lone unit or so is left, say that the way in is an open team.
        free = session.execute(
            select(
                TeamCampaign.stock - TeamCampaign.sold - TeamCampaign.held - TeamCampaign.reserved
            ).where(TeamCampaign.id == campaign.id)
        ).scalar_one()
        if free >= quantity:
            raise errors.TooFewToOpen()
    raise errors.SoldOut()


def _take_seat(
    session: Session,
    *,
    campaign: TeamCampaign,
    team: Team,
    user_id: int,
    quantity: int,
    address: dict[str, Any],
    is_opener: bool,
    reserve: int,
    coupon_id: int | None = None,
) -> Seat:
    """The member's order, seat and payment, then the stock: what opening and joining share
    once the team's seat is taken. ``reserve``: the units moved into the team's reservation
    (opening) or drawn from it (a join, negative)."""
    orders.reserve_quantity(
        session,
        campaign_id=campaign.id,
        user_id=user_id,
        quantity=quantity,
        limit=campaign.per_member_limit,
    )
    unit = rules.join_price(
        campaigns.tiers_of(campaign),
        is_opener=is_opener,
        perk=campaign.opener_perk,
        opener_price=campaign.opener_price,
    )
    order = orders.create_order(
        session,
        user_id=user_id,
        supplier_id=campaign.supplier_id,
        kind="team",
        campaign_id=campaign.id,
        sku_id=campaign.sku_id,
        quantity=quantity,
        unit_price=unit,
        address=address,
        hold_minutes=campaign.hold_minutes,
        coupon_id=coupon_id,
    )
    try:  # the whole unit of work rolls back on a refusal, so no savepoint is needed
        execute(
            session,
            _ADD_SEAT,
            {
                "team_id": team.id,
                "user_id": user_id,
                "order_id": order.id,
                "status": SeatStatus.HELD,
                "is_opener": is_opener,
                "joined_at": clock.now(),
                "paid_at": None,
            },
        )
    except IntegrityError as exc:
        raise errors.AlreadyInTeam() from exc
    started = payments.start(session, order)
    _take_stock(
        session, campaign, quantity, reserve=reserve, team_id=None if is_opener else team.id
    )
    return Seat(team, order, started)


def open_team(
    session: Session,
    *,
    user_id: int,
    campaign_id: int,
    quantity: int = 1,
    address: dict[str, Any] | None = None,
    address_id: int | None = None,
    coupon_id: int | None = None,
) -> Seat:
    """Open a team: the opener's order and payment; the team opens once the opener paid.
    The units of the team's minimum size are set aside at once, or it does not open."""
    campaign = campaigns.get_campaign(session, campaign_id)
    if not campaigns.is_live(campaign):
        raise errors.CampaignNotLive()
    _check_quantity(campaign, quantity)
    address = accounts.shipping_address(session, user_id, address, address_id=address_id)
    reserve = rules.opening_reservation(quantity, campaign.min_size)
    team = Team(
        campaign_id=campaign.id,
        opener_id=user_id,
        status=TeamStatus.PENDING,
        min_size=campaign.min_size,
        max_size=campaign.max_size,
        seats_taken=1,
        paid_count=0,
        created_at=clock.now(),
        reserved=reserve,
        seat_units=quantity,
    )
    insert_loaded(session, team)
    return _take_seat(
        session,
        campaign=campaign,
        team=team,
        user_id=user_id,
        quantity=quantity,
        address=address,
        is_opener=True,
        reserve=reserve,
        coupon_id=coupon_id,
    )


def _why_not_joinable(team: Team, now: datetime) -> errors.Conflict:
    if team.status == TeamStatus.PENDING:
        return errors.TeamPending()
    if team.status not in rules.JOINABLE or (team.deadline and team.deadline <= now):
        return errors.TeamClosed()
    return errors.TeamFull()


def join_team(
    session: Session,
    *,
    user_id: int,
    team_id: int,
    quantity: int = 1,
    address: dict[str, Any] | None = None,
    address_id: int | None = None,
    coupon_id: int | None = None,
) -> Seat:
    """Join a team through its share link: a seat, the member's order and payment."""
    row = session.execute(_TEAM_AND_CAMPAIGN, {"b_team": team_id}).first()
    if row is None:
        raise errors.TeamNotFound()
    team, campaign = row
    now = clock.now()
    if team.opener_id == user_id:
        raise errors.OwnTeam()
    if team.status not in rules.JOINABLE or (team.deadline and team.deadline <= now):
        raise _why_not_joinable(team, now)
    if campaign.status != rules.CampaignStatus.ACTIVE:
        raise errors.CampaignNotLive()
    _check_quantity(campaign, quantity)
    if campaign.new_member_only and orders.has_paid_order(session, user_id):
        raise errors.NotNewMember()
    address = accounts.shipping_address(session, user_id, address, address_id=address_id)
    locks.note(session, Rank.GROUP, team_id)
    seated = execute(session, _TAKE_SEAT, {"b_team": team_id, "b_now": now}).first()
    if seated is None:
        session.refresh(team)
        # Only now (the seat update failed) is it worth asking whether they are already in.
        if membership.live_seat(session, team_id, user_id) is not None:
            raise errors.AlreadyInTeam()
        raise _why_not_joinable(team, now)
    # The team as this transaction left it, without reading it again.
    for name, value in zip(_SEAT_COLUMNS, seated, strict=True):
        set_committed_value(team, name, value)
    # The team's reservation first (its row is this transaction's already), then free stock.
    draw = rules.drawn(team.reserved, quantity)
    if draw:
        execute(session, _DRAW, {"b_team": team_id, "b_drawn": draw})
        set_committed_value(team, "reserved", team.reserved - draw)
    # A second live seat is refused by the unique index (see _take_seat).
    return _take_seat(
        session,
        campaign=campaign,
        team=team,
        user_id=user_id,
        quantity=quantity,
        address=address,
        is_opener=False,
        reserve=-draw,
        coupon_id=coupon_id,
    )


def leave_team(session: Session, *, user_id: int, team_id: int) -> Order:
    """Leave a team before it forms: a paid seat is refunded in full, an unpaid one released.
    If the opener leaves, the earliest remaining member becomes the opener; a team with
    nobody paid left closes."""
    seat = membership.live_seat(session, team_id, user_id)
    if seat is None:
        get_or_404(session, Team, team_id, errors.TeamNotFound)
        raise errors.NotInTeam()
    team = locking.lock_team(session, team_id)
    held = locking.lock_members(session, team, limits=True)
    session.refresh(seat)
    if seat.status not in rules.LIVE_SEATS:
        raise errors.NotInTeam()
    order = held.orders[seat.order_id]
    paid = seat.status == SeatStatus.PAID
    if not rules.may_leave(team.status, is_opener=seat.is_opener, seat_paid=paid):
        raise errors.TeamAlreadyFormed()
    if not paid:
        orders.release_unpaid(session, order, reason="left_team")
        return order
    was_opener = seat.is_opener
    paid_left = session.execute(
        update(Team)
        .where(Team.id == team_id, Team.status == TeamStatus.OPEN)
        .values(seats_taken=Team.seats_taken - 1, paid_count=Team.paid_count - 1)
        .returning(Team.paid_count)
    ).scalar()
    if paid_left is None:
        raise errors.TeamAlreadyFormed()
    session.execute(
        update(TeamSeat)
        .where(TeamSeat.id == seat.id, TeamSeat.status == SeatStatus.PAID)
        .values(status=SeatStatus.LEFT, is_opener=False)
    )
    orders.release_quantity(
        session, campaign_id=order.campaign_id, user_id=order.user_id, quantity=order.quantity
    )
    orders.refund_in_full(session, order, reason="left_team", note="left the team before it formed")
    # The units go back to the team's reservation while it still needs them to form.
    back = membership.to_reservation(session, team_id, order.quantity)
    session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == order.campaign_id)
        .values(sold=TeamCampaign.sold - order.quantity, reserved=TeamCampaign.reserved + back)
    )
    gate.given_back(order.campaign_id)
    session.refresh(team)
    after = rules.after_leaving(was_opener=was_opener, paid_left=paid_left)
    if after.hand_over:
        membership.hand_over(session, team)
    if after.close:
        membership.close(session, team, reason="everyone_left")
    return order


@dataclass(frozen=True)
class Solo:
    order: Order
    started: payments.Started


def buy_alone(
    session: Session,
    *,
    user_id: int,
    campaign_id: int,
    quantity: int = 1,
    address: dict[str, Any] | None = None,
    address_id: int | None = None,
    coupon_id: int | None = None,
) -> Solo:
    """单独购买: a plain order at the single price, no team. It is a team order without a seat:
    the member's limit, the stock (free stock only: teams' reservations are theirs), the one
    payment path and the escrow are a team order's; paid, it is confirmed at once to be
    shipped (``hooks.on_paid``), and refunds, shipping and after-sales treat it as any other
    confirmed team order.

    Locks: the member's limit, then the campaign's stock (the order and its payment are
    rows this transaction inserts)."""
    campaign = campaigns.get_campaign(session, campaign_id)
    if not campaigns.is_live(campaign):
        raise errors.CampaignNotLive()
    if not campaign.allow_solo:
        raise errors.SoloNotAllowed()
    _check_quantity(campaign, quantity)
    address = accounts.shipping_address(session, user_id, address, address_id=address_id)
    orders.reserve_quantity(
        session,
        campaign_id=campaign.id,
        user_id=user_id,
        quantity=quantity,
        limit=campaign.per_member_limit,
    )
    order = orders.create_order(
        session,
        user_id=user_id,
        supplier_id=campaign.supplier_id,
        kind="team",
        campaign_id=campaign.id,
        sku_id=campaign.sku_id,
        quantity=quantity,
        unit_price=campaign.single_price,
        address=address,
        hold_minutes=campaign.hold_minutes,
        coupon_id=coupon_id,
    )
    started = payments.start(session, order)
    _take_stock(session, campaign, quantity)
    return Solo(order, started)
