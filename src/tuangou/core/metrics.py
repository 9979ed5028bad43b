"""Prometheus metrics at ``/metrics`` (``prometheus-client``).

Measured where they happen:

* ``tuangou_http_request_duration_seconds{method, route, status}``: every request, by its
  route template (``/api/teams/{team_id}``) and status class (``2xx`` … ``5xx``): the request
  rate, latency and errors per route;
* ``tuangou_group_commit_batch_size``: the units per transaction of SQLite's group commit;
* ``tuangou_worker_job_items_total{job}`` and ``tuangou_worker_job_duration_seconds{job}``:
  what each worker job did, and how long its rounds took;
* ``tuangou_payment_confirmation_lag_seconds``: from a payment's creation to its confirmation
  (the gateway's word applied: the order is paid).

Read from the database at each scrape (one small query each):

* ``tuangou_outbox_pending`` and ``tuangou_outbox_lag_seconds`` (the age of the oldest event
  not yet handled);
* ``tuangou_worker_heartbeat_age_seconds``;
* what each domain registers with :func:`register_gauge` (the composition root does), e.g.
  payments waiting for the gateway's word, teams past their deadline not yet settled: work
  that is due and lagging;
* ``tuangou_transaction_retries_total{kind}``: transactions of this process run again after a
  deadlock (``40P01``), a serialization failure (``40001``) or a locked SQLite database.

With ``tuangou serve --workers N`` each process counts its own requests: set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory (cleared at each start) and every
process's counts are summed at each scrape (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

CONTENT_TYPE = CONTENT_TYPE_LATEST

REQUESTS = Histogram(
    "tuangou_http_request_duration_seconds",
    "Requests by route template, method and status class, and how long they took",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BATCH_SIZE = Histogram(
    "tuangou_group_commit_batch_size",
    "Units committed in one transaction by the group commit (SQLite)",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
JOB_ITEMS = Counter(
    "tuangou_worker_job_items", "What each worker job did (rows, events, payments)", ["job"]
)
JOB_SECONDS = Histogram(
    "tuangou_worker_job_duration_seconds",
    "How long each worker job's round took",
    ["job"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0),
)
PAYMENT_LAG = Histogram(
    "tuangou_payment_confirmation_lag_seconds",
    "From a payment's creation to its confirmation (the order paid)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0, 120.0, 600.0),
)


@dataclass(frozen=True)
class DueGauge:
    name: str
    help: str
    read: Callable[[Session], float]


_gauges: list[DueGauge] = []


def register_gauge(name: str, help: str, read: Callable[[Session], float]) -> None:
    """A figure read from the database at each scrape (work due, work lagging)."""
    if all(g.name != name for g in _gauges):
        _gauges.append(DueGauge(name, help, read))


def route_of(scope: Mapping[str, Any]) -> str:
    """The route template a request matched, with the prefix of the router that holds it
    (``/api`` + ``/teams/{team_id}``): never its ids, so label values stay bounded."""
    route = scope.get("route")
    template, pattern = getattr(route, "path", None), getattr(route, "path_regex", None)
    if not isinstance(template, str) or pattern is None:
        return "unmatched"
    path: str = scope.get("path", "")
    at = 0
    while at != -1:  # the route matched the tail of the path: what comes before is the prefix
        if pattern.match(path[at:]):
            return path[:at] + template
        at = path.find("/", at + 1)
    return template


class _FromDatabase(Collector):
    def collect(self) -> Iterator[Metric]:
        from tuangou.core import clock, liveness
        from tuangou.core.db import retry_counts, unit_of_work
        from tuangou.core.models import OutboxEvent

        retries = CounterMetricFamily(
            "tuangou_transaction_retries",
            "Transactions run again after a deadlock, a serialization failure or a lock",
            labels=["kind"],
        )
        for kind, n in retry_counts().items():
            retries.add_metric([kind], n)
        yield retries
        now = clock.now()
        with unit_of_work(readonly=True) as session:
            pending, oldest = session.execute(
                select(func.count(), func.min(OutboxEvent.created_at)).where(
                    OutboxEvent.delivered_at.is_(None)
                )
            ).one()
            beat = liveness.last_beat(session)
            yield GaugeMetricFamily(
                "tuangou_outbox_pending", "Outbox events not yet handled", value=pending
            )
            yield GaugeMetricFamily(
                "tuangou_outbox_lag_seconds",
                "Age of the oldest outbox event not yet handled (0: none)",
                value=(now - oldest).total_seconds() if oldest else 0.0,
            )
            yield GaugeMetricFamily(
                "tuangou_worker_heartbeat_age_seconds",
                "Seconds since a worker last ran its jobs (-1: never)",
                value=(datetime.now(UTC) - beat).total_seconds() if beat else -1.0,
            )
            for gauge in _gauges:
                yield GaugeMetricFamily(gauge.name, gauge.help, value=gauge.read(session))


def exposition() -> bytes:
    """The metrics in Prometheus' text format: this process's (or, in multiprocess mode,
    every process's) plus the figures read from the database."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, BATCH_SIZE, JOB_ITEMS, JOB_SECONDS, PAYMENT_LAG):
            registry.register(collector)
    registry.register(_FromDatabase())
    return generate_latest(registry)
