"""What anonymous and foreign callers see: a campaign's subsidy terms are the operator's
business; a community's wave is seen by its members, its leader, operators and invitees
(the share link's token), and by nobody else; an object the caller may not know of answers
the same 404 as one that does not exist."""

from __future__ import annotations

from typing import Any

from tests.api import auth, world
from tests.conftest import Api, _auth
from tests.pools.conftest import Waves

OPERATOR_ONLY = {"subsidy_budget", "subsidy_used", "completion_percent"}


def _keys(reply: Any) -> set[str]:
    assert reply.status_code == 200, reply.text
    return set(reply.json())


def test_a_campaigns_subsidy_terms_are_shown_to_operators_only(api: Api) -> None:
    w = world(api, 1, completion_enabled=True, completion_percent=60, subsidy_budget=5000)
    cid = w.campaign["id"]
    member = auth(w.members[0])
    api.open(w.members[0], cid)
    for headers in ({}, member, w.supplier):
        listed = api.c.get("/api/campaigns", headers=headers)
        assert listed.status_code == 200
        assert [c["id"] for c in listed.json()] == [cid]
        assert not OPERATOR_ONLY & set(listed.json()[0])
        one = _keys(api.c.get(f"/api/campaigns/{cid}", headers=headers))
        assert not OPERATOR_ONLY & one
        assert {"id", "tiers", "available", "open_teams"} <= one
    # The operator's view has them, and only operators reach it.
    mine = api.c.get(f"/api/admin/campaigns/{cid}", headers=w.op)
    assert _keys(mine) >= OPERATOR_ONLY
    assert mine.json()["subsidy_budget"] == 5000
    assert mine.json()["completion_percent"] == 60
    assert mine.json()["subsidy_used"] == 0
    listed = api.c.get("/api/admin/campaigns", headers=w.op).json()
    assert set(listed[0]) >= OPERATOR_ONLY
    for headers in (member, w.supplier):
        r = api.c.get(f"/api/admin/campaigns/{cid}", headers=headers)
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "forbidden"
    assert api.c.get(f"/api/admin/campaigns/{cid}").status_code == 401
    missing = api.c.get("/api/admin/campaigns/999999", headers=w.op)
    assert missing.status_code == 404


def _wave(waves: Waves) -> tuple[dict[str, Any], dict[str, str], int, str]:
    leader = waves.leader()
    member = waves.member(leader)
    sku = waves.sku()
    page = waves.publish(leader, [{"sku_id": sku, "price": 1000, "moq": 1, "stock": 10}])
    waves.order(member, page["listing"]["id"], {page["items"][0]["item_id"]: 1})
    path = page["listing"]["share_path"]
    listing_id = page["listing"]["id"]
    assert path.startswith(f"/w/{listing_id}?share=")
    return leader, member, listing_id, path.partition("?share=")[2]


def test_a_communitys_wave_is_for_its_members_leader_operators_and_invitees(api: Api) -> None:
    waves = Waves(api)
    leader, member, listing_id, token = _wave(waves)
    other_leader = waves.leader("赵团长")
    stranger = api.signup("路人")
    url = f"/api/listings/{listing_id}"
    missing = api.c.get("/api/listings/999999")
    assert missing.status_code == 404
    # Nobody else learns anything, not even that the wave exists: the same 404.
    for headers in ({}, _auth(stranger), _auth(other_leader), waves.supplier):
        for query in ("", "?share=", "?share=" + "A" * len(token), "?share=" + token[:-1]):
            r = api.c.get(url + query, headers=headers)
            assert r.status_code == 404, (headers, query, r.text)
            assert r.json()["code"] == missing.json()["code"] == "listing_not_found"
            assert r.json()["detail"] == missing.json()["detail"]
            assert "幸福里" not in r.text and "chain" not in r.text
    # The community's member, its leader and operators see it; so does whoever holds the
    # share link (anonymous or logged in).
    for headers in (_auth(member), _auth(leader), waves.op):
        page = api.c.get(url, headers=headers)
        assert page.status_code == 200, page.text
        assert len(page.json()["chain"]) == 1
    for headers in ({}, _auth(stranger)):
        page = api.c.get(f"{url}?share={token}", headers=headers)
        assert page.status_code == 200, page.text
        assert page.json()["pickup_point"]["latitude"] == 31.2
    # An invitee is told to join the community before ordering; a stranger is told nothing.
    item = api.c.get(url, headers=_auth(member)).json()["items"][0]["item_id"]
    body = {"items": {str(item): 1}}
    r = api.c.post(f"{url}/orders", json=body, headers=_auth(stranger))
    assert (r.status_code, r.json()["code"]) == (404, "listing_not_found")
    r = api.c.post(f"{url}/orders?share={token}", json=body, headers=_auth(stranger))
    assert (r.status_code, r.json()["code"]) == (403, "not_community_member")
    # An invalid token is refused as input, before anything is looked up.
    r = api.c.get(f"{url}?share=%00bad")
    assert r.status_code == 422


def test_each_listing_has_its_own_unguessable_share_token(api: Api) -> None:
    waves = Waves(api)
    tokens = {_wave(waves)[3] for _ in range(3)}
    assert len(tokens) == 3
    assert all(len(t) >= 22 for t in tokens)


def test_a_foreign_object_is_answered_as_a_missing_one(api: Api) -> None:
    """Another member's order, a community one is not in, another leader's wave export, another
    supplier's purchase order: 404 as for an id that does not exist, never 403."""
    waves = Waves(api)
    leader, member, listing_id, _ = _wave(waves)
    stranger = _auth(api.signup("路人"))
    other_leader = waves.leader("赵团长")
    order_id = api.c.get("/api/orders", headers=_auth(member)).json()[0]["id"]
    for path, headers in (
        (f"/api/orders/{order_id}", stranger),
        (f"/api/wave-orders/{order_id}", stranger),
        (f"/api/wave-orders/{order_id}", _auth(other_leader)),
        (f"/api/communities/{leader['community_id']}/waves", stranger),
        (f"/api/leader/listings/{listing_id}/orders.csv", _auth(other_leader)),
    ):
        r = api.c.get(path, headers=headers)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["code"].endswith("not_found"), (path, r.text)
    _, other_supplier = api.supplier(waves.op, name="别家果园")
    wave_id = api.c.get(f"/api/listings/{listing_id}", headers=_auth(member)).json()["wave"]["id"]
    r = api.c.get(f"/api/supplier/waves/{wave_id}/purchase-order", headers=other_supplier)
    assert (r.status_code, r.json()["code"]) == (404, "wave_not_found")
    # A member (not a supplier) on a supplier's route is still refused for their role.
    r = api.c.get(f"/api/supplier/waves/{wave_id}/purchase-order", headers=stranger)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
