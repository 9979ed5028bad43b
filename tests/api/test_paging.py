"""Keyset paging (core/paging.py) through the API, on both backends: a paged list returns each
row exactly once across its pages, in order, even when rows arrive between two pages; a
cursor it did not give is refused with a stable code; the indexes the pages read exist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import inspect

from tests.pools.support import (
    Item,
    Person,
    problem,
    seed_leader,
    seed_members,
    seed_operator,
    seed_paid_order,
    seed_sku,
    seed_wave,
)
from tuangou.core import clock
from tuangou.core.db import get_engine, run_in_transaction

Fetch = Callable[[str | None], tuple[list[Any], str | None]]


def _walk(fetch: Fetch, *, between: Callable[[], None] | None = None) -> list[Any]:
    """Every page of a list, following its cursors; ``between`` runs after the first page."""
    seen, cursor, pages = [], None, 0
    while True:
        items, cursor = fetch(cursor)
        seen.extend(items)
        pages += 1
        if pages == 1 and between is not None:
            between()
        if cursor is None:
            return seen
        assert pages < 50, "the cursor does not advance"


def _header_pages(
    c: TestClient, path: str, headers: dict[str, str], key: str, **filters: str
) -> Fetch:
    """A list that replies with a bare array and names its next page in headers."""

    def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
        params = {**filters, "limit": 2, **({"cursor": cursor} if cursor else {})}
        r = c.get(path, params=params, headers=headers)
        assert r.status_code == 200, r.text
        after = r.headers.get("x-next-cursor")
        if after is not None:
            assert f"cursor={after}" in r.headers["link"] and 'rel="next"' in r.headers["link"]
        return [row[key] for row in r.json()], after

    return fetch


def _body_pages(c: TestClient, path: str, headers: dict[str, str], key: str) -> Fetch:
    """A list whose reply holds ``items`` and ``next_cursor``."""

    def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
        r = c.get(
            path, params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=headers
        )
        assert r.status_code == 200, r.text
        return [row[key] for row in r.json()["items"]], r.json()["next_cursor"]

    return fetch


def _wave_world(members: int = 3) -> tuple[Person, Any, list[Person], int, list[int]]:
    operator = seed_operator()
    leader = seed_leader(operator.user_id)
    _supplier, sku = seed_sku()
    _wave, listing, items = seed_wave(leader, [Item(sku)])
    people = seed_members(leader, members)
    return operator, leader, people, listing, items


def test_order_lists_page_every_row_once_newest_first(client: TestClient) -> None:
    operator, _leader, people, listing, items = _wave_world()
    buyer = people[0]
    mine = [seed_paid_order(buyer, listing, {items[0]: 1}) for _ in range(5)]
    others = [seed_paid_order(p, listing, {items[0]: 1}) for p in people[1:]]
    late: list[int] = []

    def one_more() -> None:
        late.append(seed_paid_order(buyer, listing, {items[0]: 1}))

    # A member's orders: newest first, each once; one placed after the first page is not
    # seen again further down (it is newer than every cursor).
    seen = _walk(_header_pages(client, "/api/orders", buyer.headers, "id"), between=one_more)
    assert seen == sorted(mine, reverse=True)
    assert late[0] not in seen
    # The operator's list with filters: the same walk over every wave order that is paid.
    everyone = _walk(
        _header_pages(
            client, "/api/admin/orders", operator.headers, "id", kind="wave", status="paid"
        )
    )
    assert everyone == sorted(mine + others + late, reverse=True)
    assert (
        _walk(_header_pages(client, "/api/admin/orders", operator.headers, "id", kind="team")) == []
    )

    # A creation range narrows it.
    future = (clock.now() + timedelta(days=1)).isoformat()
    past = (clock.now() - timedelta(days=1)).isoformat()
    pages = _header_pages(client, "/api/admin/orders", operator.headers, "id", created_from=future)
    assert _walk(pages) == []
    pages = _header_pages(
        client, "/api/admin/orders", operator.headers, "id", created_from=past, created_to=future
    )
    assert _walk(pages) == everyone


def test_a_leaders_listing_orders_page_in_chain_order(client: TestClient) -> None:
    _operator, leader, people, listing, items = _wave_world(members=4)
    for p in people[:3]:
        seed_paid_order(p, listing, {items[0]: 1})
    # One paid between the pages comes once, at the end of the chain.
    seen = _walk(
        _body_pages(client, f"/api/leader/listings/{listing}/orders", leader.person.headers, "seq"),
        between=lambda: seed_paid_order(people[3], listing, {items[0]: 2}) and None,
    )
    assert seen == [1, 2, 3, 4]
    # Another member is not this listing's leader.
    r = client.get(f"/api/leader/listings/{listing}/orders", headers=people[0].headers)
    assert r.status_code == 403, r.text


def test_the_inbox_pages_newest_first_and_breaks_ties_by_id(client: TestClient) -> None:
    from tuangou.notifications.models import Notification

    operator = seed_operator()
    at = clock.now().replace(microsecond=0)

    def add(n: int, when: Any) -> None:
        def make(s: Any) -> None:
            s.add(
                Notification(
                    user_id=operator.user_id,
                    event_id=f"e{n}",
                    event_key=f"k{n}",
                    kind="order.completed",
                    title="已完成",
                    body="",
                    data={"order_id": n},
                    created_at=when,
                )
            )

        run_in_transaction(make)

    for n in range(5):  # the same instant for three of them
        add(n, at - timedelta(minutes=min(n, 2)))
    fetch = _body_pages(client, "/api/notifications", operator.headers, "id")
    seen = _walk(fetch, between=lambda: add(9, at + timedelta(minutes=1)))
    assert len(seen) == len(set(seen)) == 5
    r = client.get("/api/notifications", headers=operator.headers).json()
    assert [i["id"] for i in r["items"]][1:] == seen  # the newest first, ties by id


def test_live_campaigns_page_by_id(client: TestClient) -> None:
    from tuangou.teams import service as teams

    _supplier, sku = seed_sku()
    now = clock.now()

    def make(s: Any) -> list[int]:
        return [
            teams.create_campaign(
                s,
                teams.CampaignInput(
                    sku_id=sku,
                    title=f"拼团{n}",
                    starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(days=1),
                    tiers=[(2, 990)],
                    stock=10,
                ),
            ).id
            for n in range(5)
        ]

    made = run_in_transaction(make)
    assert _walk(_header_pages(client, "/api/campaigns", {}, "id")) == made


def test_a_cursor_the_list_did_not_give_is_refused(client: TestClient) -> None:
    operator, leader, people, listing, _items = _wave_world(members=1)
    member = people[0].headers
    for path, headers in (
        ("/api/orders", member),
        ("/api/admin/orders", operator.headers),
        ("/api/notifications", member),
        ("/api/campaigns", {}),
        (f"/api/leader/listings/{listing}/orders", leader.person.headers),
    ):
        r = client.get(path, params={"cursor": "not-a-cursor"}, headers=headers)
        problem(r, 422, "invalid_cursor")
    r = client.get("/api/orders", params={"limit": 201}, headers=member)
    assert r.status_code == 422


def test_the_indexes_the_pages_read_exist(db_url: str) -> None:
    found = inspect(get_engine())
    orders = {i["name"]: i["column_names"] for i in found.get_indexes("orders")}
    assert orders["ix_orders_user_created"] == ["user_id", "created_at", "id"]
    assert orders["ix_orders_status_created"] == ["status", "created_at", "id"]
    assert orders["ix_orders_created"] == ["created_at", "id"]
    inbox = {i["name"]: i["column_names"] for i in found.get_indexes("notifications")}
    assert inbox["ix_notifications_user_page"] == ["user_id", "created_at", "id"]
    campaigns = {i["name"]: i["column_names"] for i in found.get_indexes("team_campaigns")}
    assert campaigns["ix_team_campaigns_status_id"] == ["status", "id"]
