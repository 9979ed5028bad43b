"""Team buys (拼团): campaigns, opening and joining teams, leaving, forming and settlement.

Every write is guarded (DOMAIN.md invariants 1–4):
* stock:   ``UPDATE team_campaigns SET held = held + q WHERE sold + held + q <= stock``
* seats:   ``UPDATE teams SET seats_taken = seats_taken + 1 WHERE seats_taken < max_size``
           plus a unique index on a member's live seat in a team;
* states:  compare-and-set (``WHERE status IN (...)``), so a team settles exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.core import clock, outbox
from tuangou.core.db import execute, insert_loaded, is_sqlite, read, run_in_transaction, table
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.teams import errors, rules
from tuangou.teams.models import Team, TeamCampaign, TeamSeat

# ---------------------------------------------------------------- campaigns

if TYPE_CHECKING:
    from tuangou.orders.models import Order


@dataclass
class CampaignInput:
    sku_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    tiers: list[tuple[int, int]]
    stock: int
    min_size: int = 2
    max_size: int | None = None
    window_hours: int = 24
    per_member_limit: int = 5
    max_quantity_per_order: int = 1
    completion_enabled: bool = False
    completion_percent: int = 80
    subsidy_budget: int = 0
    opener_perk: str = "none"
    opener_price: int | None = None
    new_member_only: bool = False
    hold_minutes: int = 15
    ship_within_hours: int = 72


def create_campaign(session: Session, data: CampaignInput) -> TeamCampaign:
    sku = catalog.get_sku(session, data.sku_id)
    product = catalog.get_product(session, sku.product_id)
    max_size = data.max_size if data.max_size is not None else data.min_size
    tiers = rules.normalise_tiers(data.tiers)
    try:
        rules.validate_campaign(
            tiers=tiers,
            min_size=data.min_size,
            max_size=max_size,
            window_hours=data.window_hours,
            single_price=sku.price,
            opener_perk=data.opener_perk,
            opener_price=data.opener_price,
            completion_percent=data.completion_percent,
            per_member_limit=data.per_member_limit,
            max_quantity_per_order=data.max_quantity_per_order,
        )
    except rules.RuleViolation as exc:
        raise errors.InvalidCampaign(exc.message, field=exc.field) from exc
    if data.ends_at <= data.starts_at:
        raise errors.InvalidCampaign("the campaign must end after it starts", field="ends_at")
    if data.stock < 1:
        raise errors.InvalidCampaign("the campaign needs stock", field="stock")
    if data.subsidy_budget < 0:
        raise errors.InvalidCampaign(
            "the subsidy budget cannot be negative", field="subsidy_budget"
        )
    if not 1 <= data.hold_minutes <= 24 * 60:
        raise errors.InvalidCampaign("hold minutes must be 1 to 1440", field="hold_minutes")
    if data.ship_within_hours < 1:
        raise errors.InvalidCampaign(
            "ship-within must be at least 1 hour", field="ship_within_hours"
        )
    catalog.allocate(session, sku_id=sku.id, quantity=data.stock)
    campaign = TeamCampaign(
        sku_id=sku.id,
        supplier_id=product.supplier_id,
        title=data.title.strip() or product.title,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        min_size=data.min_size,
        max_size=max_size,
        window_hours=data.window_hours,
        tiers=[list(t) for t in tiers],
        single_price=sku.price,
        stock=data.stock,
        sold=0,
        held=0,
        per_member_limit=data.per_member_limit,
        max_quantity_per_order=data.max_quantity_per_order,
        completion_enabled=data.completion_enabled,
        completion_percent=data.completion_percent,
        subsidy_budget=data.subsidy_budget,
        subsidy_used=0,
        opener_perk=data.opener_perk,
        opener_price=data.opener_price if data.opener_perk == "price" else None,
        new_member_only=data.new_member_only,
        hold_minutes=data.hold_minutes,
        ship_within_hours=data.ship_within_hours,
        status="active",
        created_at=clock.now(),
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: int) -> TeamCampaign:
    campaign = session.get(TeamCampaign, campaign_id)
    if campaign is None:
        raise errors.CampaignNotFound()
    return campaign


def is_live(campaign: TeamCampaign, now: datetime | None = None) -> bool:
    """Open for new teams: active and within its time (an ended campaign is never active)."""
    now = now or clock.now()
    return campaign.status == "active" and campaign.starts_at <= now < campaign.ends_at


def list_campaigns(session: Session, *, live_only: bool = True) -> list[TeamCampaign]:
    query = select(TeamCampaign).order_by(TeamCampaign.id)
    if live_only:
        now = clock.now()
        query = query.where(
            TeamCampaign.status == "active",
            TeamCampaign.starts_at <= now,
            TeamCampaign.ends_at > now,
        )
    return list(session.scalars(query))


def set_campaign_status(session: Session, campaign_id: int, status: str) -> TeamCampaign:
    if status not in ("active", "paused"):
        raise errors.InvalidCampaign("status must be active or paused", field="status")
    campaign = get_campaign(session, campaign_id)
    moved = session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == campaign_id, TeamCampaign.status != "ended")
        .values(status=status)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise errors.CampaignEnded()
    session.refresh(campaign)
    return campaign


# ---------------------------------------------------------------- a campaign's end

_UNSETTLED = tuple(rules.UNSETTLED)


def close_campaign(session: Session, campaign_id: int) -> int | None:
    """End a campaign whose time is over and that has nothing left in play: no unit held by
    an unpaid order and no team still pending, open or formed (whose failure would give units
    back). Its books with the SKU are then settled, once: the units sold leave the SKU's stock,
    the unsold go back to the SKU, and the campaign's stock becomes what it sold.

    Returns the units given back, or None if the campaign cannot end yet (or already ended).
    One guarded UPDATE decides, so two workers never settle a campaign twice."""
    now = clock.now()
    ended = session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == campaign_id, *_can_end(now))
        .values(
            status="ended",
            ended_at=now,
            returned=TeamCampaign.stock - TeamCampaign.sold,  # (SET reads the old row)
            stock=TeamCampaign.sold,
        )
        .returning(TeamCampaign.sku_id, TeamCampaign.sold, TeamCampaign.returned)
    ).first()
    if ended is None:
        return None
    sku_id, sold, returned = ended
    catalog.settle_allocation(session, sku_id=sku_id, allocated=sold + returned, sold=sold)
    return int(returned)


def _can_end(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A campaign past its end with nothing left in play (the worker's pick and the guard of
    the UPDATE that ends it: a campaign still waiting on a team costs no write)."""
    live_team = (
        select(Team.id)
        .where(Team.campaign_id == TeamCampaign.id, Team.status.in_(_UNSETTLED))
        .exists()
    )
    return (
        TeamCampaign.status != "ended",
        TeamCampaign.ends_at <= now,
        TeamCampaign.held == 0,
        ~live_team,
    )


def close_ended(limit: int = 50) -> int:
    """Worker job: end the campaigns whose time is over and that have nothing left in play."""

    def due(session: Session) -> list[int]:
        query = select(TeamCampaign.id).where(*_can_end(clock.now()))
        return list(session.scalars(query.order_by(TeamCampaign.ends_at).limit(limit)))

    closed = 0
    for campaign_id in read(due):
        if run_in_transaction(partial(close_campaign, campaign_id=campaign_id)) is not None:
            closed += 1
    return closed


def tiers_of(campaign: TeamCampaign) -> list[rules.Tier]:
    return rules.normalise_tiers(campaign.tiers)


# ---------------------------------------------------------------- opening and joining


@dataclass(frozen=True)
class Seat:
    team: Team
    order: Order
    started: payments.Started


def _check_quantity(campaign: TeamCampaign, quantity: int) -> None:
    if not 1 <= quantity <= campaign.max_quantity_per_order:
        from tuangou.core.errors import InvalidInput

        raise InvalidInput(
            f"quantity must be 1 to {campaign.max_quantity_per_order}", field="quantity"
        )


# The hot statements of a join, built once on the tables (plain Core: no ORM bookkeeping).
_campaigns = table(TeamCampaign)
_teams = table(Team)
_seats = table(TeamSeat)
_TAKE_STOCK = (
    update(_campaigns)
    .where(
        _campaigns.c.id == bindparam("b_campaign"),
        _campaigns.c.sold + _campaigns.c.held + bindparam("b_quantity") <= _campaigns.c.stock,
    )
    .values(held=_campaigns.c.held + bindparam("b_quantity"))
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
    .returning(_teams.c.status, _teams.c.seats_taken, _teams.c.paid_count, _teams.c.deadline)
)
_ADD_SEAT = insert(_seats)
_SEAT_COLUMNS = ("status", "seats_taken", "paid_count", "deadline")
_TEAM_AND_CAMPAIGN = (
    select(Team, TeamCampaign)
    .join(TeamCampaign, TeamCampaign.id == Team.campaign_id)
    .where(Team.id == bindparam("b_team"))
)


def _take_stock(session: Session, campaign: TeamCampaign, quantity: int) -> None:
    """Hold stock on the campaign's row, or refuse (the whole unit of work rolls back).

    A join calls this last: every join of a campaign updates this one row, and on PostgreSQL
    its lock is held from here to the commit, so the less work after it, the more joins per
    second. Row locks are taken team first, campaign second (the worker does the same).
    """
    taken = execute(
        session, _TAKE_STOCK, {"b_campaign": campaign.id, "b_quantity": quantity}
    ).rowcount
    if not taken:
        raise errors.SoldOut()


def _place_order(
    session: Session,
    *,
    campaign: TeamCampaign,
    team: Team,
    user_id: int,
    quantity: int,
    address: dict[str, Any],
    is_opener: bool,
) -> Seat:
    tiers = tiers_of(campaign)
    unit = rules.join_price(
        tiers, is_opener=is_opener, perk=campaign.opener_perk, opener_price=campaign.opener_price
    )
    order = orders.create_order(
        session,
        user_id=user_id,
        supplier_id=campaign.supplier_id,
        kind="team",
        campaign_id=campaign.id,
        team_id=team.id,
        sku_id=campaign.sku_id,
        quantity=quantity,
        unit_price=unit,
        address=address,
        hold_minutes=campaign.hold_minutes,
        is_opener=is_opener,
    )
    try:  # the whole unit of work rolls back on a refusal, so no savepoint is needed
        execute(
            session,
            _ADD_SEAT,
            {
                "team_id": team.id,
                "user_id": user_id,
                "order_id": order.id,
                "status": "held",
                "is_opener": is_opener,
                "joined_at": clock.now(),
                "paid_at": None,
            },
        )
    except IntegrityError as exc:
        raise errors.AlreadyInTeam() from exc
    return Seat(team, order, payments.start(session, order))


def open_team(
    session: Session,
    *,
    user_id: int,
    campaign_id: int,
    quantity: int = 1,
    address: dict[str, Any] | None = None,
) -> Seat:
    campaign = get_campaign(session, campaign_id)
    if not is_live(campaign):
        raise errors.CampaignNotLive()
    _check_quantity(campaign, quantity)
    address = accounts.shipping_address(session, user_id, address)
    orders.reserve_quantity(
        session,
        campaign_id=campaign.id,
        user_id=user_id,
        quantity=quantity,
        limit=campaign.per_member_limit,
    )
    team = Team(
        campaign_id=campaign.id,
        opener_id=user_id,
        status="pending",
        min_size=campaign.min_size,
        max_size=campaign.max_size,
        seats_taken=1,
        paid_count=0,
        created_at=clock.now(),
    )
    insert_loaded(session, team)
    seat = _place_order(
        session,
        campaign=campaign,
        team=team,
        user_id=user_id,
        quantity=quantity,
        address=address,
        is_opener=True,
    )
    _take_stock(session, campaign, quantity)
    return seat


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise errors.TeamNotFound()
    return team


def _why_not_joinable(team: Team, now: datetime) -> errors.Conflict:
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
) -> Seat:
    # The team and its campaign in one query.
    row = session.execute(_TEAM_AND_CAMPAIGN, {"b_team": team_id}).first()
    if row is None:
        raise errors.TeamNotFound()
    team, campaign = row
    now = clock.now()
    if team.opener_id == user_id:
        raise errors.OwnTeam()
    if team.status not in rules.JOINABLE or (team.deadline and team.deadline <= now):
        raise errors.TeamClosed()
    if campaign.status != "active":
        raise errors.CampaignNotLive()
    _check_quantity(campaign, quantity)
    # A second live seat is refused by the unique index (see _place_order).
    if campaign.new_member_only and orders.has_paid_order(session, user_id):
        raise errors.NotNewMember()
    address = accounts.shipping_address(session, user_id, address)
    orders.reserve_quantity(
        session,
        campaign_id=campaign.id,
        user_id=user_id,
        quantity=quantity,
        limit=campaign.per_member_limit,
    )
    seated = execute(session, _TAKE_SEAT, {"b_team": team_id, "b_now": now}).first()
    if seated is None:
        session.refresh(team)
        # Only now (the seat update failed) is it worth asking whether they are already in.
        mine = session.scalar(
            select(TeamSeat.id).where(
                TeamSeat.team_id == team_id,
                TeamSeat.user_id == user_id,
                TeamSeat.status.in_(("held", "paid")),
            )
        )
        if mine is not None:
            raise errors.AlreadyInTeam()
        raise _why_not_joinable(team, now)
    # The team as this transaction left it, without reading it again.
    for name, value in zip(_SEAT_COLUMNS, seated, strict=True):
        set_committed_value(team, name, value)
    seat = _place_order(
        session,
        campaign=campaign,
        team=team,
        user_id=user_id,
        quantity=quantity,
        address=address,
        is_opener=False,
    )
    _take_stock(session, campaign, quantity)
    return seat


# ---------------------------------------------------------------- order hooks


def _members(
    session: Session, team_id: int, statuses: tuple[str, ...] = ("paid",)
) -> list[TeamSeat]:
    return list(
        session.scalars(
            select(TeamSeat)
            .where(TeamSeat.team_id == team_id, TeamSeat.status.in_(statuses))
            .order_by(TeamSeat.joined_at, TeamSeat.id)
        )
    )


def on_order_paid(session: Session, order: Order) -> None:
    assert order.team_id is not None
    now = clock.now()
    session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == order.campaign_id)
        .values(held=TeamCampaign.held - order.quantity, sold=TeamCampaign.sold + order.quantity)
    )
    session.execute(
        update(TeamSeat)
        .where(TeamSeat.order_id == order.id, TeamSeat.status == "held")
        .values(status="paid", paid_at=now)
    )
    team = get_team(session, order.team_id)
    if team.status == "pending":
        campaign = get_campaign(session, team.campaign_id)
        session.execute(
            update(Team)
            .where(Team.id == team.id, Team.status == "pending")
            .values(
                status="open",
                opened_at=now,
                deadline=now + timedelta(hours=campaign.window_hours),
                paid_count=Team.paid_count + 1,
            )
        )
    else:
        session.execute(
            update(Team).where(Team.id == team.id).values(paid_count=Team.paid_count + 1)
        )
    session.refresh(team)
    if team.status == "open" and team.paid_count >= team.min_size:
        session.execute(
            update(Team)
            .where(Team.id == team.id, Team.status == "open")
            .values(status="formed", formed_at=now)
        )
        session.refresh(team)
        outbox.emit(
            session,
            "team.formed",
            {
                "user_ids": [s.user_id for s in _members(session, team.id)],
                "team_id": team.id,
                "campaign_id": team.campaign_id,
                "paid_count": team.paid_count,
            },
        )
    if team.paid_count >= team.max_size:
        settle_team(session, team.id)


def on_orders_paid(session: Session, paid: list[orders.PaidOrder]) -> None:
    """:func:`on_order_paid` for a batch of confirmations: one stock update per campaign,
    one seat update for all, one counter update per team; then each team that moved is
    opened, formed or settled exactly as one by one."""
    now = clock.now()
    per_campaign: dict[int, int] = {}
    per_team: dict[int, int] = {}
    for order in paid:
        assert order.team_id is not None
        per_campaign[order.campaign_id] = per_campaign.get(order.campaign_id, 0) + order.quantity
        per_team[order.team_id] = per_team.get(order.team_id, 0) + 1
    execute(session, _SEATS_PAID, {"b_orders": [o.id for o in paid], "b_now": now})
    windows: dict[int, int] = {}
    for team_id in sorted(per_team):
        row = execute(session, _COUNT_PAID, {"b_team": team_id, "b_k": per_team[team_id]}).one()
        status, paid_count, min_size, max_size, campaign_id = row
        if status == "pending":
            if campaign_id not in windows:
                windows[campaign_id] = get_campaign(session, campaign_id).window_hours
            opened = session.execute(
                update(table(Team))
                .where(Team.id == team_id, Team.status == "pending")
                .values(
                    status="open",
                    opened_at=now,
                    deadline=now + timedelta(hours=windows[campaign_id]),
                )
            ).rowcount  # type: ignore[attr-defined]
            if opened:
                status = "open"
        if status == "open" and paid_count >= min_size:
            _form(session, team_id, now)
        if paid_count >= max_size:
            settle_team(session, team_id)
    # The campaigns' hot rows last (teams first, as a join does), each once for the batch.
    for campaign_id in sorted(per_campaign):
        execute(
            session,
            _STOCK_SOLD,
            {"b_campaign": campaign_id, "b_quantity": per_campaign[campaign_id]},
        )


def _form(session: Session, team_id: int, now: datetime) -> None:
    formed = session.execute(
        update(table(Team))
        .where(Team.id == team_id, Team.status == "open")
        .values(status="formed", formed_at=now)
        .returning(Team.campaign_id, Team.paid_count)
    ).first()
    if formed is None:
        return
    campaign_id, paid_count = formed
    outbox.emit(
        session,
        "team.formed",
        {
            "user_ids": [s.user_id for s in _members(session, team_id)],
            "team_id": team_id,
            "campaign_id": campaign_id,
            "paid_count": paid_count,
        },
    )


_STOCK_SOLD = (
    update(_campaigns)
    .where(_campaigns.c.id == bindparam("b_campaign"))
    .values(
        held=_campaigns.c.held - bindparam("b_quantity"),
        sold=_campaigns.c.sold + bindparam("b_quantity"),
    )
)
_SEATS_PAID = (
    update(_seats)
    .where(_seats.c.order_id.in_(bindparam("b_orders", expanding=True)), _seats.c.status == "held")
    .values(status="paid", paid_at=bindparam("b_now"))
)
_COUNT_PAID = (
    update(_teams)
    .where(_teams.c.id == bindparam("b_team"))
    .values(paid_count=_teams.c.paid_count + bindparam("b_k"))
    .returning(
        _teams.c.status,
        _teams.c.paid_count,
        _teams.c.min_size,
        _teams.c.max_size,
        _teams.c.campaign_id,
    )
)


def on_order_released(session: Session, order: Order) -> None:
    """An unpaid order was released: give back its stock and its seat."""
    assert order.team_id is not None
    session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == order.campaign_id)
        .values(held=TeamCampaign.held - order.quantity)
    )
    freed = session.execute(
        update(TeamSeat)
        .where(TeamSeat.order_id == order.id, TeamSeat.status == "held")
        .values(status="released")
    ).rowcount  # type: ignore[attr-defined]
    payments.expire_for_order(session, order.id)
    if not freed:
        return
    team = get_team(session, order.team_id)
    session.execute(update(Team).where(Team.id == team.id).values(seats_taken=Team.seats_taken - 1))
    session.refresh(team)
    if team.status == "pending" and order.is_opener:
        _close(session, team, reason="opener_unpaid")


orders.register_kind(
    "team",
    orders.KindHooks(
        on_paid=on_order_paid, on_released=on_order_released, on_paid_many=on_orders_paid
    ),
)


def _close(session: Session, team: Team, *, reason: str) -> None:
    closed = session.execute(
        update(Team)
        .where(Team.id == team.id, Team.status.in_(("pending", "open")))
        .values(
            status="closed",
            settled_at=clock.now(),
            outcome="closed",
            outcome_detail={"reason": reason},
        )
    ).rowcount  # type: ignore[attr-defined]
    if not closed:
        return
    for order in orders.orders_of_team(session, team.id):
        if order.status == "pending_payment":
            orders.release_unpaid(session, order, reason="team_closed")
    session.refresh(team)


# ---------------------------------------------------------------- leaving


def leave_team(session: Session, *, user_id: int, team_id: int) -> Order:
    """Leave a team before it forms: a paid seat is refunded in full, an unpaid one released."""
    team = get_team(session, team_id)
    seat = session.scalar(
        select(TeamSeat).where(
            TeamSeat.team_id == team_id,
            TeamSeat.user_id == user_id,
            TeamSeat.status.in_(("held", "paid")),
        )
    )
    if seat is None:
        raise errors.NotInTeam()
    order = orders.get(session, seat.order_id, lock=True)
    if team.status not in rules.LEAVABLE and not (team.status == "pending" and seat.is_opener):
        raise errors.TeamAlreadyFormed()
    if seat.status == "held":
        orders.release_unpaid(session, order, reason="left_team")
        return order
    # Read before the seat's row is updated: the ORM update below also clears the loaded
    # seat's ``is_opener``, and the hand-over must still happen.
    was_opener = seat.is_opener
    left = session.execute(
        update(Team)
        .where(Team.id == team_id, Team.status == "open")
        .values(seats_taken=Team.seats_taken - 1, paid_count=Team.paid_count - 1)
    ).rowcount  # type: ignore[attr-defined]
    if not left:
        raise errors.TeamAlreadyFormed()
    session.execute(
        update(TeamSeat)
        .where(TeamSeat.id == seat.id, TeamSeat.status == "paid")
        .values(status="left", is_opener=False)
    )
    session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == order.campaign_id)
        .values(sold=TeamCampaign.sold - order.quantity)
    )
    orders.release_quantity(
        session, campaign_id=order.campaign_id, user_id=order.user_id, quantity=order.quantity
    )
    orders.refund_in_full(session, order, reason="left_team", note="left the team before it formed")
    session.refresh(team)
    if was_opener:
        _hand_over(session, team)
    return order


def _hand_over(session: Session, team: Team) -> None:
    paid = _members(session, team.id)
    next_opener = rules.successor([(i, s.user_id) for i, s in enumerate(paid)])
    if next_opener is None:
        _close(session, team, reason="everyone_left")
        return
    session.execute(
        update(TeamSeat)
        .where(
            TeamSeat.team_id == team.id, TeamSeat.user_id == next_opener, TeamSeat.status == "paid"
        )
        .values(is_opener=True)
    )
    session.execute(update(Team).where(Team.id == team.id).values(opener_id=next_opener))
    session.refresh(team)
    outbox.emit(
        session,
        "team.opener_changed",
        {"user_ids": [next_opener], "team_id": team.id},
    )


# ---------------------------------------------------------------- settlement


def settle_team(session: Session, team_id: int) -> str | None:
    """Settle a team that is full or past its deadline, exactly once.

    Returns the outcome (``success``, ``completed``, ``failed``) or None when there was
    nothing to do (already settled, or not due).
    """
    now = clock.now()
    team_orders = orders.orders_of_team(session, team_id, lock=True)
    team = get_team(session, team_id)
    session.refresh(team)
    if team.status not in ("open", "formed"):
        return None
    due = team.paid_count >= team.max_size or (team.deadline is not None and team.deadline <= now)
    if not due:
        return None
    campaign = get_campaign(session, team.campaign_id)
    outcome = rules.settlement_outcome(
        team.paid_count,
        team.min_size,
        completion_enabled=campaign.completion_enabled,
        completion_percent=campaign.completion_percent,
    )
    tiers = tiers_of(campaign)
    paid_orders = [o for o in team_orders if o.status == "paid"]
    detail: dict[str, Any] = {"paid": team.paid_count}
    if outcome.kind == "completed":
        group_price = rules.tier_price(tiers, team.paid_count)
        need = sum(
            rules.completion_subsidy(campaign.single_price, group_price, o.quantity)
            for o in paid_orders
        )
        if not _spend_subsidy(session, campaign.id, need):
            outcome = rules.Outcome("failed")
            detail["completion_refused"] = "subsidy budget exhausted"
        else:
            detail["completion_subsidy"] = need
    final_status = "failed" if outcome.kind == "failed" else "settled"
    moved = session.execute(
        update(Team)
        .where(Team.id == team_id, Team.status.in_(("open", "formed")))
        .values(
            status=final_status,
            settled_at=now,
            outcome=outcome.kind,
            final_unit_price=None
            if outcome.kind == "failed"
            else rules.tier_price(tiers, team.paid_count),
            outcome_detail=detail,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        return None
    for order in team_orders:
        if order.status == "pending_payment":
            orders.release_unpaid(session, order, reason="team_settled")
    if outcome.kind == "failed":
        _fail(session, campaign, paid_orders)
    else:
        _succeed(session, campaign, team, paid_orders, completed=outcome.kind == "completed")
    return outcome.kind


def _spend_subsidy(session: Session, campaign_id: int, amount: int) -> bool:
    if amount <= 0:
        return True
    return bool(
        session.execute(
            update(TeamCampaign)
            .where(
                TeamCampaign.id == campaign_id,
                TeamCampaign.subsidy_used + amount <= TeamCampaign.subsidy_budget,
            )
            .values(subsidy_used=TeamCampaign.subsidy_used + amount)
        ).rowcount  # type: ignore[attr-defined]
    )


def _fail(session: Session, campaign: TeamCampaign, paid_orders: list[Order]) -> None:
    for order in paid_orders:
        session.execute(
            update(TeamCampaign)
            .where(TeamCampaign.id == campaign.id)
            .values(sold=TeamCampaign.sold - order.quantity)
        )
        orders.release_quantity(
            session, campaign_id=campaign.id, user_id=order.user_id, quantity=order.quantity
        )
        refunded = orders.refund_in_full(
            session, order, reason="team_failed", note="the team did not form in time"
        )
        outbox.emit(
            session,
            "team.failed",
            {
                "user_ids": [order.user_id],
                "team_id": order.team_id,
                "order_id": order.id,
                "refund": refunded,
            },
        )


def _succeed(
    session: Session,
    campaign: TeamCampaign,
    team: Team,
    paid_orders: list[Order],
    *,
    completed: bool,
) -> None:
    tiers = tiers_of(campaign)
    for order in paid_orders:
        is_opener = order.user_id == team.opener_id
        final = rules.final_price(
            tiers,
            team.paid_count,
            is_opener=is_opener,
            perk=campaign.opener_perk,
            opener_price=campaign.opener_price,
        )
        # An opener who took over pays the group price; they too get the opener price.
        final = min(final, order.unit_price)
        protection = rules.price_protection_refund(order.unit_price, final, order.quantity)
        if protection:
            orders.refund(
                session,
                order,
                amount=protection,
                reason="price_protection",
                note=f"final price {final} fen per unit",
            )
        if completed:
            subsidy = rules.completion_subsidy(campaign.single_price, final, order.quantity)
            orders.add_subsidy(session, order, amount=subsidy, key=f"completion:{order.id}")
        free = 0
        if is_opener and campaign.opener_perk == "free":
            cost = final * order.quantity
            if _spend_subsidy(session, campaign.id, cost):
                orders.add_subsidy(session, order, amount=cost, key=f"opener-free:{order.id}")
                orders.refund(
                    session,
                    order,
                    amount=cost,
                    reason="opener_free",
                    funded_by="subsidy",
                    note="团长免单",
                )
                free = cost
        orders.confirm(
            session, order, final_unit_price=final, ship_within_hours=campaign.ship_within_hours
        )
        outbox.emit(
            session,
            "team.settled",
            {
                "user_ids": [order.user_id],
                "team_id": team.id,
                "order_id": order.id,
                "final_unit_price": final,
                "refund": protection + free,
                "completed_by_platform": completed,
            },
        )


def due_teams(session: Session, limit: int) -> list[int]:
    now = clock.now()
    return list(
        session.scalars(
            select(Team.id)
            .where(Team.status.in_(("open", "formed")), Team.deadline <= now)
            .order_by(Team.deadline)
            .limit(limit)
        )
    )


def settle_due(limit: int = 100) -> int:
    """Settle every team past its deadline; safe with any number of workers at once."""
    settled = 0
    for team_id in read(lambda s: due_teams(s, limit)):

        def settle_one(session: Session, team_id: int = team_id) -> bool:
            if not is_sqlite():
                claimed = session.scalar(
                    select(Team.id)
                    .where(Team.id == team_id, Team.status.in_(("open", "formed")))
                    .with_for_update(skip_locked=True)
                )
                if claimed is None:
                    return False
            return settle_team(session, team_id) is not None

        if run_in_transaction(settle_one):
            settled += 1
    return settled


# ---------------------------------------------------------------- views


def chain_list(session: Session, team_id: int) -> list[dict[str, Any]]:
    """Who joined, in order, with masked names (the social proof of 接龙)."""
    seats = _members(session, team_id, ("held", "paid"))
    names = accounts.masked_names(session, [s.user_id for s in seats])
    quantities = {o.id: o.quantity for o in orders.orders_of_team(session, team_id)}
    return [
        {
            "position": i + 1,
            "name": names.get(s.user_id, "*"),
            "quantity": quantities.get(s.order_id, 1),
            "paid": s.status == "paid",
            "is_opener": s.is_opener,
            "joined_at": s.joined_at,
        }
        for i, s in enumerate(seats)
    ]


def teams_of_campaign(
    session: Session, campaign_id: int, *, joinable_only: bool = True
) -> list[Team]:
    query = select(Team).where(Team.campaign_id == campaign_id).order_by(Team.id.desc()).limit(50)
    if joinable_only:
        query = query.where(Team.status.in_(tuple(rules.JOINABLE)), Team.deadline > clock.now())
    return list(session.scalars(query))


def seat_of(session: Session, order_id: int) -> TeamSeat | None:
    return session.scalar(select(TeamSeat).where(TeamSeat.order_id == order_id))


# ---------------------------------------------------------------- reads for the member pages


def seat_in_team(session: Session, team_id: int, user_id: int) -> TeamSeat | None:
    """The member's seat in the team: the live one (held or paid) if any, else their latest
    (left or released), else None."""
    seats = list(
        session.scalars(
            select(TeamSeat)
            .where(TeamSeat.team_id == team_id, TeamSeat.user_id == user_id)
            .order_by(TeamSeat.id.desc())
        )
    )
    live = [s for s in seats if s.status in ("held", "paid")]
    if live:
        return live[0]
    return seats[0] if seats else None


def live_teams_of_member(session: Session, user_id: int, *, limit: int = 20) -> list[Team]:
    """Teams still under way (waiting for payment, open or formed) in which the member has a
    live seat, newest first."""
    return list(
        session.scalars(
            select(Team)
            .join(TeamSeat, TeamSeat.team_id == Team.id)
            .where(
                TeamSeat.user_id == user_id,
                TeamSeat.status.in_(("held", "paid")),
                Team.status.in_(("pending", "open", "formed")),
            )
            .order_by(Team.id.desc())
            .limit(limit)
        )
    )


def joinable_counts(session: Session, campaign_ids: list[int]) -> dict[int, int]:
    """How many teams of each campaign one can join now (open or formed, before the deadline,
    with a seat left)."""
    from sqlalchemy import func  # (kept here: this block only appends to the module)

    if not campaign_ids:
        return {}
    rows = session.execute(
        select(Team.campaign_id, func.count())
        .where(
            Team.campaign_id.in_(campaign_ids),
            Team.status.in_(tuple(rules.JOINABLE)),
            Team.deadline > clock.now(),
            Team.seats_taken < Team.max_size,
        )
        .group_by(Team.campaign_id)
    )
    counts = dict.fromkeys(campaign_ids, 0)
    counts.update({campaign_id: int(n) for campaign_id, n in rows})
    return counts
