"""A receiver in the test process (an ``httpx.MockTransport``) and the setting that lets
endpoints point at it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tuangou.core import outbox
from tuangou.core.config import reset_settings
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.webhooks import service as webhooks

URL = "http://127.0.0.1:9/hooks"


@dataclass
class Receiver:
    """Answers each request with the next of ``replies`` (the last one again when they run
    out) and keeps every request it got."""

    replies: list[int] = field(default_factory=lambda: [200])
    pause: float = 0.0
    requests: list[httpx.Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.pause:
            time.sleep(self.pause)
        with self.lock:
            self.requests.append(request)
            status = self.replies[min(len(self.requests), len(self.replies)) - 1]
        moved = {"Location": "http://127.0.0.1:9/elsewhere"} if 300 <= status < 400 else {}
        return httpx.Response(status, text=f"answer {status}", headers=moved)

    def event_ids(self) -> list[str]:
        return [r.headers["Tuangou-Event-Id"] for r in self.requests]


@pytest.fixture
def allow_private() -> Iterator[None]:
    os.environ["TUANGOU_WEBHOOK_ALLOW_PRIVATE"] = "true"
    reset_settings()
    yield
    os.environ.pop("TUANGOU_WEBHOOK_ALLOW_PRIVATE", None)
    reset_settings()


@contextmanager
def receiving() -> Iterator[Receiver]:
    """Endpoints may point at this machine, and every request reaches a :class:`Receiver`."""
    os.environ["TUANGOU_WEBHOOK_ALLOW_PRIVATE"] = "true"
    reset_settings()
    found = Receiver()
    webhooks.set_transport(httpx.MockTransport(found))
    try:
        yield found
    finally:
        webhooks.set_transport(None)
        os.environ.pop("TUANGOU_WEBHOOK_ALLOW_PRIVATE", None)
        reset_settings()


@pytest.fixture
def receiver(db: str) -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def endpoint(topics: list[str] | None = None, **kw: Any) -> tuple[int, str]:
    """A new endpoint at the receiver: its id and its secret."""
    view, secret = run_in_transaction(
        lambda s: webhooks.create_endpoint(
            s, url=kw.pop("url", URL), topics=topics or ["order.completed"], **kw
        )
    )
    return view.id, secret


def emit(topic: str = "order.completed", payload: dict[str, Any] | None = None) -> str:
    """An event through the outbox, handed to its handlers."""

    def work(session: Any) -> str:
        return outbox.emit(session, topic, payload or {"order_id": 7, "user_ids": []})

    event_id = run_in_transaction(work)
    outbox.deliver_pending()
    return event_id


def deliveries(endpoint_id: int) -> list[webhooks.DeliveryView]:
    with unit_of_work(readonly=True) as session:
        return webhooks.deliveries(session, endpoint_id)


def only(endpoint_id: int) -> webhooks.DeliveryView:
    found = deliveries(endpoint_id)
    assert len(found) == 1, found
    return found[0]


Step = Callable[[], int]
