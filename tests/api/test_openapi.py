"""The OpenAPI document describes every reply: each /api operation declares its success reply
(a model, or the media type of a file or page), the error replies are problem details, and
real replies fit the schemas the document declares for them, value for value."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel

from tests.conftest import Api, _auth, run_worker
from tests.pools.conftest import Waves
from tuangou.core.schemas import PROBLEM_MEDIA_TYPE, Out

REF = "#/components/schemas/"


def _document(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in doc["paths"].items()
        if path.startswith("/api/")
        for method, op in ops.items()
    ]


def _described(schema: dict[str, Any]) -> bool:
    """A schema says what the reply is: a model, a list or choice of described schemas, or
    a typed value; not an empty schema nor an object of anything."""
    if "$ref" in schema:
        return True
    if "anyOf" in schema:
        return all(_described(s) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        return _described(schema.get("items", {}))
    if kind == "object":
        return bool(schema.get("properties"))
    return kind in ("string", "integer", "number", "boolean", "null")


def _declares_success(op: dict[str, Any]) -> bool:
    for status, response in op["responses"].items():
        if not status.startswith("2"):
            continue
        content = response.get("content")
        if status == "204" and not content:
            return True
        if content and all(_described(c.get("schema", {})) for c in content.values()):
            return True
    return False


def test_every_api_operation_declares_its_success_reply(client: TestClient) -> None:
    operations = _operations(_document(client))
    assert len(operations) > 100
    undeclared = [f"{m} {p}" for m, p, op in operations if not _declares_success(op)]
    declared = 1 - len(undeclared) / len(operations)
    assert declared >= 0.95, undeclared
    assert undeclared == [], f"{len(undeclared)} operations declare no reply: {undeclared}"


def test_every_api_operation_declares_problem_details_for_errors(client: TestClient) -> None:
    doc = _document(client)
    for method, path, op in _operations(doc):
        for status in ("4XX", "5XX"):
            content = op["responses"].get(status, {}).get("content", {})
            schema = content.get(PROBLEM_MEDIA_TYPE, {}).get("schema", {})
            assert set(schema.get("required", [])) >= {"type", "title", "status", "code"}, (
                method,
                path,
                status,
            )
        # FastAPI's own validation error shape is not what the API sends
        assert "422" not in op["responses"], (method, path)


# ---------------------------------------------------------------- real replies


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    todo: list[type[BaseModel]] = [Out]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


class Replies:
    """Checks replies against the schema the document declares for their operation."""

    def __init__(self, client: TestClient) -> None:
        self.doc = _document(client)
        self.models = _models()
        self.checked: set[tuple[str, str]] = set()

    def check(self, method: str, path: str, r: Any) -> Any:
        assert r.status_code < 300, r.text
        op = self.doc["paths"][path][method.lower()]
        schema = op["responses"][str(r.status_code)]["content"]["application/json"]["schema"]
        body = r.json()
        self._fits(schema, body, f"{method} {path}")
        self.checked.add((method, path))
        return body

    def _fits(self, schema: dict[str, Any], value: Any, where: str) -> None:
        if "$ref" in schema:
            name = schema["$ref"].removeprefix(REF)
            model = self.models[name]
            # strict and closed: the reply has exactly the model's fields, and reads back as sent
            assert model.model_validate(value).model_dump(mode="json") == value, where
        elif "anyOf" in schema:
            errors = []
            for choice in schema["anyOf"]:
                try:
                    self._fits(choice, value, where)
                    return
                except (AssertionError, ValueError) as e:
                    errors.append(e)
            raise AssertionError(f"{where}: fits none of {schema['anyOf']}: {errors}")
        elif schema.get("type") == "array":
            assert isinstance(value, list), where
            for item in value:
                self._fits(schema["items"], item, where)
        elif schema.get("type") == "null":
            assert value is None, where
        else:
            raise AssertionError(f"{where}: no model declared: {schema}")


def test_replies_of_a_team_buy_fit_their_declared_schemas(api: Api) -> None:
    replies = Replies(api.c)
    c = api.c
    op = api.operator()
    supplier_id, _ = api.supplier(op)
    campaign = api.campaign(op, supplier_id, tiers=[[2, 1990], [3, 1890]], max_size=3)
    opener, joiner, leaver = api.signup("开团"), api.signup("跟团"), api.signup("退团")

    opened = replies.check(
        "POST",
        "/api/campaigns/{campaign_id}/teams",
        c.post(f"/api/campaigns/{campaign['id']}/teams", json={}, headers=_auth(opener)),
    )
    api.pay(opened["pay_url"])
    team_id = opened["team"]["id"]
    joined = replies.check(
        "POST",
        "/api/teams/{team_id}/join",
        c.post(f"/api/teams/{team_id}/join", json={}, headers=_auth(joiner)),
    )
    replies.check(
        "POST",
        "/api/teams/{team_id}/join",
        c.post(f"/api/teams/{team_id}/join", json={}, headers=_auth(leaver)),
    )
    replies.check(
        "POST",
        "/api/teams/{team_id}/leave",
        c.post(f"/api/teams/{team_id}/leave", headers=_auth(leaver)),
    )
    q = joined["pay_url"].split("?", 1)[1]
    params = dict(pair.split("=", 1) for pair in q.split("&"))
    replies.check(
        "POST",
        "/api/sandbox/pay",
        c.post(
            "/api/sandbox/pay",
            json={"ref": params["ref"], "amount": int(params["amount"]), "sig": params["sig"]},
        ),
    )
    replies.check(
        "GET",
        "/api/sandbox/charges/{ref}",
        c.get(f"/api/sandbox/charges/{params['ref']}", headers=_auth(api.operator())),
    )
    run_worker()  # the gateway's callback
    api.join(api.signup("满团"), team_id)  # the third paid member fills the team: it settles

    replies.check("GET", "/api/teams/{team_id}", c.get(f"/api/teams/{team_id}"))
    replies.check("GET", "/api/campaigns/{campaign_id}", c.get(f"/api/campaigns/{campaign['id']}"))
    replies.check("GET", "/api/campaigns", c.get("/api/campaigns"))
    order = replies.check(
        "GET",
        "/api/orders/{order_id}",
        c.get(f"/api/orders/{joined['order']['id']}", headers=_auth(joiner)),
    )
    assert order["payments"] and order["timeline"]
    replies.check("GET", "/api/orders", c.get("/api/orders", headers=_auth(joiner)))
    refunded = replies.check(
        "POST",
        "/api/admin/orders/{order_id}/refund",
        c.post(
            f"/api/admin/orders/{order['id']}/refund",
            json={"amount": 100, "note": "坏果"},
            headers=op,
        ),
    )
    assert refunded["order"]["refunds"]
    replies.check("GET", "/api/me", c.get("/api/me", headers=_auth(joiner)))
    replies.check("GET", "/api/notifications", c.get("/api/notifications", headers=_auth(joiner)))
    replies.check("GET", "/api/admin/products", c.get("/api/admin/products", headers=op))
    replies.check("GET", "/api/health", c.get("/api/health"))
    replies.check("GET", "/api/noop", c.get("/api/noop"))
    assert len(replies.checked) == 16


def test_replies_of_a_community_wave_fit_their_declared_schemas(api: Api) -> None:
    replies = Replies(api.c)
    c = api.c
    waves = Waves(api)
    leader = waves.leader()
    member = waves.member(leader)
    sku = waves.sku()
    page = waves.publish(leader, [{"sku_id": sku, "price": 1000, "moq": 1, "stock": 10}])
    listing_id = page["listing"]["id"]
    placed = replies.check(
        "POST",
        "/api/listings/{listing_id}/orders",
        c.post(
            f"/api/listings/{listing_id}/orders",
            json={"items": {str(page["items"][0]["item_id"]): 2}, "remark": "放门口"},
            headers=_auth(member),
        ),
    )
    api.pay(placed["pay_url"])
    replies.check(
        "GET",
        "/api/listings/{listing_id}",
        c.get(f"/api/listings/{listing_id}", headers=_auth(member)),
    )
    replies.check(
        "GET",
        "/api/wave-orders/{order_id}",
        c.get(f"/api/wave-orders/{placed['order']['id']}", headers=_auth(member)),
    )
    replies.check("GET", "/api/leader/me", c.get("/api/leader/me", headers=_auth(leader)))
    replies.check("GET", "/api/leader/waves", c.get("/api/leader/waves", headers=_auth(leader)))
    replies.check(
        "GET", "/api/leader/commission", c.get("/api/leader/commission", headers=_auth(leader))
    )
    replies.check("GET", "/api/communities", c.get("/api/communities", headers=_auth(member)))
    replies.check(
        "GET",
        "/api/communities/invite/{code}",
        c.get(f"/api/communities/invite/{leader['invite_code']}"),
    )
    replies.check(
        "GET",
        "/api/admin/leader-applications",
        c.get("/api/admin/leader-applications?status=all", headers=waves.op),
    )
    assert len(replies.checked) == 9
