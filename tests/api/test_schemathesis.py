"""Schemathesis over the served OpenAPI document, in process, as a member and as an operator.

Every operation is called with a few generated requests (valid ones and invalid ones, from a
fixed seed, without shrinking), and every reply passes all of schemathesis' checks: no 5xx,
each status code and media type declared, each reply fitting its declared schema, valid
requests accepted (or refused for a declared reason: 401, 403, 404, 409, 429), invalid ones
refused, a 405 naming the methods of its path. ``TUANGOU_SCHEMATHESIS_DEEP=1`` runs schemathesis'
coverage phase too (every boundary of every parameter, thousands of requests: minutes, by hand).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis import Case

from tests.api import world
from tests.conftest import Api, scalar
from tuangou.core.schemas import BIGGEST, STORABLE_TEXT

DEEP = os.environ.get("TUANGOU_SCHEMATHESIS_DEEP") == "1"


def _without(check: str, method: str, path: str) -> dict[str, Any]:
    return {"include-method": method, "include-path": path, "checks": {check: {"enabled": False}}}


CONFIG: dict[str, Any] = {
    "seed": 20261207,
    "suppress-health-check": ["all"],
    "generation": {
        "max-examples": 10 if DEEP else 4,
        "deterministic": True,
        "no-shrink": True,
        "database": "none",
    },
    "phases": {"coverage": {"enabled": DEEP}, "stateful": {"enabled": False}},
    "checks": {"enabled": True},
    "operations": [
        # The sandbox gateway's requests carry an HMAC signature of their other fields, which a
        # schema cannot describe: a generated request is refused (400 bad_signature), rightly.
        _without("positive_data_acceptance", "POST", "/api/sandbox/pay"),
        _without("positive_data_acceptance", "GET", "/api/sandbox/pay"),
        _without("positive_data_acceptance", "POST", "/api/payments/webhooks/sandbox"),
        # No worker runs beside these tests: "not ready" is /api/ready's documented 503.
        _without("not_a_server_error", "GET", "/api/ready"),
    ],
}
_keys = itertools.count()


@pytest.fixture(params=["member", "operator"])
def api_schema(request: pytest.FixtureRequest, api: Api) -> Iterator[Any]:
    """The document the app serves, called with the bearer token of a member or an operator
    of a world with a campaign in it."""
    w = world(api, 1)
    who = w.op if request.param == "operator" else w.members[0]
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", api.c.app, config=schemathesis.Config.from_dict(CONFIG)
    )
    schema.config.update(headers={"Authorization": who["Authorization"]})
    yield schema


lazy = schemathesis.pytest.from_fixture("api_schema")


@lazy.parametrize()
def test_every_operation_holds_to_the_document(case: Case) -> None:
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 1 <= len(key) <= 200:
        # Each generated request is a new one: a key of its own (a key reused with another
        # request is refused by design, 422 idempotency_key_reused: tests/api/test_idempotency.py)
        case.headers["Idempotency-Key"] = f"{key}-{next(_keys)}"
    case.call_and_validate()


# ------------------------------------------------ what it found, pinned down one by one


def test_a_405_names_every_method_of_its_path(client: TestClient) -> None:
    # A path has one route per method: the Allow header names them all, not the first's.
    for method, path, allowed in [
        ("OPTIONS", "/api/admin/campaigns", "GET, POST"),
        ("DELETE", "/api/me", "GET, PATCH"),
        ("TRACE", "/api/noop", "GET"),
    ]:
        r = client.request(method, path)
        assert r.status_code == 405, r.text
        assert r.headers["allow"] == allowed, (method, path)
        assert r.json()["code"] == "method_not_allowed"


def test_a_signature_beyond_ascii_is_refused_not_a_crash(client: TestClient) -> None:
    r = client.get("/api/sandbox/pay", params={"ref": "x", "amount": 100, "sig": "签名"})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "bad_signature"
    r = client.post("/api/sandbox/pay", json={"ref": "x", "amount": 100, "sig": "签名"})
    assert r.status_code == 400, r.text
    r = client.post(
        "/api/payments/webhooks/sandbox", json={"ref": "x", "status": "succeeded", "sig": "签名"}
    )
    assert r.status_code == 400, r.text


def test_a_csrf_token_beyond_ascii_is_refused_not_a_crash(client: TestClient) -> None:
    client.get("/login")  # a session, with its token
    r = client.post("/login", data={"csrf_token": "令牌", "phone": "13800138000", "password": "x"})
    assert r.status_code == 403, r.text[:300]


def test_a_lone_surrogate_in_text_is_refused(api: Api) -> None:
    users = scalar("SELECT COUNT(*) FROM users")
    body = b'{"phone": "13900000003", "password": "secret123", "nickname": "a\\ud800b"}'
    r = api.c.post("/api/auth/signup", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input"
    r = api.c.post(
        "/api/sandbox/pay",
        content=b'{"ref": "a\\ud800", "amount": 1, "sig": "00"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert scalar("SELECT COUNT(*) FROM users") == users


def test_the_document_declares_what_requests_may_carry(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    join = doc["paths"]["/api/teams/{team_id}/join"]["post"]
    params = {p["name"]: p["schema"] for p in join["parameters"]}
    assert params["team_id"]["maximum"] == BIGGEST  # an id an integer column holds
    assert params["Idempotency-Key"]["anyOf"][0] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
    }
    signup = doc["components"]["schemas"]["SignupIn"]["properties"]
    assert signup["phone"]["pattern"] == "^1[3-9][0-9]{9}$"
    assert signup["nickname"]["pattern"] == STORABLE_TEXT  # no control characters
    assert doc["components"]["schemas"]["CampaignIn"]["properties"]["stock"]["maximum"] == BIGGEST
    r = client.post(
        "/api/auth/signup",
        json={"phone": "13800138000", "password": "secret123", "unknown\u0000": 2**70},
    )
    assert r.status_code == 201, r.text  # a key the body does not have is dropped, unread
