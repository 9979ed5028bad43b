"""Invariant 6: a request retried with the same Idempotency-Key has its effect once and gets
the same answer; the same key with another request is refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.api import auth, count, settled_pair, world
from tests.conftest import Api


def _twice(api: Api, path: str, who: dict[str, str], key: str, json: Any = None) -> tuple:
    headers = {**auth(who), "Idempotency-Key": key}
    first = api.c.post(path, json=json, headers=headers)
    second = api.c.post(path, json=json, headers=headers)
    return first, second


def _same(first: Any, second: Any) -> None:
    assert second.status_code == first.status_code
    assert second.json() == first.json()
    assert second.headers["content-type"] == first.headers["content-type"]
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"


def test_join_with_the_same_key_joins_once(api: Api) -> None:
    w = world(api, 2, tiers=[[2, 1990], [3, 1790]], max_size=3)
    a, b = w.members
    team_id = api.open(a, w.campaign["id"])["team"]["id"]
    first, second = _twice(api, f"/api/teams/{team_id}/join", b, "join-1", {"quantity": 1})
    assert first.status_code == 201, first.text
    _same(first, second)
    assert count("orders", "user_id = :u", u=int(b["user_id"])) == 1
    assert count("payments", "user_id = :u", u=int(b["user_id"])) == 1
    assert api.team(team_id)["seats_taken"] == 2
    # The replay is the answer of the first request, even after the state moved on.
    api.pay(first.json()["pay_url"])
    third = api.c.post(
        f"/api/teams/{team_id}/join",
        json={"quantity": 1},
        headers={**auth(b), "Idempotency-Key": "join-1"},
    )
    assert third.json() == first.json()
    assert api.team(team_id)["paid_members"] == 2


def test_open_with_the_same_key_opens_once(api: Api) -> None:
    w = world(api, 1)
    path = f"/api/campaigns/{w.campaign['id']}/teams"
    first, second = _twice(api, path, w.members[0], "open-1", {"quantity": 1})
    assert first.status_code == 201
    _same(first, second)
    assert count("teams") == 1
    assert count("orders") == 1
    assert count("payments") == 1
    campaign = api.c.get(f"/api/campaigns/{w.campaign['id']}").json()
    # The opener's unit held, and the rest of the team's minimum size reserved: once.
    assert campaign["available"] == w.campaign["stock"] - w.campaign["min_size"]


def test_pay_again_with_the_same_key_starts_one_payment(api: Api) -> None:
    w = world(api, 1)
    order_id = api.open(w.members[0], w.campaign["id"], pay=False)["order"]["id"]
    first, second = _twice(api, f"/api/orders/{order_id}/payments", w.members[0], "pay-1")
    assert first.status_code == 201, first.text
    _same(first, second)
    assert count("payments", "order_id = :o", o=order_id) == 2
    # The member pays on the page of that one payment, and the order is paid once.
    api.pay(first.json()["pay_url"])
    order = api.order(w.members[0], order_id)
    assert order["status"] == "paid"
    assert order["paid_amount"] == order["amount"]


def test_refund_with_the_same_key_refunds_once(api: Api) -> None:
    w, (order_id, _) = settled_pair(api)
    first, second = _twice(
        api,
        f"/api/admin/orders/{order_id}/refund",
        w.op,
        "refund-1",
        {"amount": 500, "note": "破损"},
    )
    assert first.status_code == 201, first.text
    _same(first, second)
    assert count("refunds", "order_id = :o", o=order_id) == 1
    order = api.order(w.members[0], order_id)
    assert order["refunded_amount"] == 500
    assert order["status"] == "confirmed"


def test_leave_with_the_same_key_refunds_once(api: Api) -> None:
    w = world(api, 2, tiers=[[3, 1990]], min_size=3)
    a, b = w.members
    team_id = api.open(a, w.campaign["id"])["team"]["id"]
    order_id = api.join(b, team_id)["order"]["id"]
    first, second = _twice(api, f"/api/teams/{team_id}/leave", b, "leave-1")
    assert first.status_code == 200, first.text
    _same(first, second)
    assert first.json()["order"]["status"] == "refunded"
    assert count("refunds", "order_id = :o", o=order_id) == 1
    assert api.order(b, order_id)["refunded_amount"] == 1990
    assert api.team(team_id)["paid_members"] == 1


def test_same_key_with_another_body_is_refused_and_changes_nothing(api: Api) -> None:
    w = world(api, 3, max_quantity_per_order=2)
    a, b, c = w.members
    path = f"/api/campaigns/{w.campaign['id']}/teams"
    headers = {**auth(a), "Idempotency-Key": "k"}
    first = api.c.post(path, json={"quantity": 1}, headers=headers)
    assert first.status_code == 201
    other = api.c.post(path, json={"quantity": 2}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.headers["content-type"].startswith("application/problem+json")
    assert count("orders") == 1
    # The same key on another path (joining instead of opening) is another request too.
    team_id = first.json()["team"]["id"]
    api.pay(first.json()["pay_url"])
    other_team = api.open(b, w.campaign["id"])["team"]["id"]
    r = api.c.post(f"/api/teams/{other_team}/join", json={"quantity": 1}, headers=headers)
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency_key_reused"
    assert api.team(other_team)["seats_taken"] == 1
    # Leaving two different teams with one key: the second is refused.
    api.join(c, team_id)  # the team is full and settles: nobody may leave it now
    leave = {**auth(b), "Idempotency-Key": "leave"}
    assert api.c.post(f"/api/teams/{other_team}/leave", headers=leave).status_code == 200
    r = api.c.post(f"/api/teams/{team_id}/leave", headers=leave)
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency_key_reused"
    # And the original request still replays its own answer.
    again = api.c.post(path, json={"quantity": 1}, headers=headers)
    assert again.json() == first.json()


def test_a_refusal_is_replayed_identically(api: Api) -> None:
    w = world(api, 2, stock=2)  # one team of two: opening it sets both units aside
    a, b = w.members
    held = api.open(a, w.campaign["id"], pay=False)["order"]["id"]
    path = f"/api/campaigns/{w.campaign['id']}/teams"
    headers = {**auth(b), "Idempotency-Key": "try"}
    first = api.c.post(path, json={"quantity": 1}, headers=headers)
    assert first.status_code == 409
    assert first.json()["code"] == "sold_out"
    # The stock comes back, but the key is bound to its first answer.
    assert api.c.post(f"/api/orders/{held}/cancel", headers=auth(a)).status_code == 200
    second = api.c.post(path, json={"quantity": 1}, headers=headers)
    _same(first, second)
    assert second.headers["content-type"].startswith("application/problem+json")
    assert count("orders", "user_id = :u", u=int(b["user_id"])) == 0
    # A new key is a new request, and now it succeeds.
    fresh = api.c.post(path, json={"quantity": 1}, headers={**auth(b), "Idempotency-Key": "2"})
    assert fresh.status_code == 201


def test_different_users_may_use_the_same_key(api: Api) -> None:
    w = world(api, 2)
    path = f"/api/campaigns/{w.campaign['id']}/teams"
    replies = [
        api.c.post(path, json={"quantity": 1}, headers={**auth(m), "Idempotency-Key": "same"})
        for m in w.members
    ]
    assert [r.status_code for r in replies] == [201, 201]
    assert all("idempotent-replayed" not in r.headers for r in replies)
    assert replies[0].json()["order"]["id"] != replies[1].json()["order"]["id"]
    assert count("orders") == 2
    assert count("teams") == 2


def test_concurrent_retries_with_one_key_join_once(api: Api) -> None:
    w = world(api, 2, tiers=[[2, 1990], [3, 1790]], max_size=3)
    a, b = w.members
    team_id = api.open(a, w.campaign["id"])["team"]["id"]
    headers = {**auth(b), "Idempotency-Key": "race"}

    def join(_: int) -> Any:
        return api.c.post(f"/api/teams/{team_id}/join", json={"quantity": 1}, headers=headers)

    with ThreadPoolExecutor(6) as pool:
        replies = list(pool.map(join, range(6)))
    assert all(r.status_code == 201 for r in replies), [r.text for r in replies]
    assert len({r.text for r in replies}) == 1
    assert sum("idempotent-replayed" not in r.headers for r in replies) == 1
    assert count("orders", "user_id = :u", u=int(b["user_id"])) == 1
    assert api.team(team_id)["seats_taken"] == 2


def test_overlong_key_is_invalid_input(api: Api) -> None:
    w = world(api, 1)
    r = api.c.post(
        f"/api/campaigns/{w.campaign['id']}/teams",
        json={"quantity": 1},
        headers={**auth(w.members[0]), "Idempotency-Key": "k" * 256},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
    assert count("orders") == 0
