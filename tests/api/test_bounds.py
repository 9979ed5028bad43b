"""Numbers too big for the database and text with control characters: a clear 4xx on both
backends, never a 500, and nothing stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, _auth, scalar
from tests.web.pages import log_in

HUGE = 2**63  # beyond any integer column (PostgreSQL's integer ends at 2**31 - 1)
PUBLIC = ["/api/campaigns/{n}", "/api/teams/{n}", "/api/listings/{n}"]
PAGES = ["/t/{n}", "/c/{n}", "/w/{n}", "/orders/{n}"]


@pytest.mark.parametrize("path", PUBLIC)
@pytest.mark.parametrize("n", [HUGE, 10**30])
def test_huge_ids_in_public_paths(client: TestClient, path: str, n: int) -> None:
    r = client.get(path.format(n=n))
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", PAGES)
def test_huge_ids_in_pages(api: Api, path: str) -> None:
    r = api.c.get(path.format(n=HUGE), follow_redirects=False)
    assert r.status_code in (303, 404), r.text[:300]  # logged out: to the log-in, or none
    member = api.signup()
    log_in(api.c, api.c.get("/api/me", headers=_auth(member)).json()["phone"])
    r = api.c.get(path.format(n=HUGE), follow_redirects=False)
    assert r.status_code == 404, r.text[:300]


def test_list_paging_is_bounded(api: Api) -> None:
    member = api.signup()
    for query in ("limit=-1", "limit=0", "limit=100000", f"offset={HUGE}", "offset=-1"):
        r = api.c.get(f"/api/orders?{query}", headers=_auth(member))
        assert r.status_code == 422, (query, r.text)
        assert r.json()["code"] == "invalid_input"
    assert api.c.get("/api/orders?limit=200", headers=_auth(member)).status_code == 200


@pytest.mark.parametrize("nickname", ["a\u0000b", "tab\x07bell", "\x1b[31mred"])
def test_control_characters_are_refused_on_both_backends(api: Api, nickname: str) -> None:
    users = scalar("SELECT COUNT(*) FROM users")
    r = api.c.post(
        "/api/auth/signup",
        json={"phone": "13900000001", "password": "secret123", "nickname": nickname},
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input"
    assert "control characters" in r.json()["detail"]
    assert scalar("SELECT COUNT(*) FROM users") == users


def test_a_multi_line_note_keeps_its_lines(api: Api) -> None:
    r = api.c.post(
        "/api/auth/signup",
        json={"phone": "13900000002", "password": "secret123", "nickname": "张\t三"},
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("quantity", [HUGE, -HUGE - 1, 10**40])
def test_huge_numbers_in_a_body(api: Api, quantity: int) -> None:
    member = api.signup()
    orders = scalar("SELECT COUNT(*) FROM orders")
    r = api.c.post(
        "/api/campaigns/1/teams",
        json={"quantity": quantity},
        headers={**_auth(member), "Idempotency-Key": f"huge-{quantity}"},
    )
    assert r.status_code == 422, r.text
    assert "out of range" in r.json()["detail"]
    assert scalar("SELECT COUNT(*) FROM orders") == orders
