"""The request and reply shapes of outgoing webhooks (the operator's API)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.webhooks.service import AttemptView, DeliveryView, EndpointView


class TopicsOut(Out):
    topics: list[str] = Field(description="the outbox topics an endpoint may subscribe to")
    test_topic: str = Field(description="the topic of the console's test event")


class EndpointIn(In):
    url: str = Field(max_length=500, description="http or https")
    topics: list[str] = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=200)
    active: bool = True


class EndpointPatchIn(In):
    url: str | None = Field(default=None, max_length=500)
    topics: list[str] | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=200)
    active: bool | None = Field(default=None, description="false pauses the endpoint")


class EndpointOut(Out):
    id: int
    url: str
    description: str
    topics: list[str]
    active: bool
    created_at: Iso
    updated_at: Iso
    old_secret_until: Iso | None = Field(
        description="after a rotation, the old secret signs beside the new one until then"
    )

    @classmethod
    def of(cls, e: EndpointView) -> EndpointOut:
        return cls.model_construct(**_endpoint(e))


class EndpointSecretOut(EndpointOut):
    secret: str = Field(description="the signing secret: shown this once, never again")

    @classmethod
    def of_new(cls, e: EndpointView, secret: str) -> EndpointSecretOut:
        return cls.model_construct(**_endpoint(e), secret=secret)


class AttemptOut(Out):
    number: int
    at: Iso
    status_code: int | None
    duration_ms: int
    response_body: str | None = Field(description="the start of the reply (1000 characters)")
    error: str | None


class DeliveryOut(Out):
    id: int
    endpoint_id: int
    event_id: str = Field(description="the same on every attempt and replay: dedupe by it")
    topic: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    max_attempts: int
    next_attempt_at: Iso | None
    last_status_code: int | None
    last_error: str | None
    created_at: Iso
    delivered_at: Iso | None
    log: list[AttemptOut]

    @classmethod
    def of(cls, d: DeliveryView) -> DeliveryOut:
        return cls.model_construct(**_delivery(d))


class DeliveryDetailOut(DeliveryOut):
    body: str = Field(description="the request body, exactly as signed")

    @classmethod
    def of_detail(cls, d: DeliveryView) -> DeliveryDetailOut:
        return cls.model_construct(**_delivery(d), body=d.body)


class SentOut(Out):
    attempts: int = Field(description="how many requests were made")


def _endpoint(e: EndpointView) -> dict[str, Any]:
    return {
        "id": e.id,
        "url": e.url,
        "description": e.description,
        "topics": list(e.topics),
        "active": e.active,
        "created_at": clock.iso(e.created_at),
        "updated_at": clock.iso(e.updated_at),
        "old_secret_until": clock.iso(e.old_secret_until),
    }


def _attempt(a: AttemptView) -> AttemptOut:
    return AttemptOut.model_construct(
        number=a.number,
        at=clock.iso(a.at),
        status_code=a.status_code,
        duration_ms=a.duration_ms,
        response_body=a.response_body,
        error=a.error,
    )


def _delivery(d: DeliveryView) -> dict[str, Any]:
    return {
        "id": d.id,
        "endpoint_id": d.endpoint_id,
        "event_id": d.event_id,
        "topic": d.topic,
        "status": d.status,
        "attempts": d.attempts,
        "max_attempts": d.max_attempts,
        "next_attempt_at": clock.iso(d.next_attempt_at),
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": clock.iso(d.created_at),
        "delivered_at": clock.iso(d.delivered_at),
        "log": [_attempt(a) for a in d.log],
    }
