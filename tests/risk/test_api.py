"""The risk engine over HTTP (both backends): the gate at sign-up and log-in, the operators'
review queue, and its pages."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Api, rows, scalar
from tests.web.pages import alerts, form_of, log_in
from tuangou.accounts.sms import LogSmsSender


def phone(n: int) -> str:
    return f"158{n * 7919:08d}"  # not sequential numbers: the device alone is the signal


def signup(client: TestClient, n: int, device: str) -> Any:
    return client.post(
        "/api/auth/signup",
        json={"phone": phone(n), "password": "secret123", "nickname": f"号{n}"},
        headers={"X-Device-Id": device},
    )


def farm(client: TestClient) -> list[Any]:
    return [signup(client, n, "emulator-1") for n in range(1, 16)]


def test_a_burst_of_accounts_on_one_device_is_held_then_refused_without_saying_why(
    client: TestClient,
) -> None:
    replies = farm(client)
    assert [r.status_code for r in replies[:14]] == [201] * 14
    refused = replies[14]
    assert refused.status_code == 403
    assert refused.json()["code"] == "risk_refused"
    assert "device" not in refused.text.lower()
    assert scalar("SELECT COUNT(*) FROM users WHERE phone = :p", p=phone(15)) == 0
    assert scalar("SELECT COUNT(*) FROM risk_events WHERE action = 'block' AND actor IS NULL") == 1
    # Each held account (the 7th to the 14th) is named by a review case.
    held = {r.json()["user"]["id"] for r in replies[6:14]}
    named = {
        int(m)
        for (members,) in rows("SELECT members FROM risk_cases")
        for m in members.strip("[]").split(",")
    }
    assert held <= named


def test_operators_review_confirm_and_the_members_are_blocked(client: TestClient, api: Api) -> None:
    replies = farm(client)
    op = api.operator()
    queue = client.get("/api/admin/risk/cases", headers=op)
    assert queue.status_code == 200
    cases = queue.json()
    assert cases and cases[0]["status"] == "open"
    first = cases[0]
    assert first["reasons"][0]["text"] == "7 accounts signed up on one device within 1 h"
    assert first["reasons"][0]["text_zh"] == "同一设备 1 小时内注册了 7 个账号"
    detail = client.get(f"/api/admin/risk/cases/{first['id']}", headers=op).json()
    assert all(phone(n) not in str(detail) for n in range(1, 16))  # phones masked
    assert detail["members"][0]["name"].startswith("号")
    member = detail["members"][0]["id"]
    assert member == replies[6].json()["user"]["id"]
    # Flagged: a password log-in is asked for an SMS code, which works.
    held = replies[6].json()["user"]["phone"]
    login = client.post("/api/auth/login", json={"phone": held, "password": "secret123"})
    assert login.status_code == 403 and login.json()["code"] == "risk_challenge"
    assert client.post("/api/auth/code", json={"phone": held}).status_code == 202
    code = [c for p, c in LogSmsSender.sent if p == held][-1]
    by_code = client.post("/api/auth/code/login", json={"phone": held, "code": code})
    assert by_code.status_code == 200
    # Confirmed: refused, whatever the way in.
    decided = client.post(
        f"/api/admin/risk/cases/{first['id']}/decision", json={"decision": "confirm"}, headers=op
    )
    assert decided.status_code == 200 and decided.json()["status"] == "confirmed"
    login = client.post("/api/auth/login", json={"phone": held, "password": "secret123"})
    assert login.status_code == 403 and login.json()["code"] == "risk_refused"
    again = client.post(
        f"/api/admin/risk/cases/{first['id']}/decision", json={"decision": "clear"}, headers=op
    )
    assert again.status_code == 409 and again.json()["code"] == "risk_case_decided"
    assert client.get("/api/admin/risk/cases/999999", headers=op).status_code == 404
    bad = client.post(
        f"/api/admin/risk/cases/{first['id']}/decision", json={"decision": "maybe"}, headers=op
    )
    assert bad.status_code == 422


def test_the_review_page_shows_the_evidence_and_its_picture_and_decides(
    client: TestClient, api: Api
) -> None:
    farm(client)
    op_phone = api.phone()
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    run_in_transaction(
        lambda s: accounts.create_user(
            s, phone=op_phone, password="secret123", nickname="运营", role="operator"
        )
    )
    log_in(client, op_phone)
    queue = client.get("/ops/risk")
    assert queue.status_code == 200
    assert "7 accounts signed up on one device within 1 h" in queue.text or "同一设备" in queue.text
    case_id = scalar("SELECT MIN(id) FROM risk_cases")
    page = client.get(f"/ops/risk/{case_id}")
    assert page.status_code == 200
    assert "<svg" in page.text and "risk-graph" in page.text
    assert "cdn" not in page.text.split("<svg", 1)[1].split("</svg>", 1)[0].lower()
    body = form_of(client, f"/ops/risk/{case_id}")
    done = client.post(
        f"/ops/risk/{case_id}/clear", data={**body, "note": "一家人"}, follow_redirects=False
    )
    assert done.status_code == 303, alerts(done.text)
    assert done.headers["location"].endswith("?done=decided")
    assert scalar("SELECT status FROM risk_cases WHERE id = :i", i=case_id) == "cleared"
    assert scalar("SELECT note FROM risk_cases WHERE id = :i", i=case_id) == "一家人"
    twice = client.post(f"/ops/risk/{case_id}/confirm", data=body, follow_redirects=False)
    assert twice.status_code == 400  # decided already: said on the page
    assert alerts(twice.text)
    assert client.get("/ops/risk/999999").status_code == 404


def test_pages_give_the_browser_a_long_lived_device_id(client: TestClient) -> None:
    reply = client.get("/login")
    cookies = [h for h in reply.headers.get_list("set-cookie") if h.startswith("tg_device=")]
    assert cookies and "Max-Age=63072000" in cookies[0]
    again = client.get("/login")
    assert not [h for h in again.headers.get_list("set-cookie") if h.startswith("tg_device=")]
    assert not [
        h for h in client.get("/api/noop").headers.get_list("set-cookie") if "tg_device" in h
    ]
