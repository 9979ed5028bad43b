"""The leaderboards' worker job: freeze each community's board of a week or a month one
grace day after it closes, once (the freeze's primary key), one transaction each."""

from __future__ import annotations

from datetime import date
from functools import partial

from sqlalchemy.orm import Session

from tuangou.core.db import read, run_in_transaction
from tuangou.leaderboards import service as boards


def freeze_final() -> int:
    """Freeze the final boards not frozen yet; returns how many were frozen."""
    done = 0
    for community_id, period, start in read(boards.freeze_due):
        if run_in_transaction(partial(_freeze, community_id, period, start)):
            done += 1
    return done


def _freeze(community_id: int, period: boards.Period, start: date, session: Session) -> bool:
    return boards.freeze(session, community_id, period, start)
