"""The worker's sleep ends when an entry point says work is due in a moment.

(Other tests in the same process may have left hints of their own: each test looks for its
own job's name in what a sleep returns.)"""

from __future__ import annotations

import threading
import time

from tests.conftest import Api, scalar
from tuangou import worker
from tuangou.core import wakeup


def _sleep_until(job: str, limit: float) -> bool:
    """Sleep (up to ``limit`` seconds of waking) until ``job`` is among the due jobs."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if job in wakeup.sleep(limit):
            return True
    return False


def test_sleep_returns_a_job_said_to_be_due_once() -> None:
    wakeup.soon("land callbacks", 0.0)
    assert "land callbacks" in wakeup.sleep(30.0)  # at once, not after 30 s
    wakeup.soon("land callbacks", 60.0)
    assert "land callbacks" not in wakeup.sleep(0.0)  # not yet due


def test_a_job_due_later_wakes_a_sleeper_then() -> None:
    woke: list[bool] = []
    sleeper = threading.Thread(target=lambda: woke.append(_sleep_until("later", 30.0)))
    sleeper.start()
    wakeup.soon("later", 0.05)
    wakeup.soon("later", 5.0)  # a later moment for the same job does not postpone it
    sleeper.join(20.0)
    assert woke == [True]


def test_interrupt_ends_a_sleep() -> None:
    sleeper = threading.Thread(target=lambda: wakeup.sleep(60.0))
    sleeper.start()
    wakeup.interrupt()
    sleeper.join(20.0)
    assert not sleeper.is_alive()


def test_the_worker_lands_a_sandbox_payment_without_waiting_for_its_round(api: Api) -> None:
    """With a round every 10 minutes, a payment approved on the sandbox is still confirmed:
    the pay route tells this process's worker that its callback is due."""
    op = api.operator()
    sid, _ = api.supplier(op)
    campaign = api.campaign(op, sid)
    stop = threading.Event()
    loop = threading.Thread(target=worker.loop, args=(stop, 600.0))
    loop.start()
    try:
        opened = api.open(api.signup("甲"), campaign["id"])  # pays on the sandbox page
        ref = opened["payment"]["ref"]
        status = ""
        for _ in range(400):
            status = scalar(f"SELECT status FROM payments WHERE gateway_ref = '{ref}'")
            if status == "succeeded":
                break
            time.sleep(0.05)
        assert status == "succeeded"
    finally:
        stop.set()
        wakeup.interrupt()
        loop.join(30.0)
    assert not loop.is_alive()
