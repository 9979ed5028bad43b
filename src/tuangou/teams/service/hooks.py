"""The team buy as a kind of order: what happens to seats, teams and stock when team orders
are paid or released. Registered in the composition root (``tuangou.wiring``) as
:data:`KIND`.

A confirmation arrives as a batch (one payment is a batch of one): the payments, then their
teams (``locking.lock_teams_of_orders``, the kind's lock hook), then the orders are locked by
the order domain before :func:`on_paid` runs; here the seats are paid (under their teams), each
team's counter moves once and the state machine (``rules.after_payment``) says whether it
opens, forms or settles; the campaigns' stock comes last, once per campaign.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock, locks, outbox
from tuangou.core.db import execute, expire_loaded, table
from tuangou.core.locks import Rank
from tuangou.orders import service as orders
from tuangou.teams import rules
from tuangou.teams.models import Team, TeamCampaign, TeamSeat
from tuangou.teams.rules import SeatStatus, TeamStatus
from tuangou.teams.service import campaigns, gate, locking, membership, settlement

if TYPE_CHECKING:
    from tuangou.orders.models import Order

_campaigns = table(TeamCampaign)
_teams = table(Team)
_seats = table(TeamSeat)
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
    .where(
        _seats.c.order_id.in_(bindparam("b_orders", expanding=True)),
        _seats.c.status == SeatStatus.HELD,
    )
    .values(status=SeatStatus.PAID, paid_at=bindparam("b_now"))
    .returning(_seats.c.team_id, _seats.c.order_id)
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


def on_paid(session: Session, paid: list[orders.PaidOrder]) -> None:
    """Team orders were paid: their seats, their teams (opened, formed or settled, as the
    state machine says), then the campaigns' stock, each once for the batch."""
    now = clock.now()
    per_campaign: Counter[int] = Counter()
    for order in paid:
        per_campaign[order.campaign_id] += order.quantity
    seated = execute(session, _SEATS_PAID, {"b_orders": [o.id for o in paid], "b_now": now}).all()
    per_team = Counter(team_id for team_id, _ in seated)
    with_seat = {order_id for _, order_id in seated}
    windows: dict[int, int] = {}
    full: list[int] = []
    for team_id in sorted(per_team):
        locks.note(session, Rank.GROUP, team_id)
        row = execute(session, _COUNT_PAID, {"b_team": team_id, "b_k": per_team[team_id]}).one()
        status, paid_count, min_size, max_size, campaign_id = row
        move = rules.after_payment(status, paid_count, min_size=min_size, max_size=max_size)
        if move.opened:
            if campaign_id not in windows:
                windows[campaign_id] = campaigns.get_campaign(session, campaign_id).window_hours
            _open(session, team_id, now, hours=windows[campaign_id])
        if move.formed:
            _form(session, team_id, now)
        if move.settle_now:
            full.append(team_id)
    # The campaigns' hot rows last (teams first, as a join does), each once for the batch.
    for campaign_id in sorted(per_campaign):
        locks.note(session, Rank.STOCK, campaign_id)
        execute(
            session,
            _STOCK_SOLD,
            {"b_campaign": campaign_id, "b_quantity": per_campaign[campaign_id]},
        )
    # The statements above are plain Core: what the session had loaded of them is stale.
    expire_loaded(session, Team, TeamCampaign, TeamSeat)
    # A full team settles at once, in this transaction: its other orders are paid and its
    # campaign's row is held already, so nothing new is locked out of order.
    for team_id in full:
        settlement.settle_team(session, team_id, stock_held=True)
    # 单独购买: an order without a seat is sold at the single price the moment it is paid.
    alone = [o.id for o in paid if o.id not in with_seat]
    if alone:
        _sell_alone(session, alone)


def _sell_alone(session: Session, order_ids: list[int]) -> None:
    """Paid solo orders (team orders that never had a seat): confirmed at once at the price
    they were charged, the single price, to be shipped like a settled team's orders. A paid
    team order always has a seat (its seat was paid in this batch), so only solo orders
    come here; the seat check below keeps it so."""
    seated = set(session.scalars(select(TeamSeat.order_id).where(TeamSeat.order_id.in_(order_ids))))
    for order in orders.get_many(session, [i for i in order_ids if i not in seated]):
        campaign = campaigns.get_campaign(session, order.campaign_id)
        orders.confirm(
            session,
            order,
            final_unit_price=order.unit_price,
            ship_within_hours=campaign.ship_within_hours,
        )


def _open(session: Session, team_id: int, now: datetime, *, hours: int) -> None:
    """The opener paid: the team opens, and its window starts now."""
    session.execute(
        update(_teams)
        .where(_teams.c.id == team_id, _teams.c.status == TeamStatus.PENDING)
        .values(status=TeamStatus.OPEN, opened_at=now, deadline=now + timedelta(hours=hours))
    )


def _form(session: Session, team_id: int, now: datetime) -> None:
    """The team reached its min size (已成团): every paid member hears it at once."""
    formed = session.execute(
        update(_teams)
        .where(_teams.c.id == team_id, _teams.c.status == TeamStatus.OPEN)
        .values(status=TeamStatus.FORMED, formed_at=now)
        .returning(_teams.c.campaign_id, _teams.c.paid_count)
    ).first()
    if formed is None:
        return
    campaign_id, paid_count = formed
    outbox.emit(
        session,
        "team.formed",
        {
            "user_ids": [s.user_id for s in membership.seats_of(session, team_id)],
            "team_id": team_id,
            "campaign_id": campaign_id,
            "paid_count": paid_count,
        },
    )


def on_released(session: Session, order: Order) -> None:
    """An unpaid team order was closed: its seat goes (a team whose opener never paid
    closes), then its stock. The order domain gave back the member's limit already."""
    seat = membership.seat_of(session, order.id)
    freed = session.execute(
        update(TeamSeat)
        .where(TeamSeat.order_id == order.id, TeamSeat.status == SeatStatus.HELD)
        .values(status=SeatStatus.RELEASED)
    ).rowcount  # type: ignore[attr-defined]
    back = 0  # units the team keeps in its reservation (the rest is free stock again)
    if freed and seat is not None:
        locks.note(session, Rank.GROUP, seat.team_id)
        status = session.execute(
            update(Team)
            .where(Team.id == seat.team_id)
            .values(seats_taken=Team.seats_taken - 1)
            .returning(Team.status)
        ).scalar_one()
        if rules.closes_on_release(status, was_opener=seat.is_opener):
            team = session.get(Team, seat.team_id)
            assert team is not None
            membership.close(session, team, reason="opener_unpaid")
        else:
            back = membership.to_reservation(session, seat.team_id, order.quantity)
    locks.note(session, Rank.STOCK, order.campaign_id)
    session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == order.campaign_id)
        .values(held=TeamCampaign.held - order.quantity, reserved=TeamCampaign.reserved + back)
    )
    gate.given_back(order.campaign_id)  # this process stops refusing it from memory


def facts(session: Session, order_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What a reply about a team order adds: its team, and whether its member is the
    opener."""
    rows = session.execute(
        select(TeamSeat.order_id, TeamSeat.team_id, TeamSeat.is_opener).where(
            TeamSeat.order_id.in_(order_ids)
        )
    )
    found: dict[int, dict[str, Any]] = {order_id: {"solo": True} for order_id in order_ids}
    for order_id, team_id, is_opener in rows:
        found[order_id] = {"team_id": team_id, "is_opener": bool(is_opener)}
    return found


KIND = orders.KindHooks(
    on_paid=on_paid,
    on_released=on_released,
    lock=locking.lock_teams_of_orders,
    shipped=True,
    facts=facts,
)
