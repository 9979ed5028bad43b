"""The co-creation API: proposals a page at a time, votes with their refusals, the leader's
threshold and conversion, each reply in its response model."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.cocreate.support import age_accounts, propose, set_threshold, vote, voters
from tests.conftest import Api
from tests.pools.conftest import Waves
from tests.pools.support import (
    Person,
    problem,
    scalar,
    seed_leader,
    seed_operator,
    seed_sku,
)
from tuangou.core import clock


def _person(who: dict[str, str]) -> Person:
    return Person(int(who["user_id"]), who["Authorization"].split()[1], "")


def _h(who: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": who["Authorization"]}


def test_proposals_votes_and_conversion_over_http(client: TestClient) -> None:
    w = Waves(Api(client))
    leader = w.leader()
    cid = leader["community_id"]
    author, a, b = (w.member(leader, n) for n in ("李阿姨", "张大爷", "赵阿姨"))
    newcomer = w.member(leader, "新邻居")
    age_accounts([_person(p) for p in (author, a, b)])

    r = client.put(
        f"/api/leader/communities/{cid}/cocreate-settings",
        json={"votes": 3, "units": 5, "early_hours": 12},
        headers=_h(leader),
    )
    assert r.status_code == 200 and r.json() == {
        "community_id": cid,
        "votes": 3,
        "units": 5,
        "early_hours": 12,
    }
    ids = []
    for n in range(3):
        r = client.post(
            f"/api/communities/{cid}/proposals",
            json={"title": f"提案{n}", "target_price": 1990},
            headers={**_h(author), "Idempotency-Key": f"propose-{n}"},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    again = client.post(
        f"/api/communities/{cid}/proposals",
        json={"title": "提案0", "target_price": 1990},
        headers={**_h(author), "Idempotency-Key": "propose-0"},
    )
    assert again.json()["id"] == ids[0] and scalar("SELECT count(*) FROM proposals") == 3
    problem(
        client.post(
            f"/api/communities/{cid}/proposals",
            json={"title": "  ", "target_price": 1990},
            headers=_h(author),
        ),
        422,
        "invalid_proposal",
        "title",
    )

    page = client.get(f"/api/communities/{cid}/proposals?cursor={ids[2]}", headers=_h(a)).json()
    assert [p["id"] for p in page["items"]] == [ids[1], ids[0]] and page["next_cursor"] is None

    pid = ids[2]
    body = problem(
        client.put(f"/api/proposals/{pid}/vote", json={"pledge": 2}, headers=_h(newcomer)),
        403,
        "not_eligible_to_vote",
    )
    assert body["eligible_at"]
    r = client.put(f"/api/proposals/{pid}/vote", json={"pledge": 3}, headers=_h(a))
    assert r.status_code == 200 and r.json()["my_pledge"] == 3 and r.json()["votes"] == 1
    problem(
        client.put(f"/api/proposals/{pid}/vote", json={"pledge": 1}, headers=_h(a)),
        409,
        "already_voted",
    )
    r = client.put(f"/api/proposals/{pid}/vote", json={"pledge": 2}, headers=_h(b))
    assert r.json()["status"] == "ready"
    problem(client.delete(f"/api/proposals/{pid}/vote", headers=_h(b)), 409, "proposal_closed")
    ready = client.get("/api/leader/proposals", headers=_h(leader)).json()
    assert [p["id"] for p in ready] == [pid]

    sku = seed_sku()[1]
    convert = {
        "sku_id": sku,
        "price": 1990,
        "moq": 6,
        "stock": 40,
        "cutoff_at": (clock.now() + timedelta(days=2)).isoformat() + "Z",
        "delivery_date": (clock.now() + timedelta(days=3)).date().isoformat(),
        "pickup_point_id": leader["pickup_point_id"],
    }
    url = f"/api/leader/proposals/{pid}/convert"
    problem(client.post(url, json=convert, headers=_h(leader)), 422, "pledge_below_moq", "moq")
    r = client.post(url, json={**convert, "moq": 5}, headers=_h(leader))
    assert r.status_code == 201, r.text
    outcome = r.json()["outcome"]
    assert outcome["pledgers"] == 2 and outcome["pledged_units"] == 5
    assert outcome["pledgers_ordered"] == 0 and outcome["reviews"] is None
    listing = outcome["listing_id"]
    assert client.get(f"/api/listings/{listing}", headers=_h(a)).status_code == 200
    problem(client.get(f"/api/listings/{listing}", headers=_h(author)), 404, "listing_not_found")
    waves = client.get(f"/api/communities/{cid}/waves", headers=_h(author)).json()
    assert waves == []
    problem(
        client.post(url, json={**convert, "moq": 5}, headers=_h(leader)), 409, "proposal_closed"
    )

    # The author withdraws an open proposal; then it takes no votes.
    r = client.delete(f"/api/proposals/{ids[0]}", headers=_h(author))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    problem(
        client.put(f"/api/proposals/{ids[0]}/vote", json={"pledge": 0}, headers=_h(a)),
        409,
        "proposal_closed",
    )


def test_a_linked_supplier_converts_over_http(client: TestClient) -> None:
    # The world through the services; the HTTP layer is what is tested.
    leader = seed_leader(seed_operator().user_id)
    cid = leader.community_id
    set_threshold(leader, votes=3, units=10_000, early_hours=12)
    author, a, b, c = voters(leader, 4)
    pid = propose(author, leader, title="高山蓝莓")
    for voter, pledge in ((a, 2), (b, 3), (c, 0)):
        vote(voter, pid, pledge=pledge)
    op = Api(client).operator()
    supplier_id, sku = seed_sku(title="蓝莓")
    mine = _supplier_headers(supplier_id)
    other = _supplier_headers(seed_sku(title="茶叶")[0])
    convert = {
        "sku_id": sku,
        "price": 3990,
        "moq": 5,
        "stock": 40,
        "cutoff_at": (clock.now() + timedelta(days=2)).isoformat() + "Z",
        "delivery_date": (clock.now() + timedelta(days=3)).date().isoformat(),
    }
    url = f"/api/supplier/proposals/{pid}/convert"
    problem(client.post(url, json=convert, headers=mine), 403, "supplier_not_linked")
    assert client.get("/api/supplier/proposals", headers=mine).json() == []

    links = f"/api/admin/communities/{cid}/suppliers"
    r = client.post(links, json={"supplier_id": supplier_id}, headers=op)
    assert r.status_code == 201, r.text
    assert [x["supplier_id"] for x in r.json()["links"]] == [supplier_id]
    problem(
        client.post(links, json={"supplier_id": supplier_id}, headers=op),
        409,
        "supplier_already_linked",
    )
    problem(
        client.post(links, json={"supplier_id": 999_999}, headers=op), 404, "supplier_not_found"
    )
    listed = client.get("/api/supplier/proposals", headers=mine).json()
    assert [p["id"] for p in listed] == [pid]
    problem(client.post(url, json=convert, headers=other), 403, "supplier_not_linked")
    problem(
        client.post(url, json={**convert, "moq": 6}, headers=mine),
        422,
        "pledge_below_moq",
        "moq",
    )
    r = client.post(url, json=convert, headers=mine)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "converted"
    assert r.json()["converted_by_supplier"] == supplier_id
    listing = r.json()["outcome"]["listing_id"]
    assert client.get(f"/api/listings/{listing}", headers=a.headers).status_code == 200
    problem(
        client.get(f"/api/listings/{listing}", headers=author.headers), 404, "listing_not_found"
    )
    problem(client.post(url, json=convert, headers=mine), 409, "proposal_closed")

    r = client.delete(f"{links}/{supplier_id}", headers=op)
    assert r.status_code == 200 and r.json()["links"] == []
    assert [e["action"] for e in r.json()["trail"]] == ["unlinked", "linked"]
    problem(client.delete(f"{links}/{supplier_id}", headers=op), 404, "supplier_link_not_found")


def _supplier_headers(supplier_id: int) -> dict[str, str]:
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction

    def make(session: Any) -> str:
        user = accounts.create_user(
            session,
            phone=f"15{supplier_id:09d}",
            password=None,
            nickname="果园",
            role="supplier",
            supplier_id=supplier_id,
        )
        return accounts.issue_token(user)

    return {"Authorization": f"Bearer {run_in_transaction(make)}"}
