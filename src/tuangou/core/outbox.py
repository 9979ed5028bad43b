"""The transactional outbox (invariant 7).

A service calls :func:`emit` inside its unit of work, so the event commits or rolls back with
the change. The worker's :func:`deliver_pending` hands committed events to the handlers
registered for their topic (:func:`register`), at least once; a handler must be idempotent
(receivers drop duplicates by event id).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tuangou.core import clock, ids
from tuangou.core.db import is_sqlite, table, unit_of_work
from tuangou.core.models import OutboxEvent

log = logging.getLogger(__name__)

Handler = Callable[[Session, OutboxEvent], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def register(topics: Iterable[str], handler: Handler) -> None:
    """Hand ``topics``' events to ``handler`` (called once per handler, from the composition
    root, ``tuangou.wiring``)."""
    for topic in topics:
        if handler not in _handlers[topic]:
            _handlers[topic].append(handler)


def emit(session: Session, topic: str, payload: dict[str, Any]) -> str:
    event = OutboxEvent(
        id=ids.event_id(), topic=topic, payload=payload, created_at=clock.now(), attempts=0
    )
    session.add(event)
    return event.id


def emit_many(session: Session, topic: str, payloads: list[dict[str, Any]]) -> list[str]:
    """:func:`emit` for many events of one topic: one multi-row INSERT."""
    if not payloads:
        return []
    now = clock.now()
    rows: list[dict[str, Any]] = [
        {
            "id": ids.event_id(),
            "topic": topic,
            "payload": payload,
            "created_at": now,
            "attempts": 0,
        }
        for payload in payloads
    ]
    session.execute(insert(table(OutboxEvent)), rows)
    return [row["id"] for row in rows]


def deliver_pending(limit: int = 200) -> int:
    """Deliver up to ``limit`` committed events; returns how many were delivered."""
    delivered = 0
    with unit_of_work() as session:
        query = (
            select(OutboxEvent)
            .where(OutboxEvent.delivered_at.is_(None))
            .order_by(OutboxEvent.created_at)
            .limit(limit)
        )
        if not is_sqlite():
            query = query.with_for_update(skip_locked=True)
        events = list(session.scalars(query))
        for event in events:
            try:
                with session.begin_nested():
                    for handler in _handlers.get(event.topic, []):
                        handler(session, event)
                event.delivered_at = clock.now()
                delivered += 1
            except Exception as exc:  # a failing handler must not block the others
                log.exception("outbox handler failed for %s %s", event.topic, event.id)
                event.attempts += 1
                event.last_error = repr(exc)[:2000]
    return delivered
