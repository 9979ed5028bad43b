"""Signed outgoing webhooks (issue 17): an operator's endpoints, the deliveries the outbox
enqueues for them, and the sending of those deliveries.

- :func:`enqueue` is an outbox handler: each event of a topic an active endpoint subscribes
  to becomes exactly one delivery row per endpoint (unique on endpoint and event), however
  often the at-least-once outbox hands it over.
- :func:`send_due` (the worker's "send webhooks" job) claims due deliveries with a guarded
  UPDATE that takes a lease, so two workers never send one delivery at the same time; each
  request is signed (:mod:`tuangou.webhooks.rules`), follows no redirect, and is recorded as
  an attempt. 2xx delivers; anything else is tried again later (1 min, 2 min, 4 min … up to
  6 h, with jitter), and after :data:`rules.MAX_ATTEMPTS` the delivery has ``failed``.
- Secrets are made here, shown once, and stored encrypted with a key derived from the
  instance's secret key. Rotating keeps the old secret signing beside the new one for
  ``TUANGOU_WEBHOOK_SECRET_OVERLAP_HOURS``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import secrets
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock, ids
from tuangou.core import secret as instance_secret
from tuangou.core.config import get_settings
from tuangou.core.db import get_or_404, is_sqlite, unit_of_work, upsert_insert
from tuangou.core.errors import Conflict, InvalidInput, NotFound
from tuangou.core.models import OutboxEvent
from tuangou.webhooks import rules
from tuangou.webhooks.errors import WebhookErrorCode
from tuangou.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

TOPICS = rules.TOPICS
TEST_TOPIC = rules.TEST_TOPIC
USER_AGENT = "tuangou-webhooks/1"


class EndpointNotFound(NotFound):
    code: ClassVar[str] = WebhookErrorCode.ENDPOINT_NOT_FOUND
    title = "Webhook endpoint not found"


class DeliveryNotFound(NotFound):
    code: ClassVar[str] = WebhookErrorCode.DELIVERY_NOT_FOUND
    title = "Webhook delivery not found"


class UrlRefused(InvalidInput):
    code: ClassVar[str] = WebhookErrorCode.URL_REFUSED
    title = "This address cannot receive webhooks"


class TopicsInvalid(InvalidInput):
    code: ClassVar[str] = WebhookErrorCode.TOPICS_INVALID
    title = "Choose one or more of the listed topics"


class NotReplayable(Conflict):
    code: ClassVar[str] = WebhookErrorCode.NOT_REPLAYABLE
    title = "Only a delivered or failed delivery can be sent again"


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class EndpointView:
    id: int
    url: str
    description: str
    topics: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime
    old_secret_until: datetime | None  # the old secret still signs until then


@dataclass(frozen=True)
class AttemptView:
    number: int
    at: datetime
    status_code: int | None
    duration_ms: int
    response_body: str | None
    error: str | None


@dataclass(frozen=True)
class DeliveryView:
    id: int
    endpoint_id: int
    event_id: str
    topic: str
    status: str
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    body: str
    log: list[AttemptView] = field(default_factory=list)

    @property
    def replayable(self) -> bool:
        return self.status in ("delivered", "failed")


def _endpoint_view(e: WebhookEndpoint, now: datetime | None = None) -> EndpointView:
    now = now or clock.now()
    until = e.old_secret_until if e.old_secret and e.old_secret_until else None
    return EndpointView(
        id=e.id,
        url=e.url,
        description=e.description,
        topics=list(json.loads(e.topics)),
        active=e.active,
        created_at=e.created_at,
        updated_at=e.updated_at,
        old_secret_until=until if until and until > now else None,
    )


def _delivery_view(d: WebhookDelivery, log_: list[WebhookAttempt] | None = None) -> DeliveryView:
    return DeliveryView(
        id=d.id,
        endpoint_id=d.endpoint_id,
        event_id=d.event_id,
        topic=d.topic,
        status=d.status,
        attempts=d.attempts,
        max_attempts=d.max_attempts,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
        body=d.body,
        log=[
            AttemptView(a.number, a.at, a.status_code, a.duration_ms, a.response_body, a.error)
            for a in log_ or []
        ],
    )


# ---------------------------------------------------------------- secrets


def _fernet() -> Fernet:
    key = hashlib.sha256(f"webhooks:{instance_secret.secret_key()}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def _open(value: str) -> str:
    return _fernet().decrypt(value.encode()).decode()


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a request now: the current one, then the old one during the
    overlap after a rotation."""
    found = [_open(endpoint.secret)]
    if endpoint.old_secret and endpoint.old_secret_until and endpoint.old_secret_until > now:
        found.append(_open(endpoint.old_secret))
    return found


# ---------------------------------------------------------------- endpoints


def _checked_url(url: str) -> str:
    try:
        return rules.check_url(url, allow_private=get_settings().webhook_allow_private)
    except rules.UrlRefused as exc:
        raise UrlRefused(str(exc)) from exc


def _checked_topics(topics: list[str]) -> list[str]:
    try:
        return rules.check_topics(topics)
    except ValueError as exc:
        raise TopicsInvalid(str(exc)) from exc


def create_endpoint(
    session: Session,
    *,
    url: str,
    topics: list[str],
    description: str = "",
    active: bool = True,
    operator_id: int | None = None,
) -> tuple[EndpointView, str]:
    """A new endpoint and its secret (shown this once, never again)."""
    now = clock.now()
    secret = new_secret()
    endpoint = WebhookEndpoint(
        url=_checked_url(url),
        description=description.strip()[:200],
        topics=json.dumps(_checked_topics(topics)),
        active=active,
        secret=_seal(secret),
        created_at=now,
        created_by=operator_id,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    return _endpoint_view(endpoint, now), secret


def update_endpoint(
    session: Session,
    endpoint_id: int,
    *,
    url: str | None = None,
    topics: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> EndpointView:
    """Change what is given; pausing holds the endpoint's deliveries (none is enqueued for
    it, the queued ones wait) until it is active again."""
    endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, EndpointNotFound)
    if url is not None:
        endpoint.url = _checked_url(url)
    if topics is not None:
        endpoint.topics = json.dumps(_checked_topics(topics))
    if description is not None:
        endpoint.description = description.strip()[:200]
    if active is not None:
        endpoint.active = active
    endpoint.updated_at = clock.now()
    return _endpoint_view(endpoint)


def rotate_secret(session: Session, endpoint_id: int) -> tuple[EndpointView, str]:
    """A new secret (shown this once); the current one keeps signing beside it for the
    overlap, then is dropped. A rotation during an overlap drops the oldest at once."""
    now = clock.now()
    endpoint = get_or_404(
        session, WebhookEndpoint, endpoint_id, EndpointNotFound, with_for_update=True
    )
    secret = new_secret()
    endpoint.old_secret = endpoint.secret
    endpoint.old_secret_until = now + timedelta(hours=get_settings().webhook_secret_overlap_hours)
    endpoint.secret = _seal(secret)
    endpoint.updated_at = now
    return _endpoint_view(endpoint, now), secret


def list_endpoints(session: Session) -> list[EndpointView]:
    now = clock.now()
    rows = session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return [_endpoint_view(e, now) for e in rows]


def get_endpoint(session: Session, endpoint_id: int) -> EndpointView:
    return _endpoint_view(get_or_404(session, WebhookEndpoint, endpoint_id, EndpointNotFound))


# ---------------------------------------------------------------- deliveries


def _add_delivery(
    session: Session, endpoint_id: int, event_id: str, topic: str, body: str, now: datetime
) -> None:
    insert = upsert_insert(session)
    session.execute(
        insert(WebhookDelivery)
        .values(
            endpoint_id=endpoint_id,
            event_id=event_id,
            topic=topic,
            body=body,
            status="pending",
            attempts=0,
            max_attempts=rules.MAX_ATTEMPTS,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
    )


def enqueue(session: Session, event: OutboxEvent) -> None:
    """The outbox handler: one delivery per active endpoint subscribed to the event's topic
    (a second hand-over of the same event adds none)."""
    endpoints = [
        e
        for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
        if event.topic in json.loads(e.topics)
    ]
    if not endpoints:
        return
    body = rules.body(event.id, event.topic, clock.iso(event.created_at), event.payload or {})
    now = clock.now()
    for endpoint in endpoints:
        _add_delivery(session, endpoint.id, event.id, event.topic, body, now)


def send_test(session: Session, endpoint_id: int) -> DeliveryView:
    """A ``webhook.test`` event for this endpoint alone, due now (a paused endpoint's waits
    until it is active)."""
    endpoint = get_or_404(session, WebhookEndpoint, endpoint_id, EndpointNotFound)
    now = clock.now()
    event_id = ids.event_id()
    payload = {"endpoint_id": endpoint.id, "message": "A test event from the operator console."}
    body = rules.body(event_id, TEST_TOPIC, clock.iso(now), payload)
    _add_delivery(session, endpoint.id, event_id, TEST_TOPIC, body, now)
    delivery = session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.event_id == event_id
        )
    ).one()
    return _delivery_view(delivery)


def replay(session: Session, delivery_id: int) -> DeliveryView:
    """Send a delivered or failed delivery once more, now (same event id and body, so the
    receiver can drop it if it has it): one new attempt, no new series of retries."""
    delivery = get_or_404(session, WebhookDelivery, delivery_id, DeliveryNotFound)
    done = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status.in_(("delivered", "failed")),
        )
        .values(
            status="pending",
            max_attempts=WebhookDelivery.attempts + 1,
            next_attempt_at=clock.now(),
            lease_until=None,
            lease_token=None,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise NotReplayable
    session.refresh(delivery)
    return _delivery_view(delivery)


def deliveries(
    session: Session, endpoint_id: int, *, status: str | None = None, limit: int = 50
) -> list[DeliveryView]:
    """An endpoint's latest deliveries, newest first, each with its attempts."""
    get_or_404(session, WebhookEndpoint, endpoint_id, EndpointNotFound)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))
    logs: dict[int, list[WebhookAttempt]] = {}
    if rows:
        for a in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([d.id for d in rows]))
            .order_by(WebhookAttempt.number)
        ):
            logs.setdefault(a.delivery_id, []).append(a)
    return [_delivery_view(d, logs.get(d.id, [])) for d in rows]


def get_delivery(session: Session, delivery_id: int) -> DeliveryView:
    delivery = get_or_404(session, WebhookDelivery, delivery_id, DeliveryNotFound)
    attempts = list(
        session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.number)
        )
    )
    return _delivery_view(delivery, attempts)


def counts(session: Session) -> dict[int, dict[str, int]]:
    """Per endpoint, how many deliveries are in each status."""
    from sqlalchemy import func

    found: dict[int, dict[str, int]] = {}
    for endpoint_id, status, n in session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count()).group_by(
            WebhookDelivery.endpoint_id, WebhookDelivery.status
        )
    ):
        found.setdefault(endpoint_id, {})[status] = n
    return found


# ---------------------------------------------------------------- sending

_transport: httpx.BaseTransport | None = None


def set_transport(transport: httpx.BaseTransport | None) -> None:
    """Send through ``transport`` (tests: an ``httpx.MockTransport``); None: the network."""
    global _transport
    _transport = transport


def _resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    number: int
    url: str
    body: str
    event_id: str
    topic: str
    secrets: list[str]


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    duration_ms: int
    response_body: str | None
    error: str | None


def _claim(limit: int, token: str) -> list[_Job]:
    """Take up to ``limit`` due deliveries for this worker: a guarded UPDATE sets a lease on
    each, which only one claimer can win (another worker's claim finds the lease and moves
    on; an expired lease, from a worker that died, can be taken again)."""
    now = clock.now()
    jobs: list[_Job] = []
    free = or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)
    query = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.active.is_(True),
            free,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    with unit_of_work(readonly=True) as session:  # most rounds find nothing: no write lock
        if session.scalar(query.with_only_columns(WebhookDelivery.id).limit(1)) is None:
            return []
    with unit_of_work() as session:
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.old_secret_until <= now)
            .values(old_secret=None, old_secret_until=None)
        )
        if not is_sqlite():
            query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
        for delivery_id in list(session.scalars(query)):
            won = session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.status == "pending",
                    free,
                )
                .values(lease_until=now + rules.LEASE, lease_token=token)
                .execution_options(synchronize_session=False)
            )
            if won.rowcount != 1:  # type: ignore[attr-defined]
                continue
            delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
            assert delivery is not None
            endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
            assert endpoint is not None
            jobs.append(
                _Job(
                    delivery_id=delivery.id,
                    number=delivery.attempts + 1,
                    url=endpoint.url,
                    body=delivery.body,
                    event_id=delivery.event_id,
                    topic=delivery.topic,
                    secrets=signing_secrets(endpoint, now),
                )
            )
    return jobs


def _send(job: _Job, client: httpx.Client) -> _Outcome:
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    settings = get_settings()
    if not settings.webhook_allow_private:
        host = httpx.URL(job.url).host
        try:
            addresses = _resolve(host)
        except OSError as exc:
            return _Outcome(None, took(), None, f"cannot resolve {host}: {exc}"[:500])
        if not addresses or not all(rules.address_allowed(a) for a in addresses):
            return _Outcome(None, took(), None, "the address resolves to a private network")
    timestamp = int(clock.as_utc(clock.now()).timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Tuangou-Event-Id": job.event_id,
        "Tuangou-Topic": job.topic,
        "Tuangou-Timestamp": str(timestamp),
        "Tuangou-Signature": rules.signature_header(job.secrets, timestamp, job.body),
        "Tuangou-Attempt": str(job.number),
    }
    try:
        reply = client.post(job.url, content=job.body.encode(), headers=headers)
    except httpx.HTTPError as exc:
        return _Outcome(None, took(), None, f"{type(exc).__name__}: {exc}"[:500])
    text = reply.text[: rules.RESPONSE_KEPT] if reply.content else None
    return _Outcome(reply.status_code, took(), text, None)


def _record(job: _Job, token: str, outcome: _Outcome) -> None:
    """The attempt and where the delivery stands after it, if this worker still holds the
    delivery's lease."""
    now = clock.now()
    ok = rules.succeeded(outcome.status_code)
    with unit_of_work() as session:
        delivery = session.get(WebhookDelivery, job.delivery_id, populate_existing=True)
        if delivery is None or delivery.lease_token != token:
            return
        number = delivery.attempts + 1
        values: dict[str, Any] = {
            "attempts": number,
            "lease_until": None,
            "lease_token": None,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error or (None if ok else f"HTTP {outcome.status_code}"),
        }
        if ok:
            values.update(status="delivered", delivered_at=now, next_attempt_at=None)
        elif number >= delivery.max_attempts:
            values.update(status="failed", next_attempt_at=None)
        else:
            values["next_attempt_at"] = now + rules.delay(number, random.random())
        won = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == job.delivery_id, WebhookDelivery.lease_token == token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return
        session.add(
            WebhookAttempt(
                delivery_id=job.delivery_id,
                number=number,
                at=now,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                response_body=outcome.response_body,
                error=outcome.error,
            )
        )


def send_due(limit: int = 20) -> int:
    """Send the due deliveries this worker can claim; returns how many attempts were made."""
    token = secrets.token_hex(16)
    jobs = _claim(limit, token)
    if not jobs:
        return 0
    settings = get_settings()
    with httpx.Client(
        transport=_transport,
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
    ) as client:
        for job in jobs:
            outcome = _send(job, client)
            _record(job, token, outcome)
    return len(jobs)
