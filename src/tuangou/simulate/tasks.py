"""The worker's job for the operator's simulations: start the next queued run in a child
process of its own (``python -m tuangou.simulate RUN_ID``), and fail the runs interrupted.

The job never waits for a run: the child reports its progress and results in the run's row.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

from tuangou.core.config import get_settings
from tuangou.core.db import read, run_in_transaction
from tuangou.simulate import service

_children: list[subprocess.Popen[bytes]] = []


def launch(run_id: int) -> None:
    """A child process that runs the simulation against this process's database."""
    env = {**os.environ, "DATABASE_URL": get_settings().database_url}
    _children.append(
        subprocess.Popen(
            [sys.executable, "-m", "tuangou.simulate", str(run_id)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    )


def start_queued(start: Callable[[int], None] | None = None) -> int:
    """Start the oldest queued run if none is running; returns how many started (0 or 1)."""
    _children[:] = [c for c in _children if c.poll() is None]  # reap the finished
    if not read(service.waiting):
        return 0
    run_in_transaction(service.fail_stale)
    run_id = run_in_transaction(service.claim_next)
    if run_id is None:
        return 0
    (start or launch)(run_id)
    return 1
