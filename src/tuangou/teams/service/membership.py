"""Who is in a team: its seats, the opener's hand-over, and closing a team nobody is left in.

Seats are changed only by a path that holds their team's lock (see ``locking``).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tuangou.core import clock, locks, outbox
from tuangou.core.locks import Rank
from tuangou.orders import service as orders
from tuangou.teams import rules
from tuangou.teams.models import Team, TeamCampaign, TeamSeat
from tuangou.teams.rules import SeatStatus, TeamStatus
from tuangou.teams.service import gate


def seats_of(
    session: Session, team_id: int, statuses: tuple[str, ...] = (SeatStatus.PAID,)
) -> list[TeamSeat]:
    """The team's seats in these statuses, earliest first (the order of the chain list)."""
    return list(
        session.scalars(
            select(TeamSeat)
            .where(TeamSeat.team_id == team_id, TeamSeat.status.in_(statuses))
            .order_by(TeamSeat.joined_at, TeamSeat.id)
        )
    )


def live_seat(session: Session, team_id: int, user_id: int) -> TeamSeat | None:
    """The member's seat in the team, held or paid, if any."""
    return session.scalar(
        select(TeamSeat).where(
            TeamSeat.team_id == team_id,
            TeamSeat.user_id == user_id,
            TeamSeat.status.in_(rules.LIVE_SEATS),
        )
    )


def seat_of(session: Session, order_id: int) -> TeamSeat | None:
    """The seat a team order took (every team order has exactly one)."""
    return session.scalar(select(TeamSeat).where(TeamSeat.order_id == order_id))


def hand_over(session: Session, team: Team) -> None:
    """The opener left: the earliest remaining paid member becomes the opener."""
    paid = seats_of(session, team.id)
    next_opener = rules.successor([(i, s.user_id) for i, s in enumerate(paid)])
    if next_opener is None:
        return
    session.execute(
        update(TeamSeat)
        .where(
            TeamSeat.team_id == team.id,
            TeamSeat.user_id == next_opener,
            TeamSeat.status == SeatStatus.PAID,
        )
        .values(is_opener=True)
    )
    session.execute(update(Team).where(Team.id == team.id).values(opener_id=next_opener))
    session.refresh(team)
    outbox.emit(session, "team.opener_changed", {"user_ids": [next_opener], "team_id": team.id})


def close(session: Session, team: Team, *, reason: str) -> None:
    """Close a team that nobody paid is left in (or whose opener never paid): unpaid seats
    still in it are released."""
    closed = session.execute(
        update(Team)
        .where(Team.id == team.id, Team.status.in_((TeamStatus.PENDING, TeamStatus.OPEN)))
        .values(
            status=TeamStatus.CLOSED,
            settled_at=clock.now(),
            outcome="closed",
            outcome_detail={"reason": reason},
        )
    ).rowcount  # type: ignore[attr-defined]
    if not closed:
        return
    held = seats_of(session, team.id, (SeatStatus.HELD,))
    for order in orders.get_many(session, [s.order_id for s in held]):
        orders.release_unpaid(session, order, reason="team_closed")
    end_reservation(session, team.id)
    session.refresh(team)


def to_reservation(session: Session, team_id: int, quantity: int) -> int:
    """A seat of the team gave up ``quantity`` units while the team goes on: what of them the
    team keeps in its reservation (up to what it still needs to form, ``rules.back_to_team``;
    the caller moves the same amount into the campaign's ``reserved``). Under the team's
    lock."""
    team = session.get(Team, team_id, populate_existing=True)
    assert team is not None
    back = rules.back_to_team(
        team.status,
        quantity,
        reserved=team.reserved,
        seats_taken=team.seats_taken,
        min_size=team.min_size,
        seat_units=team.seat_units,
    )
    if back:
        session.execute(
            update(Team).where(Team.id == team_id).values(reserved=Team.reserved + back)
        )
    return back


def end_reservation(session: Session, team_id: int) -> int:
    """The team settled, failed or closed: whatever it still reserves goes back to its
    campaign's free stock, once (a compare-and-set takes the team's counter to zero; a second
    call finds nothing to move). Under the team's lock; takes the campaign's stock last."""
    row = session.execute(select(Team.reserved, Team.campaign_id).where(Team.id == team_id)).one()
    reserved, campaign_id = int(row[0]), int(row[1])
    if reserved <= 0:
        return 0
    moved = session.execute(
        update(Team).where(Team.id == team_id, Team.reserved == reserved).values(reserved=0)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        return 0
    locks.note(session, Rank.STOCK, campaign_id)
    session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == campaign_id)
        .values(reserved=TeamCampaign.reserved - reserved)
    )
    gate.given_back(campaign_id)
    return reserved
