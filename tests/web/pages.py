"""Helpers for page tests with FastAPI's TestClient: log in through the form, post forms with
the session's CSRF token and the page's one-time key, read what a page shows, and read the
database the pages wrote."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import rows as rows  # re-exported for this area's tests
from tests.conftest import scalar as scalar
from tuangou import demo

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ALERT = re.compile(r'role="alert"[^>]*>([^<]*)<')


def hidden(html: str, name: str) -> str | None:
    """The value of the form field ``name`` a page carries (a hidden input), if any."""
    found = re.search(rf'name="{re.escape(name)}" value="([^"]+)"', html)
    return found.group(1) if found else None


def form_of(
    client: TestClient, page: str, key: str | None = None, *, need_key: bool = False
) -> dict[str, str]:
    """The hidden fields a browser would send from ``page``: the CSRF token, and the form's
    one-time key (the field named ``key``) where the page has one (or must have one)."""
    html = client.get(page).text
    token = hidden(html, "csrf_token")
    assert token, f"no form on {page}"
    body = {"csrf_token": token}
    once = hidden(html, key) if key else None
    assert once or not need_key, f"no one-time key on {page}"
    if key and once:
        body[key] = once
    return body


def csrf(client: TestClient, path: str = "/login") -> str:
    """The session's CSRF token, as a form on ``path`` carries it."""
    page = client.get(path)
    found = _CSRF.search(page.text)
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def post(
    client: TestClient,
    path: str,
    data: dict[str, Any] | None = None,
    *,
    form_page: str | None = None,
    files: Any = None,
) -> Response:
    """POST a form the way a browser does (with the CSRF token), without following redirects."""
    body = {"csrf_token": csrf(client, form_page or "/login"), **(data or {})}
    return client.post(path, data=body, files=files, follow_redirects=False)


def log_in(client: TestClient, phone: str, password: str = "secret123") -> None:
    """Log the client's cookie session in through the log-in form."""
    reply = post(client, "/login", {"phone": phone, "password": password})
    assert reply.status_code == 303, alerts(reply.text) or reply.text[:500]


def demo_log_in(client: TestClient, phone: str) -> None:
    """Log in as a person of the demo site (a fresh session: no cookie of anyone before)."""
    client.cookies.clear()
    log_in(client, phone, demo.PASSWORD)


def account(client: TestClient, phone: str, password: str = "secret123", **extra: Any) -> int:
    """Create a member through the API (the pages stay logged out); their user id."""
    body = {"phone": phone, "password": password, "nickname": extra.pop("nickname", "邻居")}
    body.update(extra)
    r = client.post("/api/auth/signup", json=body)
    assert r.status_code == 201, r.text
    return int(r.json()["user"]["id"])


def member(client: TestClient, phone: str, password: str = "secret123", **extra: Any) -> int:
    """Create a member through the API and log this client's pages in as them; their user id."""
    user_id = account(client, phone, password, **extra)
    log_in(client, phone, password)
    return user_id


def alerts(html: str) -> list[str]:
    """The error and status messages a page shows (elements with role=alert)."""
    return [m.strip() for m in _ALERT.findall(html)]


def log_out(client: TestClient) -> None:
    client.cookies.clear()
