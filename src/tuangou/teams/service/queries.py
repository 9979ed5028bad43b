"""Reads of teams for the API and the pages: a team, its chain list, the teams one can join,
a member's teams."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import get_or_404
from tuangou.orders import service as orders
from tuangou.teams import errors, rules
from tuangou.teams.models import Team, TeamSeat
from tuangou.teams.service import membership


def get_team(session: Session, team_id: int) -> Team:
    return get_or_404(session, Team, team_id, errors.TeamNotFound)


def chain_list(session: Session, team_id: int) -> list[dict[str, Any]]:
    """Who joined, in order, with masked names (the social proof of 接龙)."""
    seats = membership.seats_of(session, team_id, rules.LIVE_SEATS)
    names = accounts.masked_names(session, [s.user_id for s in seats])
    quantities = {o.id: o.quantity for o in orders.get_many(session, [s.order_id for s in seats])}
    return [
        {
            "position": i + 1,
            "name": names.get(s.user_id, "*"),
            "quantity": quantities.get(s.order_id, 1),
            "paid": s.status == rules.SeatStatus.PAID,
            "is_opener": s.is_opener,
            "joined_at": s.joined_at,
        }
        for i, s in enumerate(seats)
    ]


def order_ids_of_team(session: Session, team_id: int) -> list[int]:
    """Every order that ever took a seat in the team (the operator's view of a team)."""
    return list(
        session.scalars(
            select(TeamSeat.order_id).where(TeamSeat.team_id == team_id).order_by(TeamSeat.id)
        )
    )


def teams_of_campaign(
    session: Session, campaign_id: int, *, joinable_only: bool = True
) -> list[Team]:
    """The campaign's teams, newest first; ``joinable_only``: the teams one can join now
    (open or formed, before the deadline, with a seat left), the ones that most need members
    first: teams still forming, the fewest members short, the nearest deadline (joining
    them is offered before opening a new team, so reserved seats fill)."""
    query = select(Team).where(Team.campaign_id == campaign_id).limit(50)
    if not joinable_only:
        return list(session.scalars(query.order_by(Team.id.desc())))
    query = query.where(
        Team.status.in_(rules.JOINABLE),
        Team.deadline > clock.now(),
        Team.seats_taken < Team.max_size,
    ).order_by(
        case((Team.status == rules.TeamStatus.FORMED, 1), else_=0),
        Team.min_size - Team.paid_count,
        Team.deadline,
        Team.id,
    )
    return list(session.scalars(query))


def seat_in_team(session: Session, team_id: int, user_id: int) -> TeamSeat | None:
    """The member's seat in the team: the live one (held or paid) if any, else their latest
    (left or released), else None."""
    live = membership.live_seat(session, team_id, user_id)
    if live is not None:
        return live
    return session.scalars(
        select(TeamSeat)
        .where(TeamSeat.team_id == team_id, TeamSeat.user_id == user_id)
        .order_by(TeamSeat.id.desc())
    ).first()


def live_teams_of_member(session: Session, user_id: int, *, limit: int = 20) -> list[Team]:
    """Teams still under way (waiting for payment, open or formed) in which the member has a
    live seat, newest first."""
    return list(
        session.scalars(
            select(Team)
            .join(TeamSeat, TeamSeat.team_id == Team.id)
            .where(
                TeamSeat.user_id == user_id,
                TeamSeat.status.in_(rules.LIVE_SEATS),
                Team.status.in_(rules.UNSETTLED),
            )
            .order_by(Team.id.desc())
            .limit(limit)
        )
    )


def joinable_counts(session: Session, campaign_ids: list[int]) -> dict[int, int]:
    """How many teams of each campaign one can join now (open or formed, before the deadline,
    with a seat left)."""
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(Team.campaign_id, func.count())
        .where(
            Team.campaign_id.in_(campaign_ids),
            Team.status.in_(rules.JOINABLE),
            Team.deadline > clock.now(),
            Team.seats_taken < Team.max_size,
        )
        .group_by(Team.campaign_id)
    )
    counts = dict.fromkeys(campaign_ids, 0)
    counts.update({campaign_id: int(n) for campaign_id, n in rows})
    return counts
