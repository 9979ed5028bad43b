"""Brute force and abuse: wrong passwords per phone and per address, SMS codes and sign-ups
per address, and a refusal that takes as long whether or not the phone has an account."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import scalar
from tests.web.pages import post
from tuangou.core import clock
from tuangou.core.config import reset_settings

PASSWORD = "secret123"


@pytest.fixture
def limited(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The API with the default limits (the suite raises the per-address ones)."""
    from tuangou.api.app import create_app

    for name in ("WRONG_PASSWORDS_PER_IP", "CODES_PER_IP", "SIGNUPS_PER_IP"):
        monkeypatch.delenv(f"TUANGOU_{name}")
    reset_settings()
    with TestClient(create_app(run_worker=False)) as c:
        yield c
    monkeypatch.undo()
    reset_settings()


def _signup(c: TestClient, phone: str) -> int:
    r = c.post(
        "/api/auth/signup",
        json={"phone": phone, "password": PASSWORD, "nickname": "团员"},
    )
    return r.status_code


def _login(c: TestClient, phone: str, password: str) -> tuple[int, dict[str, str], str]:
    r = c.post("/api/auth/login", json={"phone": phone, "password": password})
    return r.status_code, dict(r.headers), r.text


def test_wrong_passwords_lock_the_phone_for_a_while(limited: TestClient) -> None:
    assert _signup(limited, "13700000001") == 201
    for _ in range(5):
        assert _login(limited, "13700000001", "wrong-one")[0] == 401
    status, headers, body = _login(limited, "13700000001", PASSWORD)  # even the right one
    assert status == 429, body
    assert '"code":"rate_limited"' in body
    assert 0 < int(headers["retry-after"]) <= 15 * 60
    # Another phone from the same address is not locked by it.
    assert _signup(limited, "13700000002") == 201
    assert _login(limited, "13700000002", PASSWORD)[0] == 200
    # Once the window is over, the right password works again.
    clock.advance(timedelta(minutes=15))
    assert _login(limited, "13700000001", PASSWORD)[0] == 200


def test_wrong_passwords_from_one_address_across_phones(limited: TestClient) -> None:
    for i in range(30):
        assert _login(limited, f"1370000{i:04d}", "guess")[0] == 401
    status, headers, _ = _login(limited, "13700009999", "guess")
    assert status == 429
    assert "retry-after" in headers


def test_sms_codes_and_signups_per_address(limited: TestClient) -> None:
    sent = [
        limited.post("/api/auth/code", json={"phone": f"1370001{i:04d}"}).status_code
        for i in range(6)
    ]
    assert sent == [202] * 5 + [429]
    assert scalar("SELECT COUNT(*) FROM one_time_codes") == 5
    made = [_signup(limited, f"1370002{i:04d}") for i in range(11)]
    assert made == [201] * 10 + [429]
    assert scalar("SELECT COUNT(*) FROM users") == 10


def test_the_web_log_in_is_limited_too(limited: TestClient) -> None:
    assert _signup(limited, "13700000003") == 201
    form = {"phone": "13700000003", "password": "wrong-one"}
    for _ in range(5):
        assert post(limited, "/login", form).status_code == 400
    refused = post(limited, "/login", {**form, "password": PASSWORD})
    assert refused.status_code == 400  # the form again, saying to wait
    assert "location" not in refused.headers


def test_an_unknown_phone_costs_the_same_password_hash(
    limited: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal runs the password hash whether or not the phone has an account, so that its
    time does not tell which phone numbers are members."""
    assert _signup(limited, "13700000004") == 201
    hashes: list[int] = []
    real = hashlib.scrypt

    def counted(*args: Any, **kwargs: Any) -> bytes:
        hashes.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    for phone in ("13700000004", "13700000005"):
        hashes.clear()
        assert _login(limited, phone, "wrong-one")[0] == 401
        assert len(hashes) == 1, phone
