"""The leaderboards' worker job: freeze each community's board of a week or a month one
grace day after it closes, once (the freeze's primary key), one transaction each."""

from __future__ import annotations

from tuangou.core.db import read, run_in_transaction
from tuangou.leaderboards import service as boards


def freeze_final() -> int:
    """Freeze the final boards not frozen yet; returns how many were frozen."""
    done = 0
    for community_id, period, start in read(boards.freeze_due):
        if run_in_transaction(
            lambda s, c=community_id, p=period, d=start: boards.freeze(s, c, p, d)
        ):
            done += 1
    return done
