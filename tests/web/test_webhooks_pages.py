"""The operator's webhooks pages (both backends): add an endpoint (its secret shown once),
send a test event and see it in the delivery log with the receiver's status code, replay it,
rotate the secret, pause; refusals are shown next to the field and change nothing; members
are kept out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, rows
from tests.web.pages import alerts, log_in, log_out, member, post
from tests.webhooks.conftest import URL, Receiver, receiving
from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import run_in_transaction
from tuangou.webhooks import service as webhooks


@pytest.fixture
def receiver(db: str) -> Iterator[Receiver]:
    with receiving() as found:
        yield found


def operator(client: TestClient, api: Api) -> None:
    phone = api.phone()
    run_in_transaction(
        lambda s: accounts.create_user(
            s, phone=phone, password="secret123", nickname="运营", role="operator"
        )
    )
    log_in(client, phone)


def test_an_operator_adds_an_endpoint_tests_replays_and_rotates(
    api: Api, client: TestClient, receiver: Receiver
) -> None:
    operator(client, api)
    page = client.get("/ops/webhooks")
    assert page.status_code == 200 and 'value="order.completed"' in page.text
    made = post(
        client,
        "/ops/webhooks",
        {
            "url": URL,
            "description": "ERP",
            "topics": ["order.completed", "team.formed"],
            "active": "1",
        },
        form_page="/ops/webhooks",
    )
    assert made.status_code == 201, alerts(made.text)
    secret = re.search(r"whsec_[\w-]+", made.text)
    assert secret
    endpoint_id = rows("SELECT id FROM webhook_endpoints")[0][0]
    shown = client.get(f"/ops/webhooks/{endpoint_id}")
    assert secret.group(0) not in shown.text  # shown once
    assert "尚未推送。" in shown.text

    queued = post(
        client, f"/ops/webhooks/{endpoint_id}/test", form_page=f"/ops/webhooks/{endpoint_id}"
    )
    assert queued.status_code == 303 and "done=test" in queued.headers["location"]
    receiver.replies = [500, 200]
    webhooks.send_due()
    log = client.get(f"/ops/webhooks/{endpoint_id}").text
    assert "webhook.test" in log and ">500<" in log and "重新发送" not in log

    clock.advance(timedelta(minutes=2))
    webhooks.send_due()
    log = client.get(f"/ops/webhooks/{endpoint_id}").text
    assert ">200<" in log and "重新发送" in log
    delivery_id = rows("SELECT id FROM webhook_deliveries")[0][0]
    again = post(
        client,
        f"/ops/webhooks/{endpoint_id}/deliveries/{delivery_id}/replay",
        form_page=f"/ops/webhooks/{endpoint_id}",
    )
    assert again.status_code == 303
    webhooks.send_due()
    assert len(receiver.requests) == 3 and len(set(receiver.event_ids())) == 1

    rotated = post(
        client, f"/ops/webhooks/{endpoint_id}/rotate", form_page=f"/ops/webhooks/{endpoint_id}"
    )
    new = re.search(r"whsec_[\w-]+", rotated.text)
    assert new and new.group(0) != secret.group(0)
    assert "旧密钥继续签名至" in rotated.text

    paused = post(
        client,
        f"/ops/webhooks/{endpoint_id}/active",
        {"on": "0"},
        form_page=f"/ops/webhooks/{endpoint_id}",
    )
    assert paused.status_code == 303
    assert "不再接收新事件" in client.get(f"/ops/webhooks/{endpoint_id}").text


def test_refusals_are_shown_and_change_nothing(
    api: Api, client: TestClient, receiver: Receiver
) -> None:
    operator(client, api)
    refused = post(
        client,
        "/ops/webhooks",
        {"url": "file:///etc/passwd", "topics": ["team.formed"]},
        form_page="/ops/webhooks",
    )
    assert refused.status_code == 400
    assert alerts(refused.text) == ["该地址不能接收 Webhook"]
    no_topic = post(client, "/ops/webhooks", {"url": URL}, form_page="/ops/webhooks")
    assert no_topic.status_code == 400 and alerts(no_topic.text) == ["请至少选择一种事件"]
    assert rows("SELECT id FROM webhook_endpoints") == []


def test_members_are_kept_out(api: Api, client: TestClient) -> None:
    member(client, api.phone())
    assert client.get("/ops/webhooks", follow_redirects=False).status_code in (303, 403)
    log_out(client)
    assert client.get("/ops/webhooks", follow_redirects=False).status_code in (303, 401)
