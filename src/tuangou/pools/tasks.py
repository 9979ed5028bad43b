"""The community pre-sale's worker job: settle the waves past their cut-off. Safe with any
number of workers at once (each wave moves by compare-and-set; each chunk of its orders is
claimed with ``SKIP LOCKED`` on PostgreSQL)."""

from __future__ import annotations

from tuangou.core.db import read
from tuangou.pools import service as pools


def settle_due(limit: int = 20) -> int:
    """Settle every wave past its cut-off (or left half-settled by a crash)."""
    done = 0
    for wave_id in read(lambda s: pools.due_waves(s, limit)):
        done += pools.settle_wave(wave_id) is not None
    return done
