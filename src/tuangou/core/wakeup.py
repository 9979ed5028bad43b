"""Work that will be due in a moment, told to this process's worker.

The worker runs every job once per ``TUANGOU_WORKER_INTERVAL`` (0.5 s) when idle. Some work
is due a few milliseconds after a request commits: a sandbox payment's callback lands
``TUANGOU_SANDBOX_CALLBACK_DELAY_MS`` after the payer approved, and until it lands the team
of an opener who just paid is still pending, so friends who open its link at once cannot join
yet. Waiting for the next round would add up to the whole interval to that.

So an entry point that committed such work calls :func:`soon` with the job's name and its
delay; the worker's sleep (:func:`sleep`) ends at the earliest such moment, and the worker runs
those jobs alone (not the whole round). It is a hint within one process: a standalone
``tuangou worker`` process does not hear it and finds the work at its next round, and nothing
is lost if a hint is (the job's own query is the truth).
"""

from __future__ import annotations

import threading
import time

_cond = threading.Condition()
_due: dict[str, float] = {}  # job name -> the earliest monotonic time it is due
_interrupted = False


def soon(job: str, delay: float = 0.0) -> None:
    """``job`` has work due in ``delay`` seconds (committed already)."""
    at = time.monotonic() + max(0.0, delay)
    with _cond:
        if job not in _due or at < _due[job]:
            _due[job] = at
            _cond.notify_all()


def interrupt() -> None:
    """End the current :func:`sleep` at once (the worker is stopping)."""
    global _interrupted
    with _cond:
        _interrupted = True
        _cond.notify_all()


def sleep(seconds: float) -> set[str]:
    """Sleep up to ``seconds``, or until a job told with :func:`soon` is due, or until
    :func:`interrupt`. Returns the jobs due now (removed from the list)."""
    global _interrupted
    end = time.monotonic() + seconds
    with _cond:
        while True:
            now = time.monotonic()
            due = {job for job, at in _due.items() if at <= now}
            if due or _interrupted or now >= end:
                _interrupted = False
                for job in due:
                    del _due[job]
                return due
            _cond.wait(min([end, *_due.values()]) - now)
