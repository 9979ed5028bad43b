"""The address book and the shipping address a team-buy order keeps (service and API)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, run_worker, scalar
from tuangou.accounts import addresses, rules
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import InvalidInput

HOME = {
    "name": "李阿姨",
    "phone": "13800138000",
    "region": "浙江省 杭州市 西湖区",
    "detail": "幸福里 3 栋 501",
}
OFFICE = {
    "name": "李阿姨",
    "phone": "13800138001",
    "region": "浙江省 杭州市 滨江区",
    "detail": "网商路 599 号",
}


def _auth(who: dict[str, str]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


def _add(client: TestClient, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/api/me/addresses", json=body, headers=_auth(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _book(client: TestClient, who: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/api/me/addresses", headers=_auth(who))
    assert r.status_code == 200, r.text
    return list(r.json())


def _shop(api: Api) -> dict[str, Any]:
    op = api.operator()
    supplier_id, supplier = api.supplier(op)
    return {"campaign": api.campaign(op, supplier_id), "supplier": supplier, "op": op}


# ---------------------------------------------------------------- the book


def test_the_book_adds_edits_chooses_the_default_and_deletes(api: Api, client: TestClient) -> None:
    member = api.signup("无地址", address=False)
    assert _book(client, member) == []
    home = _add(client, member, HOME)
    assert home["is_default"] is True  # the first entry is the default
    office = _add(client, member, OFFICE)
    assert office["is_default"] is False
    assert [a["id"] for a in _book(client, member)] == [home["id"], office["id"]]

    r = client.post(f"/api/me/addresses/{office['id']}/default", headers=_auth(member))
    assert r.status_code == 200 and r.json()["is_default"] is True
    book = _book(client, member)
    assert [(a["id"], a["is_default"]) for a in book] == [(office["id"], True), (home["id"], False)]
    # The profile shows the default.
    assert client.get("/api/me", headers=_auth(member)).json()["address"]["line"] == "网商路 599 号"

    r = client.put(
        f"/api/me/addresses/{home['id']}",
        json={**HOME, "detail": "幸福里 5 栋 302"},
        headers=_auth(member),
    )
    assert r.status_code == 200 and r.json()["detail"] == "幸福里 5 栋 302"

    # Deleting the default makes the remaining one the default.
    r = client.delete(f"/api/me/addresses/{office['id']}", headers=_auth(member))
    assert r.status_code == 200 and r.json() == {"deleted": True}
    assert [(a["id"], a["is_default"]) for a in _book(client, member)] == [(home["id"], True)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"phone": "12345"}, "phone"),
        ({"region": ""}, "region"),
        ({"detail": "1号"}, "detail"),
        ({"detail": "幸福里\n3 栋"}, "detail"),
        ({"region": "省" * (rules.ADDRESS_REGION_MAX + 1)}, "region"),
    ],
)
def test_bad_input_names_its_field_and_changes_nothing(
    api: Api, client: TestClient, change: dict[str, str], field: str
) -> None:
    member = api.signup("团员")
    before = _book(client, member)
    r = client.post("/api/me/addresses", json={**HOME, **change}, headers=_auth(member))
    assert r.status_code == 422, r.text
    problem = r.json()
    # The service names the field; a bound the schema declares is refused before it, naming
    # its place in the body.
    assert problem.get("field") == field or field in str(problem), problem
    # An edit with the same input is refused as well and leaves the entry as it was.
    entry = before[0]
    r = client.put(
        f"/api/me/addresses/{entry['id']}", json={**HOME, **change}, headers=_auth(member)
    )
    assert r.status_code == 422, r.text
    assert _book(client, member) == before


def test_the_book_is_bounded(api: Api, client: TestClient) -> None:
    member = api.signup("团员")  # one address from the sign-up
    for n in range(rules.ADDRESSES_MAX - 1):
        _add(client, member, {**HOME, "detail": f"幸福里 {n} 栋"})
    r = client.post("/api/me/addresses", json=OFFICE, headers=_auth(member))
    assert r.status_code == 409 and r.json()["code"] == "address_book_full"
    assert len(_book(client, member)) == rules.ADDRESSES_MAX


def test_another_members_address_is_not_found(api: Api, client: TestClient) -> None:
    owner = api.signup("甲")
    other = api.signup("乙")
    theirs = _book(client, owner)[0]
    for method, path, body in (
        ("PUT", f"/api/me/addresses/{theirs['id']}", HOME),
        ("POST", f"/api/me/addresses/{theirs['id']}/default", None),
        ("DELETE", f"/api/me/addresses/{theirs['id']}", None),
    ):
        r = client.request(method, path, json=body, headers=_auth(other))
        assert r.status_code == 404 and r.json()["code"] == "address_not_found", (method, r.text)
    assert _book(client, owner) == [theirs]

    # Nor can an order be shipped to it.
    shop = _shop(api)
    r = client.post(
        f"/api/campaigns/{shop['campaign']['id']}/teams",
        json={"quantity": 1, "address_id": theirs["id"]},
        headers=_auth(other),
    )
    assert r.status_code == 404 and r.json()["code"] == "address_not_found"
    assert scalar("SELECT count(*) FROM orders") == 0


# ---------------------------------------------------------------- checkout


def test_open_and_join_ship_to_the_chosen_address_and_keep_a_copy(
    api: Api, client: TestClient
) -> None:
    shop = _shop(api)
    opener = api.signup("开团人", address=False)
    _add(client, opener, HOME)
    office = _add(client, opener, OFFICE)
    r = client.post(
        f"/api/campaigns/{shop['campaign']['id']}/teams",
        json={"quantity": 1, "address_id": office["id"]},
        headers=_auth(opener),
    )
    assert r.status_code == 201, r.text
    opened = r.json()
    copy = {
        "name": "李阿姨",
        "phone": "13800138001",
        "region": "浙江省 杭州市 滨江区",
        "line": "网商路 599 号",
    }
    assert opened["order"]["address"] == copy
    api.pay(opened["pay_url"])

    # The joiner gives no address id: their default is taken.
    joiner = api.signup("参团人")
    joined = api.join(joiner, opened["team"]["id"])
    assert joined["order"]["address"]["name"] == "参团人"

    # A later edit, and deletion, of the book do not change the placed order.
    r = client.put(
        f"/api/me/addresses/{office['id']}",
        json={**OFFICE, "detail": "改过的地址 1 号"},
        headers=_auth(opener),
    )
    assert r.status_code == 200
    assert api.order(opener, opened["order"]["id"])["address"] == copy
    client.delete(f"/api/me/addresses/{office['id']}", headers=_auth(opener))
    assert api.order(opener, opened["order"]["id"])["address"] == copy

    # The supplier's shipping list shows where each order goes (the phone masked: the
    # courier's privacy waybill carries the number).
    run_worker()
    r = client.get("/api/supplier/orders", params={"status": "confirmed"}, headers=shop["supplier"])
    assert r.status_code == 200, r.text
    shipping = {o["id"]: o["address"] for o in r.json()}
    masked = {**copy, "phone": f"{copy['phone'][:3]}****{copy['phone'][-4:]}"}
    assert shipping[opened["order"]["id"]] == masked
    assert shipping[joined["order"]["id"]]["name"] == "参团人"


def test_a_member_without_an_address_is_refused_and_nothing_is_created(
    api: Api, client: TestClient
) -> None:
    shop = _shop(api)
    member = api.signup("无地址", address=False)
    for body in ({"quantity": 1}, {"quantity": 1, "address_id": None}):
        r = client.post(
            f"/api/campaigns/{shop['campaign']['id']}/teams", json=body, headers=_auth(member)
        )
        assert r.status_code == 422 and r.json()["code"] == "address_required", r.text
    assert scalar("SELECT count(*) FROM orders") == 0
    assert scalar("SELECT count(*) FROM teams") == 0


def test_both_an_address_id_and_an_address_is_refused(api: Api, client: TestClient) -> None:
    shop = _shop(api)
    member = api.signup("团员")
    entry = _book(client, member)[0]
    r = client.post(
        f"/api/campaigns/{shop['campaign']['id']}/teams",
        json={
            "quantity": 1,
            "address_id": entry["id"],
            "address": {"name": "李", "phone": "13800138000", "line": "幸福里 9 号"},
        },
        headers=_auth(member),
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_input", r.text
    assert scalar("SELECT count(*) FROM orders") == 0


def test_service_snapshot_is_a_copy(db: str) -> None:
    from tuangou.accounts import service as accounts

    def make(session: Any) -> tuple[int, int]:
        user = accounts.create_user(session, phone="13900000001", password=None, nickname="甲")
        entry = addresses.add_address(session, user.id, **{**HOME, "phone": "13900000001"})
        return user.id, entry.id

    user_id, entry_id = run_in_transaction(make)
    with unit_of_work() as session:
        copy = accounts.shipping_address(session, user_id, address_id=entry_id)
        addresses.update_address(session, user_id, entry_id, **{**HOME, "name": "改名"})
        assert copy["name"] == "李阿姨"
        with pytest.raises(InvalidInput):
            addresses.add_address(session, user_id, **{**HOME, "phone": "1"})
