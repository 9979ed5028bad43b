"""The bargain's worker jobs: close bargains whose time ran out (exactly once, by
compare-and-set), end finished bargain campaigns (their unsold stock back to the SKU)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tuangou.bargains import service as bargains
from tuangou.core.db import read, run_in_transaction


def expire_due(limit: int = 200) -> int:
    """Close every bargain past its deadline that nobody is buying."""
    closed = 0
    for bargain_id in read(lambda s: bargains.due(s, limit)):

        def close(session: Session, bargain_id: int = bargain_id) -> bool:
            return bargains.expire(session, bargain_id)

        if run_in_transaction(close):
            closed += 1
    return closed


def close_ended(limit: int = 50) -> int:
    """End the bargain campaigns whose time is over and that have nothing left in play."""
    closed = 0
    for campaign_id in read(lambda s: bargains.endable(s, limit)):

        def close(session: Session, campaign_id: int = campaign_id) -> bool:
            return bargains.close_campaign(session, campaign_id) is not None

        if run_in_transaction(close):
            closed += 1
    return closed
