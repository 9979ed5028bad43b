"""Reads of teams for the API and the pages: a team, its chain list, the teams one can join,
a member's teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.core import clock, paging
from tuangou.core.db import get_or_404
from tuangou.orders import service as orders
from tuangou.teams import errors, rules
from tuangou.teams.models import Team, TeamSeat
from tuangou.teams.service import membership


def get_team(session: Session, team_id: int) -> Team:
    return get_or_404(session, Team, team_id, errors.TeamNotFound)


def chain_list(session: Session, team_id: int) -> list[dict[str, Any]]:
    """Who joined, in order, with masked names (the social proof of 接龙)."""
    return chains_of(session, [team_id])[team_id]


def chains_of(session: Session, team_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The chain lists of several teams in three statements whatever their number (the seats,
    the masked names, the orders' quantities): no query per team."""
    chains: dict[int, list[dict[str, Any]]] = {team_id: [] for team_id in team_ids}
    if not team_ids:
        return chains
    seats = list(
        session.scalars(
            select(TeamSeat)
            .where(TeamSeat.team_id.in_(team_ids), TeamSeat.status.in_(rules.LIVE_SEATS))
            .order_by(TeamSeat.team_id, TeamSeat.joined_at, TeamSeat.id)
        )
    )
    names = accounts.masked_names(session, [s.user_id for s in seats])
    quantities = {o.id: o.quantity for o in orders.get_many(session, [s.order_id for s in seats])}
    for s in seats:
        chain = chains[s.team_id]
        chain.append(
            {
                "position": len(chain) + 1,
                "name": names.get(s.user_id, "*"),
                "quantity": quantities.get(s.order_id, 1),
                "paid": s.status == rules.SeatStatus.PAID,
                "is_opener": s.is_opener,
                "joined_at": s.joined_at,
            }
        )
    return chains


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


# ---------------------------------------------------------------- the open teams, paged

OPEN_TEAMS_PAGE = 10  # the teams a campaign's detail and page carry inline
OPEN_TEAMS_MOST = 50  # the most a page of open teams may ask for


@dataclass(frozen=True)
class OpenTeamsPage:
    """One page of a campaign's joinable teams, in the order they are offered, with their
    chain lists; ``next_cursor`` is None on the last page; ``total`` when it was asked for."""

    teams: list[Team]
    chains: dict[int, list[dict[str, Any]]]
    next_cursor: str | None
    total: int | None = None


def _offer_key() -> tuple[Any, ...]:
    # The order joinable teams are offered in: still forming first, the fewest members
    # short, the nearest deadline, then the id (unique, so the key is total).
    return (
        case((Team.status == rules.TeamStatus.FORMED, 1), else_=0),
        Team.min_size - Team.paid_count,
        Team.deadline,
        Team.id,
    )


def _joinable(campaign_id: int) -> Any:
    return and_(
        Team.campaign_id == campaign_id,
        Team.status.in_(rules.JOINABLE),
        Team.deadline > clock.now(),
        Team.seats_taken < Team.max_size,
    )


def _after(cursor: str) -> Any:
    """Teams whose offer key comes strictly after the cursor's (a lexicographic keyset,
    spelt out so each column binds with its own type on both backends)."""
    formed, short, deadline, team_id = paging.decode(cursor, int, int, datetime, int)
    f, s, d, i = _offer_key()
    return or_(
        f > formed,
        and_(f == formed, s > short),
        and_(f == formed, s == short, d > deadline),
        and_(f == formed, s == short, d == deadline, i > team_id),
    )


def open_teams_page(
    session: Session,
    campaign_id: int,
    *,
    cursor: str | None = None,
    limit: int = OPEN_TEAMS_PAGE,
    with_total: bool = False,
) -> OpenTeamsPage:
    """A page of the teams one can join now (as :func:`teams_of_campaign` offers them), by
    keyset: one statement for the teams, three for all their chain lists, and one for the
    total when asked: a constant number, whatever the number of teams. A team whose counters
    move between two pages may move across the cursor (as in any live list)."""
    limit = max(1, min(limit, OPEN_TEAMS_MOST))
    query = select(Team).where(_joinable(campaign_id))
    if cursor:
        query = query.where(_after(cursor))
    rows = list(session.scalars(query.order_by(*_offer_key()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = None
    if more and rows:
        last = rows[-1]
        nxt = paging.encode(
            1 if last.status == rules.TeamStatus.FORMED else 0,
            last.min_size - last.paid_count,
            cast(datetime, last.deadline),
            last.id,
        )
    total = None
    if with_total:
        total = int(
            session.scalar(select(func.count()).select_from(Team).where(_joinable(campaign_id)))
            or 0
        )
    return OpenTeamsPage(rows, chains_of(session, [t.id for t in rows]), nxt, total)


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
