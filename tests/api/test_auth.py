"""Accounts over HTTP: sign-up, password log-in, one-time SMS codes, the profile, tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.api import count
from tests.conftest import Api
from tuangou.accounts.sms import LogSmsSender
from tuangou.core import clock

PHONE = "13912345678"


def _signup(client: TestClient, phone: str = PHONE, password: str = "secret123", **extra):
    return client.post(
        "/api/auth/signup", json={"phone": phone, "password": password, "nickname": "小李", **extra}
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _last_code(phone: str) -> str:
    codes = [code for p, code in LogSmsSender.sent if p == phone]
    assert codes, f"no code was sent to {phone}"
    return codes[-1]


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _request_code(client: TestClient, phone: str = PHONE) -> str:
    r = client.post("/api/auth/code", json={"phone": phone})
    assert r.status_code == 202, r.text
    return _last_code(phone)


def test_signup_returns_a_working_token(client: TestClient) -> None:
    r = _signup(client)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user"]["phone"] == PHONE
    assert body["user"]["role"] == "member"
    assert body["user"]["nickname"] == "小李"
    me = client.get("/api/me", headers=_bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["id"] == body["user"]["id"]


def test_signup_stores_no_plain_password(client: TestClient) -> None:
    assert _signup(client).status_code == 201
    from tests.api import scalar

    stored = scalar("SELECT password_hash FROM users WHERE phone = :p", p=PHONE)
    assert stored and "secret123" not in stored


def test_duplicate_phone_is_refused(client: TestClient) -> None:
    assert _signup(client).status_code == 201
    r = _signup(client, password="another-pass")
    assert r.status_code == 409
    assert r.json()["code"] == "phone_taken"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert count("users") == 1
    # The first account's password still works, the second one's does not.
    ok = client.post("/api/auth/login", json={"phone": PHONE, "password": "secret123"})
    assert ok.status_code == 200
    bad = client.post("/api/auth/login", json={"phone": PHONE, "password": "another-pass"})
    assert bad.status_code == 401


def test_bad_phone_is_invalid_input(client: TestClient) -> None:
    for phone in ("12345", "23912345678", "1391234567a", "139123456789", ""):
        r = _signup(client, phone=phone)
        assert r.status_code == 422, (phone, r.text)
        assert r.json()["code"] == "invalid_input"
    assert count("users") == 0


def test_short_password_is_refused(client: TestClient) -> None:
    r = _signup(client, password="short")
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
    assert any(e["field"] == "password" for e in r.json()["errors"])
    assert count("users") == 0


def test_login_right_and_wrong(client: TestClient) -> None:
    user_id = _signup(client).json()["user"]["id"]
    r = client.post("/api/auth/login", json={"phone": PHONE, "password": "secret123"})
    assert r.status_code == 200
    assert r.json()["user"]["id"] == user_id
    assert client.get("/api/me", headers=_bearer(r.json()["token"])).json()["id"] == user_id
    for phone, password in ((PHONE, "secret124"), ("13900000000", "secret123"), (PHONE, "")):
        r = client.post("/api/auth/login", json={"phone": phone, "password": password})
        assert r.status_code == 401, (phone, password)
        assert r.json()["code"] == "bad_credentials"
        assert "token" not in r.json()


def test_code_login_creates_a_member_for_a_new_phone(client: TestClient) -> None:
    code = _request_code(client)
    assert count("users") == 0
    r = client.post(
        "/api/auth/code/login", json={"phone": PHONE, "code": code, "nickname": "新朋友"}
    )
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert user["phone"] == PHONE and user["role"] == "member" and user["nickname"] == "新朋友"
    assert count("users") == 1
    assert client.get("/api/me", headers=_bearer(r.json()["token"])).json()["id"] == user["id"]


def test_code_login_finds_the_existing_account(client: TestClient) -> None:
    user_id = _signup(client).json()["user"]["id"]
    code = _request_code(client)
    r = client.post("/api/auth/code/login", json={"phone": PHONE, "code": code})
    assert r.status_code == 200
    assert r.json()["user"]["id"] == user_id
    assert count("users") == 1


def test_a_code_works_once(client: TestClient) -> None:
    code = _request_code(client)
    assert client.post("/api/auth/code/login", json={"phone": PHONE, "code": code}).is_success
    again = client.post("/api/auth/code/login", json={"phone": PHONE, "code": code})
    assert again.status_code == 401
    assert again.json()["code"] == "bad_code"


def test_wrong_code_is_refused_and_five_wrong_tries_burn_the_code(client: TestClient) -> None:
    code = _request_code(client)
    for _ in range(5):
        r = client.post("/api/auth/code/login", json={"phone": PHONE, "code": _wrong(code)})
        assert r.status_code == 401
        assert r.json()["code"] == "bad_code"
    assert count("users") == 0
    r = client.post("/api/auth/code/login", json={"phone": PHONE, "code": code})
    assert r.status_code == 401
    assert r.json()["code"] == "bad_code"
    assert count("users") == 0


def test_four_wrong_tries_still_leave_the_right_code_usable(client: TestClient) -> None:
    code = _request_code(client)
    for _ in range(4):
        r = client.post("/api/auth/code/login", json={"phone": PHONE, "code": _wrong(code)})
        assert r.status_code == 401
    assert client.post("/api/auth/code/login", json={"phone": PHONE, "code": code}).is_success


def test_resend_within_a_minute_is_rate_limited(client: TestClient) -> None:
    first = _request_code(client)
    sent = len(LogSmsSender.sent)
    r = client.post("/api/auth/code", json={"phone": PHONE})
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    assert len(LogSmsSender.sent) == sent  # nothing was sent
    # Another phone is not held back, and after a minute this one may ask again.
    _request_code(client, "13912345679")
    clock.advance(timedelta(seconds=61))
    second = _request_code(client)
    # The newest code is the one that counts.
    if second != first:
        stale = client.post("/api/auth/code/login", json={"phone": PHONE, "code": first})
        assert stale.status_code == 401
    assert client.post("/api/auth/code/login", json={"phone": PHONE, "code": second}).is_success


def test_expired_code_is_refused(client: TestClient) -> None:
    code = _request_code(client)
    clock.advance(timedelta(minutes=6))
    r = client.post("/api/auth/code/login", json={"phone": PHONE, "code": code})
    assert r.status_code == 401
    assert r.json()["code"] == "bad_code"
    assert count("users") == 0


def test_code_for_a_bad_phone_is_invalid_input(client: TestClient) -> None:
    sent = len(LogSmsSender.sent)
    r = client.post("/api/auth/code", json={"phone": "123"})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
    assert len(LogSmsSender.sent) == sent


def test_get_and_patch_me(api: Api) -> None:
    member = api.signup("老王", address=False)
    headers = {"Authorization": member["Authorization"]}
    me = api.c.get("/api/me", headers=headers).json()
    assert me["nickname"] == "老王" and me["address"] is None
    address = {"name": "王先生", "phone": "13800138000", "line": "幸福小区 3 栋 501"}
    r = api.c.patch("/api/me", json={"nickname": "王大哥", "address": address}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["nickname"] == "王大哥"
    assert r.json()["address"] == address
    me = api.c.get("/api/me", headers=headers).json()
    assert me["nickname"] == "王大哥" and me["address"] == address
    # Bad values are refused and change nothing.
    bad = api.c.patch("/api/me", json={"address": {**address, "phone": "12"}}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_input"
    blank = api.c.patch("/api/me", json={"nickname": "   "}, headers=headers)
    assert blank.status_code == 422
    assert api.c.get("/api/me", headers=headers).json() == me


def test_tampered_or_absent_token_is_unauthenticated(client: TestClient) -> None:
    token = _signup(client).json()["token"]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    payload, _, sig = token.partition(".")
    for headers in (
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {token}"},
        _bearer(tampered),
        _bearer("not-a-token"),
        _bearer(f"x{payload}.{sig}"),
    ):
        r = client.get("/api/me", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["code"] == "unauthenticated"
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200


def test_token_from_another_deployment_is_refused(client: TestClient) -> None:
    """A token signed with another secret key is not accepted."""
    from itsdangerous import URLSafeTimedSerializer

    user_id = _signup(client).json()["user"]["id"]
    forged = URLSafeTimedSerializer("another-secret", salt="tuangou-token").dumps(
        [user_id, "operator", None]
    )
    r = client.get("/api/admin/orders", headers=_bearer(forged))
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"


def test_token_expires(client: TestClient) -> None:
    token = _signup(client).json()["token"]
    clock.advance(timedelta(days=31))
    r = client.get("/api/me", headers=_bearer(token))
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"


def test_logging_out_everywhere_stops_every_token_issued_before(client: TestClient) -> None:
    phone_token = _signup(client).json()["token"]
    login = {"phone": PHONE, "password": "secret123"}
    laptop_token = client.post("/api/auth/login", json=login).json()["token"]
    for token in (phone_token, laptop_token):
        assert client.get("/api/me", headers=_bearer(token)).status_code == 200

    r = client.post("/api/auth/logout-everywhere", headers=_bearer(laptop_token))
    assert r.status_code == 200 and r.json() == {"logged_out": True}
    for token in (phone_token, laptop_token):
        r = client.get("/api/me", headers=_bearer(token))
        assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
        assert "every device" in r.json()["detail"]
    # A new log-in works, and logging out everywhere needs a valid token.
    fresh = client.post("/api/auth/login", json=login).json()["token"]
    assert client.get("/api/me", headers=_bearer(fresh)).status_code == 200
    r = client.post("/api/auth/logout-everywhere", headers=_bearer(phone_token))
    assert r.status_code == 401
    assert client.get("/api/me", headers=_bearer(fresh)).status_code == 200


def test_a_token_issued_before_token_versions_still_works(client: TestClient) -> None:
    """Tokens signed before they carried a version are version 0 (until a log-out everywhere)."""
    from tuangou.accounts import service as accounts

    body = _signup(client).json()
    old = accounts._serializer().dumps([body["user"]["id"], "member", None])
    assert client.get("/api/me", headers=_bearer(old)).status_code == 200
    client.post("/api/auth/logout-everywhere", headers=_bearer(old))
    assert client.get("/api/me", headers=_bearer(old)).status_code == 401


def test_another_process_sees_a_log_out_everywhere_within_seconds(client: TestClient) -> None:
    """Another server process caches a user's token version for a few seconds at most."""
    from tuangou.accounts import service as accounts
    from tuangou.core.db import get_engine, run_in_transaction

    body = _signup(client).json()
    token, user_id = body["token"], body["user"]["id"]
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200  # now cached
    # As another process would: the version moves in the database, not in this cache.
    run_in_transaction(lambda s: accounts.log_out_everywhere(s, user_id))
    assert client.get("/api/me", headers=_bearer(token)).status_code == 200  # still cached
    cache = accounts._versions[get_engine()]
    version, seen = cache[user_id]
    cache[user_id] = (version, seen - accounts.TOKEN_VERSION_SECONDS)  # the seconds pass
    assert client.get("/api/me", headers=_bearer(token)).status_code == 401
