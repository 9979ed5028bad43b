"""The pages' sessions are kept on the server: the cookie is a random id that names nobody,
stops working at log-out, after the idle time and after the absolute lifetime; a request
renews it, written at most once an interval; log-in always makes a new id. On both backends."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.web.pages import account, csrf, log_in, member, scalar
from tuangou.accounts.rules import SESSION_RENEW_EVERY
from tuangou.core import clock
from tuangou.core.db import get_engine

PHONE = "13911113331"
IDLE = timedelta(hours=72)  # the default idle time
LIFETIME = timedelta(days=30)  # the default absolute lifetime
DOMAIN = "testserver.local"  # where the test client keeps the cookies the app sets


def _cookie(client: TestClient, name: str = "tuangou_session") -> str:
    found = [c.value for c in client.cookies.jar if c.name == name]
    assert found, f"no {name} cookie"
    return str(found[0])


def _logged_in(client: TestClient) -> bool:
    reply = client.get("/orders", follow_redirects=False)
    if reply.status_code == 200:
        return True
    assert reply.status_code == 303 and reply.headers["location"].startswith("/login?next=")
    return False


def _with_cookie(app: Any, value: str) -> TestClient:
    """Another browser, with a copy of a session cookie."""
    other = TestClient(app)
    other.cookies.set("tuangou_session", value, domain=DOMAIN)
    return other


@pytest.fixture
def updates() -> Iterator[list[str]]:
    """The UPDATE statements sent on web_sessions while the test runs."""
    seen: list[str] = []

    def watch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE WEB_SESSIONS"):
            seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", watch)
    yield seen
    event.remove(engine, "before_cursor_execute", watch)


def test_the_cookie_is_a_random_id_naming_no_one_and_the_table_keeps_only_its_hash(
    client: TestClient,
) -> None:
    user_id = member(client, PHONE)
    value = _cookie(client)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", value), value  # 256 bits from secrets
    # Nothing in it decodes to the user, a token, their phone or role.
    decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    for needle in (PHONE.encode(), b"member", b"token", f"[{user_id},".encode()):
        assert needle not in decoded
    assert "." not in value  # no signed payload (itsdangerous: payload.timestamp.signature)
    login = {"phone": PHONE, "password": "secret123"}
    token = client.post("/api/auth/login", json=login).json()["token"]
    assert token.split(".")[0] not in value
    # The database holds the hash of the id, never the id.
    assert scalar("SELECT COUNT(*) FROM web_sessions WHERE id_hash = :v", v=value) == 0
    digest = hashlib.sha256(value.encode()).hexdigest()
    assert scalar("SELECT user_id FROM web_sessions WHERE id_hash = :h", h=digest) == user_id
    cookie = next(c for c in client.cookies.jar if c.name == "tuangou_session")
    assert cookie.path == "/"
    assert "httponly" in {k.lower() for k in cookie._rest}  # type: ignore[attr-defined]


def test_log_in_sends_an_http_only_same_site_cookie_on_the_whole_site(client: TestClient) -> None:
    account(client, PHONE)
    token = csrf(client, "/login")
    reply = client.post(
        "/login",
        data={"csrf_token": token, "phone": PHONE, "password": "secret123"},
        follow_redirects=False,
    )
    sent = [h for h in reply.headers.get_list("set-cookie") if h.startswith("tuangou_session=")]
    assert len(sent) == 1
    attributes = {part.strip().lower() for part in sent[0].split(";")}
    assert {"httponly", "path=/", "samesite=lax"} <= attributes
    assert "secure" not in attributes  # TUANGOU_COOKIE_SECURE is off here


def test_a_copied_cookie_stops_working_at_log_out(client: TestClient) -> None:
    member(client, PHONE)
    with _with_cookie(client.app, _cookie(client)) as thief:
        assert _logged_in(thief)
        reply = client.post(
            "/logout", data={"csrf_token": csrf(client, "/me")}, follow_redirects=False
        )
        assert reply.status_code == 303
        assert not _logged_in(thief)
        assert not _logged_in(client)
    assert scalar("SELECT COUNT(*) FROM web_sessions") == 0


def test_an_idle_session_ends_and_a_used_one_slides_on(client: TestClient) -> None:
    member(client, PHONE)
    with TestClient(client.app) as other_phone:
        log_in(other_phone, PHONE)  # a second session of the same member, then left alone
        # Used every two days, a session lives on past the idle time...
        for _ in range(3):
            clock.advance(IDLE - timedelta(days=1))
            assert _logged_in(client)
        # ...while the one left alone as long has ended.
        assert not _logged_in(other_phone)
        # Left alone for the idle time, the used one ends too.
        clock.advance(IDLE)
        assert not _logged_in(client)


def test_a_session_ends_at_its_absolute_lifetime_however_much_it_is_used(
    client: TestClient,
) -> None:
    member(client, PHONE)
    used = timedelta(0)
    while used + timedelta(days=2) < LIFETIME:
        clock.advance(timedelta(days=2))
        used += timedelta(days=2)
        assert _logged_in(client), used
    clock.advance(LIFETIME - used)
    assert not _logged_in(client)


def test_a_request_renews_the_session_at_most_once_an_interval(
    client: TestClient, updates: list[str]
) -> None:
    member(client, PHONE)
    seen = scalar("SELECT last_seen_at FROM web_sessions")
    for _ in range(5):
        assert _logged_in(client)
    assert updates == []  # within the interval: the pages read the row, write nothing
    assert scalar("SELECT last_seen_at FROM web_sessions") == seen
    clock.advance(SESSION_RENEW_EVERY)
    for _ in range(5):
        assert _logged_in(client)
    assert len(updates) == 1
    assert scalar("SELECT last_seen_at FROM web_sessions") > seen


def test_log_in_never_keeps_an_id_known_before_it(client: TestClient) -> None:
    account(client, PHONE)
    planted = "attacker-chosen-id-" + "x" * 30
    client.cookies.set("tuangou_session", planted, domain=DOMAIN)
    log_in(client, PHONE)
    first = _cookie(client)
    assert first != planted
    with _with_cookie(client.app, planted) as attacker:
        assert not _logged_in(attacker)
    # A log-in from a logged-in browser makes a new id and ends the one before.
    log_in(client, PHONE)
    second = _cookie(client)
    assert second != first
    with _with_cookie(client.app, first) as before:
        assert not _logged_in(before)
    assert _logged_in(client)
    assert scalar("SELECT COUNT(*) FROM web_sessions") == 1


def test_anonymous_visitors_get_no_session_row_and_their_forms_still_work(
    client: TestClient,
) -> None:
    for path in ("/", "/login", "/signup", "/login/code"):
        assert client.get(path).status_code == 200
    assert scalar("SELECT COUNT(*) FROM web_sessions") == 0
    assert "tuangou_session" not in {c.name for c in client.cookies.jar}
    # The sign-up form's token is the anonymous cookie's; another visitor's is refused.
    with TestClient(client.app) as stranger:
        theirs = csrf(stranger, "/signup")
    body = {"phone": PHONE, "password": "secret123", "nickname": "邻居"}
    refused = client.post("/signup", data={**body, "csrf_token": theirs}, follow_redirects=False)
    assert refused.status_code == 403
    client.cookies.delete("tuangou_csrf")
    assert client.post("/signup", data={**body, "csrf_token": theirs}).status_code == 403
    assert scalar("SELECT COUNT(*) FROM users") == 0
    mine = csrf(client, "/signup")
    signed_up = client.post("/signup", data={**body, "csrf_token": mine}, follow_redirects=False)
    assert signed_up.status_code == 303
    assert _logged_in(client)
    assert "tuangou_csrf" not in {c.name for c in client.cookies.jar}  # dropped at log-in
    assert scalar("SELECT COUNT(*) FROM web_sessions") == 1


def test_the_logged_in_forms_carry_the_sessions_own_token(client: TestClient) -> None:
    member(client, PHONE)
    token = csrf(client, "/me")
    digest = hashlib.sha256(_cookie(client).encode()).hexdigest()
    assert scalar("SELECT csrf FROM web_sessions WHERE id_hash = :h", h=digest) == token
    with TestClient(client.app) as stranger:
        anonymous = csrf(stranger, "/login")
    forged = client.post("/logout", data={"csrf_token": anonymous}, follow_redirects=False)
    assert forged.status_code == 403
    assert _logged_in(client)


def test_log_out_everywhere_through_the_api_ends_the_page_sessions(client: TestClient) -> None:
    member(client, PHONE)
    login = {"phone": PHONE, "password": "secret123"}
    token = client.post("/api/auth/login", json=login).json()["token"]
    reply = client.post("/api/auth/logout-everywhere", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    assert not _logged_in(client)
    assert scalar("SELECT COUNT(*) FROM web_sessions") == 0
