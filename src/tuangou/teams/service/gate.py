"""Refusals of openings and joins from memory, when a campaign has nothing free
(``core.soldout``, the mechanism flash sales share).

* A campaign is marked when a guarded stock statement of an opening or a join failed and
  its free units (``stock - sold - held - reserved``) are fewer than a team's minimum size:
  no team can open. The mark keeps the free count, the minimum size, the per-order maximum
  and the campaign's times, so an opening is refused with the route's own answer
  (``too_few_to_open`` when the opener's units are free but not the team's, else
  ``sold_out``), and never for an invalid quantity or a campaign that is not live (the route
  says those).
* A team is marked (filed under its campaign) only when a join into it was refused with
  nothing reserved left in it *and* nothing free in its campaign. A team that still holds a
  reservation is never marked: its reservation covers its seats, and joins draw from it
  first.

Units come back to a campaign when an unpaid hold is released, a team fails or closes, or a
member leaves; the process that gives them back forgets the campaign's marks (and its
teams') at once (:func:`given_back`), and every other process re-reads the row once its mark
is a second old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tuangou.core import clock, soldout
from tuangou.core.db import read, table
from tuangou.core.errors import DomainError
from tuangou.teams import errors, rules
from tuangou.teams.models import Team, TeamCampaign

_campaigns = table(TeamCampaign)
_teams = table(Team)
_FREE = (_campaigns.c.stock - _campaigns.c.sold - _campaigns.c.held - _campaigns.c.reserved).label(
    "free"
)
_CAMPAIGN = select(
    _FREE,
    _campaigns.c.status,
    _campaigns.c.min_size,
    _campaigns.c.max_quantity_per_order,
    _campaigns.c.starts_at,
    _campaigns.c.ends_at,
).where(_campaigns.c.id == bindparam("b_campaign"))
_TEAM = (
    select(_teams.c.reserved, _teams.c.status, _teams.c.deadline, _teams.c.campaign_id, _FREE)
    .join(_campaigns, _campaigns.c.id == _teams.c.campaign_id)
    .where(_teams.c.id == bindparam("b_team"))
)


@dataclass(frozen=True)
class _Short:
    """A campaign where no team can open: what the refusal needs."""

    free: int
    min_size: int
    max_quantity: int
    starts_at: datetime
    ends_at: datetime


def campaign_key(campaign_id: int) -> tuple[str, int]:
    return ("team-campaign", campaign_id)


def team_key(team_id: int) -> tuple[str, int]:
    return ("team", team_id)


def _short(row: Any) -> _Short | None:
    if row is None or row.status != rules.CampaignStatus.ACTIVE or row.free >= row.min_size:
        return None
    return _Short(
        int(row.free), row.min_size, row.max_quantity_per_order, row.starts_at, row.ends_at
    )


def note_refusal(session: Session, *, campaign_id: int, team_id: int | None = None) -> None:
    """A guarded stock statement of an opening (``team_id`` None) or a join just failed:
    read what is free (in the refused unit of work) and mark what no request can get."""
    row = session.execute(_CAMPAIGN, {"b_campaign": campaign_id}).first()
    short = _short(row)
    if short is None:
        return
    soldout.mark(campaign_key(campaign_id), short)
    if team_id is None or short.free > 0:
        return
    team = session.execute(_TEAM, {"b_team": team_id}).first()
    if team is not None and team.reserved <= 0:
        soldout.mark(team_key(team_id), campaign_id, under=campaign_key(campaign_id))


def given_back(campaign_id: int) -> None:
    """Units of the campaign came back (free stock, or a team's reservation), or free units
    were taken (so a mark's free count may say too much): forget its marks and its teams'.
    Another process may word a refusal from its older mark for up to a second
    (``too_few_to_open`` where ``sold_out`` is now true); both refuse, and nothing is sold."""
    soldout.forget(campaign_key(campaign_id))


def _recheck_campaign(campaign_id: int) -> _Short | None:
    return _short(read(lambda s: s.execute(_CAMPAIGN, {"b_campaign": campaign_id}).first()))


def refusal_to_open(campaign_id: int, quantity: Any = 1) -> DomainError | None:
    """The refusal of opening a team of ``campaign_id`` that memory can give, or None."""
    short = soldout.refuse(campaign_key(campaign_id), lambda: _recheck_campaign(campaign_id))
    if short is None:
        return None
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        return None
    now = clock.now()
    if not 1 <= quantity <= short.max_quantity or not short.starts_at <= now < short.ends_at:
        return None
    if short.min_size > 1 and short.free >= quantity:
        return errors.TooFewToOpen()
    return errors.SoldOut()


def refusal_to_join(team_id: int, quantity: Any = 1) -> DomainError | None:
    """The refusal of a join into ``team_id`` that memory can give (nothing reserved in the
    team, nothing free in its campaign), or None."""

    def recheck() -> int | None:
        row = read(lambda s: s.execute(_TEAM, {"b_team": team_id}).first())
        if row is None or row.reserved > 0 or row.free > 0:
            return None
        if row.status not in rules.JOINABLE or row.deadline is None or clock.now() >= row.deadline:
            return None  # the route says the team is closed
        return int(row.campaign_id)

    if soldout.refuse(team_key(team_id), recheck) is None:
        return None
    if quantity != 1 or isinstance(quantity, bool):
        return None  # a larger quantity may be above the campaign's maximum: the route says
    return errors.SoldOut()
