"""The team buy's worker jobs: settle due teams, end finished campaigns. Safe with any
number of workers at once (a claim with ``SKIP LOCKED`` on PostgreSQL, compare-and-set
moves everywhere)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tuangou.core.db import read, run_in_transaction
from tuangou.teams import service as teams


def settle_due(limit: int = 100) -> int:
    """Settle every team past its deadline (or full, if its last payment's transaction did
    not get to it)."""
    settled = 0
    for team_id in read(lambda s: teams.due(s, limit)):

        def settle_one(session: Session, team_id: int = team_id) -> bool:
            if not teams.claim_team(session, team_id):
                return False
            return teams.settle_team(session, team_id) is not None

        if run_in_transaction(settle_one):
            settled += 1
    return settled


def close_ended(limit: int = 50) -> int:
    """End the campaigns whose time is over and that have nothing left in play."""
    closed = 0
    for campaign_id in read(lambda s: teams.endable(s, limit)):

        def close(session: Session, campaign_id: int = campaign_id) -> bool:
            return teams.close_campaign(session, campaign_id) is not None

        if run_in_transaction(close):
            closed += 1
    return closed
