"""Outgoing webhooks over HTTP (operators): endpoints, their secrets, the delivery log,
replays and test events."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from tuangou.api.deps import Operator
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.webhooks import schemas
from tuangou.webhooks import service as webhooks

router = APIRouter(tags=["operator: webhooks"])


@router.get("/admin/webhooks/topics")
def topics(who: Operator) -> schemas.TopicsOut:
    """The topics an endpoint may subscribe to."""
    return schemas.TopicsOut(topics=list(webhooks.TOPICS), test_topic=webhooks.TEST_TOPIC)


@router.get("/admin/webhooks")
def endpoints(who: Operator) -> list[schemas.EndpointOut]:
    with unit_of_work(readonly=True) as session:
        return [schemas.EndpointOut.of(e) for e in webhooks.list_endpoints(session)]


@router.post("/admin/webhooks", status_code=201)
def create(body: schemas.EndpointIn, who: Operator) -> schemas.EndpointSecretOut:
    """A new endpoint. The reply carries its signing secret, shown this once."""

    def work(session: Session) -> schemas.EndpointSecretOut:
        view, secret = webhooks.create_endpoint(
            session,
            url=body.url,
            topics=body.topics,
            description=body.description,
            active=body.active,
            operator_id=who.user_id,
        )
        return schemas.EndpointSecretOut.of_new(view, secret)

    return run_in_transaction(work)


@router.get("/admin/webhooks/deliveries/{delivery_id}")
def delivery(delivery_id: int, who: Operator) -> schemas.DeliveryDetailOut:
    """One delivery with its body and every attempt."""
    with unit_of_work(readonly=True) as session:
        return schemas.DeliveryDetailOut.of_detail(webhooks.get_delivery(session, delivery_id))


@router.post("/admin/webhooks/deliveries/{delivery_id}/replay")
def replay(delivery_id: int, who: Operator) -> schemas.DeliveryOut:
    """Send a delivered or failed delivery again (same event id); 409 while it is pending."""
    return run_in_transaction(lambda s: schemas.DeliveryOut.of(webhooks.replay(s, delivery_id)))


@router.post("/admin/webhooks/deliver")
def deliver(who: Operator) -> schemas.SentOut:
    """Send the due deliveries now (the worker does it every round)."""
    return schemas.SentOut(attempts=webhooks.send_due())


@router.get("/admin/webhooks/{endpoint_id}")
def endpoint(endpoint_id: int, who: Operator) -> schemas.EndpointOut:
    with unit_of_work(readonly=True) as session:
        return schemas.EndpointOut.of(webhooks.get_endpoint(session, endpoint_id))


@router.patch("/admin/webhooks/{endpoint_id}")
def change(endpoint_id: int, body: schemas.EndpointPatchIn, who: Operator) -> schemas.EndpointOut:
    """Change the address, topics or description; ``active: false`` pauses it."""

    def work(session: Session) -> schemas.EndpointOut:
        view = webhooks.update_endpoint(
            session,
            endpoint_id,
            url=body.url,
            topics=body.topics,
            description=body.description,
            active=body.active,
        )
        return schemas.EndpointOut.of(view)

    return run_in_transaction(work)


@router.post("/admin/webhooks/{endpoint_id}/rotate")
def rotate(endpoint_id: int, who: Operator) -> schemas.EndpointSecretOut:
    """A new secret, shown this once; the old one keeps signing during the overlap."""

    def work(session: Session) -> schemas.EndpointSecretOut:
        view, secret = webhooks.rotate_secret(session, endpoint_id)
        return schemas.EndpointSecretOut.of_new(view, secret)

    return run_in_transaction(work)


@router.post("/admin/webhooks/{endpoint_id}/test")
def test_event(endpoint_id: int, who: Operator) -> schemas.DeliveryOut:
    """Queue a ``webhook.test`` event for this endpoint, due now."""
    return run_in_transaction(lambda s: schemas.DeliveryOut.of(webhooks.send_test(s, endpoint_id)))


@router.get("/admin/webhooks/{endpoint_id}/deliveries")
def endpoint_deliveries(
    endpoint_id: int,
    who: Operator,
    status: Literal["pending", "delivered", "failed", "all"] = Query("all"),
    limit: int = Query(50, ge=1, le=200),
) -> list[schemas.DeliveryOut]:
    """The endpoint's latest deliveries, newest first, each with its attempts."""
    with unit_of_work(readonly=True) as session:
        found = webhooks.deliveries(
            session, endpoint_id, status=None if status == "all" else status, limit=limit
        )
        return [schemas.DeliveryOut.of(d) for d in found]
