"""Log-in, sign-up and CSRF on the pages, over HTTP, on both backends."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from tests.web.pages import account, alerts, csrf, log_in, member, post


def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    client: TestClient,
) -> None:
    client.get("/signup")
    reply = client.post(
        "/signup",
        data={"csrf_token": "forged", "phone": "13911112222", "password": "secret123"},
        headers={"accept-language": "en"},
    )
    assert reply.status_code == 403
    assert "This form has expired" in reply.text
    assert (
        client.post(
            "/api/auth/login", json={"phone": "13911112222", "password": "secret123"}
        ).status_code
        == 401
    )


def test_log_in_sets_an_http_only_session_cookie_and_log_out_ends_it(client: TestClient) -> None:
    member(client, "13911112223")
    cookie = next(c for c in client.cookies.jar if c.name == "tuangou_session")
    assert cookie.has_nonstandard_attr("HttpOnly") or "httponly" in str(cookie._rest).lower()
    assert client.get("/orders", follow_redirects=False).status_code != 303
    token = csrf(client, "/login")
    reply = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert reply.status_code == 303
    after = client.get("/orders", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/login?next=")


def test_wrong_password_is_shown_next_to_the_field_in_chinese(client: TestClient) -> None:
    account(client, "13911112224")
    reply = post(client, "/login", {"phone": "13911112224", "password": "wrong-one"})
    assert reply.status_code == 400
    assert alerts(reply.text) == ["手机号或密码错误"]
    assert 'value="13911112224"' in reply.text


def test_sign_up_refuses_a_taken_phone_and_keeps_the_form(client: TestClient) -> None:
    account(client, "13911112225")
    reply = post(
        client,
        "/signup",
        {"phone": "13911112225", "password": "secret123", "nickname": "又来了"},
    )
    assert reply.status_code == 400
    assert "该手机号已注册" in alerts(reply.text)
    assert 'value="又来了"' in reply.text


def test_log_in_follows_only_local_next_paths(client: TestClient) -> None:
    account(client, "13911112226")
    evil = post(
        client,
        "/login",
        {"phone": "13911112226", "password": "secret123", "next": "//evil.example/x"},
    )
    assert evil.headers["location"] == "/"
    client.cookies.clear()
    log_in(client, "13911112226")
    good = post(
        client, "/login", {"phone": "13911112226", "password": "secret123", "next": "/orders"}
    )
    assert good.headers["location"] == "/orders"


def test_one_time_code_log_in_signs_up_a_new_phone(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sent = post(client, "/login/code", {"phone": "13911112227"}, form_page="/login/code")
    assert sent.status_code == 200 and 'name="code"' in sent.text
    found = re.search(r"one-time code for \S+: (\d{6})", caplog.text)
    assert found, caplog.text
    code = found.group(1)
    wrong_code = "000000" if code != "000000" else "111111"
    wrong = post(
        client, "/login/code", {"phone": "13911112227", "code": wrong_code, "step": "verify"}
    )
    assert wrong.status_code == 400 and "验证码错误或已过期" in alerts(wrong.text)
    ok = post(client, "/login/code", {"phone": "13911112227", "code": code, "step": "verify"})
    assert ok.status_code == 303 and ok.headers["location"] == "/"


def test_log_out_on_every_device_ends_the_other_sessions_and_the_apps_tokens(
    client: TestClient,
) -> None:
    from fastapi.testclient import TestClient as Client

    member(client, "13911112226")
    login = {"phone": "13911112226", "password": "secret123"}
    app_token = client.post("/api/auth/login", json=login).json()["token"]
    with Client(client.app) as other_phone:  # the same member, logged in on another phone
        log_in(other_phone, "13911112226")
        assert other_phone.get("/orders", follow_redirects=False).status_code == 200
        page = client.get("/me").text
        assert 'action="/logout/everywhere"' in page and "在所有设备上退出" in page
        reply = client.post(
            "/logout/everywhere", data={"csrf_token": csrf(client, "/me")}, follow_redirects=False
        )
        assert reply.status_code == 303 and reply.headers["location"] == "/login"
        for device in (client, other_phone):
            after = device.get("/orders", follow_redirects=False)
            assert after.status_code == 303 and after.headers["location"].startswith("/login")
    me = client.get("/api/me", headers={"Authorization": f"Bearer {app_token}"})
    assert me.status_code == 401
    log_in(client, "13911112226")  # a new log-in works
    assert client.get("/orders", follow_redirects=False).status_code == 200
