"""通知设置: a member chooses which messages also come by text message or WeChat and sets
quiet hours; a bad time is refused next to its field and changes nothing; staff may choose
e-mail; the page shows the phone masked. The same settings through the API."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import scalar
from tests.web.pages import alerts, form_of, log_in, log_out, member
from tuangou.accounts import service as accounts
from tuangou.core.db import run_in_transaction

PAGE = "/me/notification-settings"


def test_a_member_chooses_channels_and_quiet_hours_and_staff_e_mail(client: TestClient) -> None:
    uid = member(client, "13900000001")
    assert PAGE in client.get("/me").text  # linked from 我的
    html = client.get(PAGE).text
    assert "139****0001" in html and "13900000001" not in html
    assert 'name="route-pickup.arrived-sms"' in html
    assert 'name="route-pickup.arrived-email"' not in html  # e-mail is for staff
    data = {
        **form_of(client, PAGE),
        "route-pickup.arrived-sms": "1",
        "route-pickup.arrived-wechat": "1",
        "route-order.shipped-wechat": "1",
        "quiet_start": "21:30",
        "quiet_end": "07:00",
        "pickup_at_night": "1",
    }
    reply = client.post(PAGE, data=data, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"].endswith("done=saved")
    routes = scalar("SELECT routes FROM notify_preferences WHERE user_id = :u", u=uid)
    routes = json.loads(routes) if isinstance(routes, str) else routes
    assert routes == {"pickup.arrived": ["sms", "wechat"], "order.shipped": ["wechat"]}
    html = client.get(PAGE + "?done=saved").text
    assert 'name="route-pickup.arrived-sms" value="1" aria-label' in html
    assert (
        'value="21:30"' in html
        and 'id="f-pickup_at_night" name="pickup_at_night" value="1" checked' in html
    )
    # A bad time: refused next to the field, nothing changed.
    bad = {**data, **form_of(client, PAGE), "quiet_start": "25:00", "route-order.shipped-sms": "1"}
    reply = client.post(PAGE, data=bad, follow_redirects=False)
    assert reply.status_code == 400
    assert alerts(reply.text)
    assert 'id="f-quiet_start"' in reply.text and 'aria-invalid="true"' in reply.text
    assert scalar("SELECT quiet_start FROM notify_preferences WHERE user_id = :u", u=uid) == "21:30"
    # Staff may choose e-mail, with the address it goes to.
    log_out(client)
    run_in_transaction(
        lambda db: accounts.create_user(
            db, phone="13900000009", password="secret123", nickname="运营", role="operator"
        )
    )
    log_in(client, "13900000009")
    assert 'name="route-order.shipped-email"' in client.get(PAGE).text
    base = {**form_of(client, PAGE), "quiet_start": "22:00", "quiet_end": "08:00"}
    reply = client.post(PAGE, data={**base, "route-aftersale.opened-email": "1"})
    assert reply.status_code == 400 and 'id="e-email"' in reply.text
    data = {
        **base,
        **form_of(client, PAGE),
        "route-aftersale.opened-email": "1",
        "email": "ops@example.org",
    }
    assert client.post(PAGE, data=data, follow_redirects=False).status_code == 303
    assert scalar("SELECT email FROM notify_preferences WHERE user_id <> :u", u=uid) == (
        "ops@example.org"
    )


@pytest.fixture
def wechat_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TUANGOU_WECHAT_TEMPLATES", json.dumps({"pickup.arrived": {"id": "tmpl-1", "fields": {}}})
    )


def test_the_api_reads_and_replaces_preferences_and_records_authorisations(
    client: TestClient, wechat_templates: None
) -> None:
    r = client.post(
        "/api/auth/signup",
        json={"phone": "13900000002", "password": "secret123", "nickname": "邻居"},
    )
    me = {"Authorization": f"Bearer {r.json()['token']}"}
    r = client.get("/api/me/notification-preferences", headers=me)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["routes"], body["quiet_start"], body["quiet_end"]) == ({}, "22:00", "08:00")
    assert body["channels"] == ["sms", "wechat"] and body["phone"] == "139****0002"
    assert "pickup.arrived" in [k["kind"] for k in body["kinds"]]
    r = client.put(
        "/api/me/notification-preferences",
        json={
            "routes": {"pickup.arrived": ["wechat"]},
            "quiet_start": "23:00",
            "quiet_end": "7:00",
        },
        headers=me,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["routes"], r.json()["quiet_end"]) == ({"pickup.arrived": ["wechat"]}, "07:00")
    for bad, code in (
        ({"routes": {"pickup.arrived": ["email"]}}, "notify_channel_not_available"),
        ({"routes": {"no.such": ["sms"]}}, "notify_preferences_invalid"),
        ({"quiet_start": "nine"}, "notify_preferences_invalid"),
    ):
        r = client.put("/api/me/notification-preferences", json=bad, headers=me)
        assert (r.status_code, r.json()["code"]) == (422, code), r.text
    assert (
        client.get("/api/me/notification-preferences", headers=me).json()["quiet_start"] == "23:00"
    )
    sub = {"openid": "oMini0001", "results": {"tmpl-1": "accept"}}
    r = client.post("/api/me/wechat-subscriptions", json=sub, headers=me)
    assert (r.status_code, r.json()) == (200, {"remaining": {"tmpl-1": 1}})
    r = client.post("/api/me/wechat-subscriptions", json=sub, headers=me)
    assert r.json() == {"remaining": {"tmpl-1": 2}}
    r = client.post(
        "/api/me/wechat-subscriptions",
        json={"openid": "oMini0001", "results": {"tmpl-9": "accept"}},
        headers=me,
    )
    assert r.status_code == 422
    body = client.get("/api/me/notification-preferences", headers=me).json()
    assert body["wechat_bound"] is True and body["wechat_subscriptions"] == {"tmpl-1": 2}
