"""Every reply carries the headers that keep browsers safe; the docs load nothing from
elsewhere; HSTS is sent only behind HTTPS (TUANGOU_COOKIE_SECURE)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tuangou.core.config import reset_settings

PATHS = ["/", "/login", "/api/campaigns", "/api/noop", "/api/nothing-here", "/docs", "/t/999999"]


@pytest.mark.parametrize("path", PATHS)
def test_every_reply_has_the_headers(client: TestClient, path: str) -> None:
    r = client.get(path)
    policy = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert re.search(r"script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')*;", policy), policy
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in r.headers


def test_the_docs_come_from_this_server(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    # Its one inline script is allowed by its hash, and nothing else inline.
    directives = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    assert "'sha256-" in directives["script-src"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert client.get("/redoc").status_code == 404


def test_hsts_behind_https(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tuangou.api.app import create_app

    monkeypatch.setenv("TUANGOU_COOKIE_SECURE", "true")
    reset_settings()
    try:
        with TestClient(create_app(run_worker=False)) as c:
            assert c.get("/api/noop").headers["strict-transport-security"] == "max-age=31536000"
    finally:
        monkeypatch.delenv("TUANGOU_COOKIE_SECURE")
        reset_settings()
