"""Outgoing webhooks over HTTP (both backends): operators only; the secret is shown once;
refusals change nothing; the delivery log, replay and test event."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Api, rows
from tests.webhooks.conftest import URL, Receiver, emit


def test_an_operator_runs_an_endpoint_over_the_api(
    client: TestClient, api: Api, receiver: Receiver
) -> None:
    op = api.operator()
    member = api.signup()
    assert (
        client.get(
            "/api/admin/webhooks", headers={"Authorization": member["Authorization"]}
        ).status_code
        == 403
    )
    topics = client.get("/api/admin/webhooks/topics", headers=op).json()
    assert "order.completed" in topics["topics"] and topics["test_topic"] == "webhook.test"

    made = client.post(
        "/api/admin/webhooks",
        json={"url": URL, "topics": ["order.completed"], "description": "ERP"},
        headers=op,
    )
    assert made.status_code == 201, made.text
    endpoint = made.json()
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    shown = client.get(f"/api/admin/webhooks/{endpoint['id']}", headers=op).json()
    assert "secret" not in shown and shown["description"] == "ERP"
    assert secret not in client.get("/api/admin/webhooks", headers=op).text

    emit()
    assert client.post("/api/admin/webhooks/deliver", headers=op).json() == {"attempts": 1}
    log = client.get(f"/api/admin/webhooks/{endpoint['id']}/deliveries", headers=op).json()
    assert [(d["status"], d["attempts"], d["log"][0]["status_code"]) for d in log] == [
        ("delivered", 1, 200)
    ]
    delivery = log[0]["id"]
    detail = client.get(f"/api/admin/webhooks/deliveries/{delivery}", headers=op).json()
    assert '"topic":"order.completed"' in detail["body"]

    replayed = client.post(f"/api/admin/webhooks/deliveries/{delivery}/replay", headers=op)
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    again = client.post(f"/api/admin/webhooks/deliveries/{delivery}/replay", headers=op)
    assert again.status_code == 409
    assert again.json()["code"] == "webhook_delivery_not_replayable"
    tested = client.post(f"/api/admin/webhooks/{endpoint['id']}/test", headers=op)
    assert tested.json()["topic"] == "webhook.test"
    assert client.post("/api/admin/webhooks/deliver", headers=op).json() == {"attempts": 2}
    assert len(set(receiver.event_ids())) == 2 and len(receiver.requests) == 3

    rotated = client.post(f"/api/admin/webhooks/{endpoint['id']}/rotate", headers=op).json()
    assert rotated["secret"] != secret and rotated["old_secret_until"]
    paused = client.patch(
        f"/api/admin/webhooks/{endpoint['id']}", json={"active": False}, headers=op
    )
    assert paused.json()["active"] is False


def test_refusals_change_nothing(client: TestClient, api: Api, receiver: Receiver) -> None:
    op = api.operator()
    for url in ("file:///etc/passwd", "ftp://example.org/x"):
        r = client.post(
            "/api/admin/webhooks", json={"url": url, "topics": ["team.formed"]}, headers=op
        )
        assert r.status_code == 422 and r.json()["code"] == "webhook_url_refused"
    r = client.post("/api/admin/webhooks", json={"url": URL, "topics": ["no.such"]}, headers=op)
    assert r.status_code == 422 and r.json()["code"] == "webhook_topics_invalid"
    assert rows("SELECT id FROM webhook_endpoints") == []
    assert client.get("/api/admin/webhooks/99", headers=op).json()["code"] == (
        "webhook_endpoint_not_found"
    )
    assert client.post("/api/admin/webhooks/deliveries/99/replay", headers=op).status_code == 404


def test_loopback_is_refused_unless_the_setting_allows_it(client: TestClient, api: Api) -> None:
    op = api.operator()
    r = client.post("/api/admin/webhooks", json={"url": URL, "topics": ["team.formed"]}, headers=op)
    assert r.status_code == 422 and r.json()["code"] == "webhook_url_refused"
    assert rows("SELECT id FROM webhook_endpoints") == []
