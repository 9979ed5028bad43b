"""Deliveries end to end, on both backends: the outbox enqueues, the worker's job sends to a
receiver in this process, signs, retries, rotates and replays."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import rows, scalar
from tests.webhooks.conftest import Receiver, deliveries, emit, endpoint, only
from tuangou.core import clock, outbox
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.models import OutboxEvent
from tuangou.webhooks import rules
from tuangou.webhooks import service as webhooks

DOCS = Path(__file__).parents[2] / "docs" / "WEBHOOKS.md"


def documented_verifier() -> Any:
    """The receiver's snippet, exactly as docs/WEBHOOKS.md gives it."""
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    code = next(b for b in blocks if "def verify_tuangou" in b)
    scope: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), scope)  # our own documentation's snippet
    # The receiver's clock reads the platform's (which the tests move forward).
    scope["time"] = SimpleNamespace(time=lambda: clock.as_utc(clock.now()).timestamp())
    return scope["verify_tuangou"]


def send() -> int:
    return webhooks.send_due()


def test_an_event_is_signed_as_documented(receiver: Receiver) -> None:
    endpoint_id, secret = endpoint(["order.completed", "team.formed"])
    other_id, _ = endpoint(["team.formed"])
    event_id = emit("order.completed", {"order_id": 42, "user_ids": [], "code": "778899"})
    assert send() == 1
    (request,) = receiver.requests
    body = request.content
    assert request.headers["Tuangou-Event-Id"] == event_id
    assert request.headers["Tuangou-Topic"] == "order.completed"
    sent = json.loads(body)
    assert sent["id"] == event_id and sent["topic"] == "order.completed"
    assert sent["payload"] == {"order_id": 42, "user_ids": []}  # the pickup code stays home
    verify = documented_verifier()
    timestamp, signature = (
        request.headers["Tuangou-Timestamp"],
        request.headers["Tuangou-Signature"],
    )
    assert verify(secret, body, timestamp, signature)
    # A tampered body, another secret, a stale timestamp: refused.
    assert not verify(secret, body.replace(b"42", b"43"), timestamp, signature)
    assert not verify(secret + "x", body, timestamp, signature)
    assert not verify(secret, body, str(int(timestamp) - 3600), signature)
    done = only(endpoint_id)
    assert (done.status, done.attempts, done.last_status_code) == ("delivered", 1, 200)
    assert done.log[0].response_body == "answer 200"
    assert deliveries(other_id) == []


def test_5xx_then_2xx(receiver: Receiver) -> None:
    receiver.replies = [503, 200]
    endpoint_id, _ = endpoint()
    emit()
    assert send() == 1
    waiting = only(endpoint_id)
    assert (waiting.status, waiting.attempts, waiting.last_status_code) == ("pending", 1, 503)
    assert send() == 0  # not due yet
    clock.advance(timedelta(minutes=2))
    assert send() == 1
    done = only(endpoint_id)
    assert done.status == "delivered"
    assert [a.status_code for a in done.log] == [503, 200]
    assert len(set(receiver.event_ids())) == 1  # the same event both times


def test_the_retry_schedule_ends_in_failed(receiver: Receiver) -> None:
    receiver.replies = [500]
    endpoint_id, _ = endpoint()
    emit()
    for n in range(1, rules.MAX_ATTEMPTS + 1):
        before = clock.now()
        assert send() == 1
        d = only(endpoint_id)
        assert d.attempts == n
        if n < rules.MAX_ATTEMPTS:
            assert d.status == "pending" and d.next_attempt_at is not None
            wait = d.next_attempt_at - before
            base = rules.delay(n, 0.0)
            assert base <= wait <= base * 1.2 + timedelta(seconds=5)
            clock.advance(wait + timedelta(seconds=1))
    failed = only(endpoint_id)
    assert (failed.status, failed.next_attempt_at) == ("failed", None)
    assert len(failed.log) == rules.MAX_ATTEMPTS
    clock.advance(timedelta(days=1))
    assert send() == 0
    assert len(receiver.requests) == rules.MAX_ATTEMPTS


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.replies = [302]
    endpoint_id, _ = endpoint()
    emit()
    assert send() == 1
    assert len(receiver.requests) == 1
    d = only(endpoint_id)
    assert (d.status, d.last_status_code) == ("pending", 302)


def test_a_connection_error_is_an_attempt(receiver: Receiver) -> None:
    import httpx

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    webhooks.set_transport(httpx.MockTransport(refuse))
    endpoint_id, _ = endpoint()
    emit()
    assert send() == 1
    d = only(endpoint_id)
    assert d.status == "pending" and d.last_status_code is None
    assert d.log[0].error and "ConnectError" in d.log[0].error


def test_rotation_signs_with_both_during_the_overlap_then_the_new_only(
    receiver: Receiver,
) -> None:
    endpoint_id, old = endpoint()
    view, new = run_in_transaction(lambda s: webhooks.rotate_secret(s, endpoint_id))
    assert new != old and view.old_secret_until is not None
    verify = documented_verifier()
    emit()
    send()
    request = receiver.requests[-1]
    signature = request.headers["Tuangou-Signature"]
    assert signature.count("v1=") == 2
    args = (request.content, request.headers["Tuangou-Timestamp"], signature)
    assert verify(new, *args) and verify(old, *args)
    clock.advance(timedelta(hours=24, minutes=1))
    emit()
    send()
    request = receiver.requests[-1]
    signature = request.headers["Tuangou-Signature"]
    assert signature.count("v1=") == 1
    args = (request.content, request.headers["Tuangou-Timestamp"], signature)
    assert verify(new, *args) and not verify(old, *args)
    assert scalar("SELECT old_secret FROM webhook_endpoints WHERE id = :i", i=endpoint_id) is None


def test_secrets_are_stored_encrypted(receiver: Receiver) -> None:
    endpoint_id, secret = endpoint()
    stored = scalar("SELECT secret FROM webhook_endpoints WHERE id = :i", i=endpoint_id)
    assert secret not in stored and secret.removeprefix("whsec_") not in stored


def test_replay_sends_the_same_event_once_more(receiver: Receiver) -> None:
    receiver.replies = [200]
    endpoint_id, _ = endpoint()
    emit()
    send()
    delivered = only(endpoint_id)
    again = run_in_transaction(lambda s: webhooks.replay(s, delivered.id))
    assert again.status == "pending"
    with pytest.raises(webhooks.NotReplayable):
        run_in_transaction(lambda s: webhooks.replay(s, delivered.id))
    receiver.replies = [200, 500]
    assert send() == 1
    failed = only(endpoint_id)
    # One more attempt, not a new series of retries.
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert receiver.event_ids() == [delivered.event_id] * 2
    assert [r.headers["Tuangou-Attempt"] for r in receiver.requests] == ["1", "2"]
    receiver.replies = [200, 500, 204]
    run_in_transaction(lambda s: webhooks.replay(s, failed.id))
    send()
    assert only(endpoint_id).status == "delivered"


def test_a_test_event_reaches_the_endpoint_whatever_it_subscribes_to(
    receiver: Receiver,
) -> None:
    endpoint_id, _ = endpoint(["team.formed"])
    queued = run_in_transaction(lambda s: webhooks.send_test(s, endpoint_id))
    assert queued.topic == rules.TEST_TOPIC
    send()
    assert receiver.requests[0].headers["Tuangou-Topic"] == rules.TEST_TOPIC
    assert only(endpoint_id).status == "delivered"


def test_an_event_handed_over_twice_makes_one_delivery(receiver: Receiver) -> None:
    endpoint_id, _ = endpoint()
    event_id = emit()
    # The outbox delivers at least once: the same event handed to its handlers again.
    for _ in range(2):
        with unit_of_work() as session:
            event = session.get(OutboxEvent, event_id)
            assert event is not None
            webhooks.enqueue(session, event)
    with unit_of_work() as session:
        session.get(OutboxEvent, event_id).delivered_at = None  # type: ignore[union-attr]
    outbox.deliver_pending()
    assert len(deliveries(endpoint_id)) == 1
    send()
    send()
    assert len(receiver.requests) == 1


def test_a_paused_endpoint_gets_no_events_and_holds_its_queue(receiver: Receiver) -> None:
    endpoint_id, _ = endpoint()
    run_in_transaction(lambda s: webhooks.send_test(s, endpoint_id))
    run_in_transaction(lambda s: webhooks.update_endpoint(s, endpoint_id, active=False))
    emit()
    assert send() == 0
    assert [d.topic for d in deliveries(endpoint_id)] == [rules.TEST_TOPIC]
    run_in_transaction(lambda s: webhooks.update_endpoint(s, endpoint_id, active=True))
    assert send() == 1


def test_two_workers_racing_send_each_delivery_once(receiver: Receiver) -> None:
    receiver.pause = 0.02
    endpoint_id, _ = endpoint()
    for n in range(6):
        emit(payload={"order_id": n})
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            while webhooks.send_due(limit=2):
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    ids = receiver.event_ids()
    assert len(ids) == 6 and len(set(ids)) == 6
    assert {d.status for d in deliveries(endpoint_id)} == {"delivered"}
    assert scalar("SELECT COUNT(*) FROM webhook_attempts") == 6


def test_a_claimed_delivery_is_not_sent_by_another_worker(receiver: Receiver) -> None:
    """The claim's lease: while one worker holds it, another finds nothing; once it has
    expired (the worker died) another takes it."""
    endpoint_id, _ = endpoint()
    emit()
    jobs = webhooks._claim(10, "a" * 32)
    assert len(jobs) == 1
    assert send() == 0
    assert receiver.requests == []
    clock.advance(rules.LEASE + timedelta(seconds=1))
    assert send() == 1
    # The first worker comes back late: its lease is gone, it records nothing.
    webhooks._record(jobs[0], "a" * 32, webhooks._Outcome(200, 1, None, None))
    assert only(endpoint_id).attempts == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://10.1.2.3/x", "file:///etc/x"])
def test_private_addresses_are_refused(db: str, url: str) -> None:
    with pytest.raises(webhooks.UrlRefused):
        endpoint(url=url)
    assert rows("SELECT id FROM webhook_endpoints") == []


def test_a_name_resolving_to_a_private_address_is_not_sent_to(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint_id, _ = endpoint(url="https://hooks.example.org/in")
    monkeypatch.setenv("TUANGOU_WEBHOOK_ALLOW_PRIVATE", "false")
    from tuangou.core.config import reset_settings

    reset_settings()
    monkeypatch.setattr(webhooks, "_resolve", lambda host: ["127.0.0.1"])
    emit()
    assert send() == 1
    assert receiver.requests == []
    d = only(endpoint_id)
    assert d.status == "pending" and "private" in (d.log[0].error or "")
    monkeypatch.setattr(webhooks, "_resolve", lambda host: ["93.184.216.34"])
    clock.advance(timedelta(minutes=2))
    assert send() == 1
    assert len(receiver.requests) == 1


def test_bad_input_changes_nothing(receiver: Receiver) -> None:
    endpoint_id, _ = endpoint()
    with pytest.raises(webhooks.TopicsInvalid):
        run_in_transaction(
            lambda s: webhooks.update_endpoint(s, endpoint_id, topics=["nope"], description="x")
        )
    with pytest.raises(webhooks.UrlRefused):
        run_in_transaction(lambda s: webhooks.update_endpoint(s, endpoint_id, url="ftp://a/b"))
    with unit_of_work(readonly=True) as session:
        view = webhooks.get_endpoint(session, endpoint_id)
    assert (view.topics, view.description) == (["order.completed"], "")
    with pytest.raises(webhooks.EndpointNotFound):
        run_in_transaction(lambda s: webhooks.send_test(s, endpoint_id + 1))


def test_nothing_is_sent_without_endpoints(db: str) -> None:
    emit()
    assert webhooks.send_due() == 0
    with unit_of_work(readonly=True) as session:
        assert session.scalars(select(OutboxEvent.delivered_at)).one() is not None
