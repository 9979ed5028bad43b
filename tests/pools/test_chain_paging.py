"""A wave's detail carries a summary of its chain list (接龙: the count, the latest lines,
the caller's own), and the whole list comes page by page (``GET /api/listings/{id}/chain``)
for whoever may see the wave, and nobody else. On both backends."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import scalar
from tests.pools.support import (
    Item,
    Person,
    seed_leader,
    seed_members,
    seed_operator,
    seed_paid_order,
    seed_sku,
    seed_wave,
)

ORDERS = 37


def _world() -> tuple[int, list[Person], Person, str]:
    """A wave with ``ORDERS`` paid orders from three members (the first places every third),
    a stranger (another community's member), and the wave's share token."""
    operator = seed_operator()
    _, sku = seed_sku()
    leader = seed_leader(operator.user_id)
    members = seed_members(leader, 3)
    (stranger,) = seed_members(seed_leader(operator.user_id, "张团长"), 1)
    _, listing, (item,) = seed_wave(leader, [Item(sku, per_member_limit=1000)])
    for k in range(ORDERS):
        seed_paid_order(members[k % 3], listing, {item: 1})
    token = str(scalar("SELECT share_token FROM wave_listings WHERE id = :i", i=listing))
    return listing, members, stranger, token


def _get(client: TestClient, path: str, who: Person | None = None) -> dict[str, Any]:
    r = client.get(path, headers=who.headers if who else {})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_detail_summarises_the_chain_and_its_pages_give_every_line_once(
    client: TestClient,
) -> None:
    listing, members, _, _ = _world()
    first = members[0]
    detail = _get(client, f"/api/listings/{listing}", first)
    assert detail["chain_count"] == ORDERS
    assert [row["seq"] for row in detail["chain"]] == list(range(ORDERS - 9, ORDERS + 1))
    # The caller's own lines, wherever they are (1, 4, 7, ...), with their orders' ids.
    assert [row["seq"] for row in detail["my_chain"]] == list(range(1, ORDERS + 1, 3))
    assert all(row["mine"] and row["order_id"] for row in detail["my_chain"])

    seqs: list[int] = []
    cursor = ""
    pages = 0
    while True:
        page = _get(client, f"/api/listings/{listing}/chain?limit=8&cursor={cursor}", first)
        assert 0 < len(page["lines"]) <= 8
        seqs += [row["seq"] for row in page["lines"]]
        assert all(row["mine"] == (row["seq"] % 3 == 1) for row in page["lines"])
        assert all("*" in row["name"] for row in page["lines"])
        pages += 1
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seqs == list(range(1, ORDERS + 1))
    assert pages == 5  # 8 + 8 + 8 + 8 + 5


def test_the_chain_is_for_whoever_may_see_the_wave(client: TestClient) -> None:
    listing, members, stranger, token = _world()
    path = f"/api/listings/{listing}/chain"
    assert client.get(path, headers=members[1].headers).status_code == 200
    for who in ({}, stranger.headers):
        r = client.get(path, headers=who)
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "listing_not_found"
        # The detail says the same: the two routes share one rule.
        assert client.get(f"/api/listings/{listing}", headers=who).status_code == 404
    # An invitee holding the share link's token reads it, without their own lines.
    page = _get(client, f"{path}?share={token}", stranger)
    assert len(page["lines"]) == ORDERS  # one page: the default limit is 50
    assert not any(row["mine"] for row in page["lines"])
    bad = client.get(f"{path}?cursor=!!", headers=members[1].headers)
    assert bad.status_code == 422, bad.text
