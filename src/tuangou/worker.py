"""Background work, with no external cron: run inside the server process by default, and as
``tuangou worker`` processes. Each job lives in its domain's ``tasks`` module (the outbox's
in the core). Every job is safe to run in several processes
at once: every state move is a compare-and-set, so nothing is done twice; the jobs whose rows
are long or contended work (settling teams and waves, callbacks, reconciliation, the outbox)
also claim them with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serialises writers).
See "What the worker does" in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from tuangou import wiring
from tuangou.accounts import tasks as account_tasks
from tuangou.bargains import tasks as bargain_tasks
from tuangou.cocreate import tasks as cocreate_tasks
from tuangou.commission import tasks as commission_tasks
from tuangou.core import limits, liveness, metrics, outbox, wakeup
from tuangou.credit import tasks as credit_tasks
from tuangou.events import tasks as event_tasks
from tuangou.flashsales import tasks as flash_tasks
from tuangou.fulfilment import tasks as fulfilment_tasks
from tuangou.journal import tasks as journal_tasks
from tuangou.leaderboards import tasks as leaderboard_tasks
from tuangou.notifications import tasks as notification_tasks
from tuangou.orders import tasks as order_tasks
from tuangou.payments import tasks as payment_tasks
from tuangou.points import tasks as points_tasks
from tuangou.pools import tasks as pool_tasks
from tuangou.privacy import tasks as privacy_tasks
from tuangou.recommend import tasks as recommend_tasks
from tuangou.referral import tasks as referral_tasks
from tuangou.risk import tasks as risk_tasks
from tuangou.search import tasks as search_tasks
from tuangou.simulate import tasks as simulate_tasks
from tuangou.teams import tasks as team_tasks
from tuangou.webhooks import tasks as webhook_tasks

log = logging.getLogger(__name__)
BUSY_PAUSE = 0.02  # seconds between rounds while there is work

JOBS: list[tuple[str, Callable[[], int]]] = [
    (payment_tasks.CALLBACKS_JOB, payment_tasks.deliver_sandbox_callbacks),
    ("release unpaid holds", order_tasks.release_expired),
    ("settle due teams", team_tasks.settle_due),
    ("end finished campaigns", team_tasks.close_ended),
    ("settle flash slots", flash_tasks.settle_over),
    ("settle waves at cut-off", pool_tasks.settle_due),
    ("close expired bargains", bargain_tasks.expire_due),
    ("event reminders", event_tasks.remind_due),
    ("settle cancelled events", event_tasks.settle_cancelled),
    ("end events over", event_tasks.end_over),
    ("end finished bargain campaigns", bargain_tasks.close_ended),
    ("deliver outbox", outbox.deliver_pending),
    ("reconcile payments", payment_tasks.reconcile_stale),
    ("auto-confirm receipt", order_tasks.auto_complete),
    ("refund unshipped", order_tasks.refund_unshipped),
    ("commission available", commission_tasks.unfreeze_due),
    ("referral commission available", referral_tasks.unfreeze_due),
    ("leader credit (daily)", credit_tasks.recompute_daily),
    ("close unpicked pickups", fulfilment_tasks.close_unpicked),
    ("refund undelivered waves", fulfilment_tasks.refund_undelivered),
    ("poll carriers' tracking", fulfilment_tasks.poll_carriers),
    ("forget old attempt counts", limits.forget_old),
    ("forget ended page sessions", account_tasks.forget_expired_sessions),
    ("search index", search_tasks.refresh_index),
    ("risk graph", risk_tasks.analyse_graph),
    ("points expiry (daily)", points_tasks.expire_daily),
    ("archive stale proposals", cocreate_tasks.archive_stale),
    ("send webhooks", webhook_tasks.send_due),
    ("freeze final leaderboards", leaderboard_tasks.freeze_final),
    ("start what-if simulations", simulate_tasks.start_queued),
    ("send messages (SMS, WeChat, e-mail)", notification_tasks.send_due),
    ("sign journal checkpoints", journal_tasks.publish_checkpoints),
    ("recommendation model (scheduled)", recommend_tasks.train_due),
    ("privacy retention", privacy_tasks.purge_due),
]


def run_once(jobs: Sequence[tuple[str, Callable[[], int]]] | None = None) -> dict[str, int]:
    """Run every job (or the given ones) once; returns how much each did."""
    wiring.compose()
    done: dict[str, int] = {}
    for name, job in JOBS if jobs is None else jobs:
        begun = time.perf_counter()
        try:
            done[name] = job()
        except Exception:
            log.exception("worker job %r failed; it will run again", name)
            done[name] = 0
        metrics.JOB_SECONDS.labels(name).observe(time.perf_counter() - begun)
        if done[name]:
            metrics.JOB_ITEMS.labels(name).inc(done[name])
    try:
        liveness.beat()  # at most every few seconds: /api/ready's "a worker is alive"
    except Exception:
        log.exception("the worker's heartbeat failed; /api/ready will say so")
    return done


def run_until_idle(max_rounds: int = 100) -> dict[str, int]:
    """Run the jobs until none has anything left to do (tests, the CLI)."""
    total: dict[str, int] = {}
    for _ in range(max_rounds):
        done = run_once()
        for name, n in done.items():
            total[name] = total.get(name, 0) + n
        if not any(done.values()):
            break
    return total


def loop(stop: threading.Event, interval: float) -> None:
    """Every job runs at least once per ``interval``; a job that found work runs again at
    once, without the others. Under load (payments to confirm) a round is then one job, not
    a dozen transactions that mostly find nothing. A job an entry point said is due in a
    moment (:mod:`tuangou.core.wakeup`) runs then, alone."""
    log.info("worker started")
    last_full = float("-inf")
    busy: list[tuple[str, Callable[[], int]]] = []
    woken: set[str] = set()
    while not stop.is_set():
        now = time.monotonic()
        full = now - last_full >= interval
        if full:
            last_full = now
        jobs = JOBS if full else busy + [j for j in JOBS if j[0] in woken and j not in busy]
        done = run_once(jobs)
        busy = [(name, job) for name, job in jobs if done.get(name)]
        if busy:
            # A short breath lets due work gather: one bigger batch holds the (SQLite) write
            # lock once instead of many times, and the requests queued on it go first.
            woken = wakeup.sleep(min(BUSY_PAUSE, interval))
        else:
            woken = wakeup.sleep(max(0.0, interval - (time.monotonic() - last_full)))
    log.info("worker stopped")


class WorkerThread:
    def __init__(self, interval: float) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=loop, args=(self.stop, interval), name="tuangou-worker", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def close(self, timeout: float = 10.0) -> None:
        self.stop.set()
        wakeup.interrupt()
        self.thread.join(timeout)
