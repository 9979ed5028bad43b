"""The data retention, as a worker job and a command (``tuangou privacy purge``): each kind
of raw data older than its retention is purged in batches, each batch its own transaction.
Safe with any number of workers: a row deleted or cleared twice is so once."""

from __future__ import annotations

import time
from functools import partial

from tuangou.core.db import run_in_transaction
from tuangou.privacy import rules
from tuangou.privacy import service as privacy

# The worker runs the retention at most this often per process (it is no hurry).
EVERY_SECONDS = 600.0
_last: list[float] = []


def purge(*, batch: int = 1000, max_batches: int = 100) -> dict[str, int]:
    """Purge every kind past its retention: how many rows of each."""
    done: dict[str, int] = {}
    for kind in rules.RETENTION_KINDS:
        total = 0
        for _ in range(max_batches):
            n = run_in_transaction(partial(privacy.purge_batch, kind=kind, limit=batch))
            total += n
            if n < batch:
                break
        done[kind] = total
    return done


def purge_due() -> int:
    """The worker's job: the retention, at most every ``EVERY_SECONDS`` in this process."""
    now = time.monotonic()
    if _last and now - _last[0] < EVERY_SECONDS:
        return 0
    _last[:] = [now]
    return sum(purge(max_batches=5).values())
