"""The team buy's row locks, in the platform's one order (:mod:`tuangou.core.locks`).

A team ranks above its orders: every path that changes an order of a live team (paying it,
releasing it, leaving, settling) holds the team first, and the team's seats and orders are
changed only under it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuangou.core import locks
from tuangou.core.db import get_or_404
from tuangou.core.locks import Rank
from tuangou.orders import service as orders
from tuangou.teams import errors, rules
from tuangou.teams.models import Team, TeamCampaign, TeamSeat

if TYPE_CHECKING:
    from tuangou.orders.models import Order


def lock_teams(session: Session, team_ids: list[int]) -> None:
    locks.lock(session, Rank.GROUP, Team.id, team_ids)


def lock_teams_of_orders(session: Session, order_ids: list[int]) -> None:
    """The order kind's lock hook: the teams of these orders (those that are team orders)."""
    if not order_ids:
        return
    team_ids = session.scalars(
        select(TeamSeat.team_id).where(TeamSeat.order_id.in_(order_ids)).distinct()
    ).all()
    lock_teams(session, list(team_ids))


def lock_team(session: Session, team_id: int) -> Team:
    """The team, locked and read afresh."""
    lock_teams(session, [team_id])
    return get_or_404(session, Team, team_id, errors.TeamNotFound, populate_existing=True)


def claim_team(session: Session, team_id: int) -> bool:
    """A worker's claim on a team to settle: locked, unless another worker holds it now
    (PostgreSQL's ``SKIP LOCKED``; on SQLite the write lock already serialises workers)."""
    locks.note(session, Rank.GROUP, team_id)
    if session.get_bind().dialect.name == "sqlite":
        return True
    claimed = session.scalar(
        select(Team.id)
        .where(Team.id == team_id, Team.status.in_(rules.SETTLEABLE))
        .with_for_update(skip_locked=True)
    )
    return claimed is not None


@dataclass(frozen=True)
class Locked:
    campaign: TeamCampaign
    seats: list[TeamSeat]  # the live seats (held or paid), earliest first
    orders: dict[int, Order]  # their orders, by id


def lock_members(session: Session, team: Team, *, limits: bool, stock_held: bool = False) -> Locked:
    """Everything a team's leave or settlement may change, locked up front in the one order,
    after the team itself (:func:`lock_team`): its live seats' orders (under the team), the
    members' limits (``limits``: when some of them will be given back), the campaign's
    stock. Then the path may change them in whatever order reads best.

    ``stock_held``: this transaction has already updated the campaign's row (a confirmation
    settling the team it filled). It is not locked again: on PostgreSQL an UPDATE holds the
    row ``FOR NO KEY UPDATE``, and asking for ``FOR UPDATE`` on top would wait behind every
    join queued for the row, which waits for this transaction: a deadlock."""
    seats = list(
        session.scalars(
            select(TeamSeat)
            .where(TeamSeat.team_id == team.id, TeamSeat.status.in_(rules.LIVE_SEATS))
            .order_by(TeamSeat.joined_at, TeamSeat.id)
        )
    )
    found = orders.lock_orders(session, [s.order_id for s in seats], under=(Rank.GROUP, team.id))
    if limits:
        orders.lock_usage(
            session, campaign_id=team.campaign_id, user_ids=[s.user_id for s in seats]
        )
    if stock_held:
        locks.note(session, Rank.STOCK, team.campaign_id)
    else:
        locks.lock(session, Rank.STOCK, TeamCampaign.id, [team.campaign_id])
    campaign = session.get(TeamCampaign, team.campaign_id, populate_existing=True)
    assert campaign is not None
    return Locked(campaign, seats, {o.id: o for o in found})
