"""A campaign's detail carries one page of its open teams, and later pages come by keyset:
its cost in statements does not grow with the number of teams, and paging offers every open
team exactly once, in the order the detail offers them. On both backends."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from tuangou.core.db import get_engine

_phones = itertools.count(1)


def _seed(teams: int, *, joiners: tuple[int, ...] = (0,)) -> int:
    """A campaign (teams of 3 to 5) with ``teams`` open teams, their openers paid; team k gets
    ``joiners[k % len(joiners)]`` paid joiners (two make it formed). Through the services."""
    from tuangou.accounts import service as accounts
    from tuangou.catalog import service as catalog
    from tuangou.core import clock
    from tuangou.core.db import run_in_transaction
    from tuangou.payments import service as payments
    from tuangou.teams import service as team_buys

    def member(session: Any) -> Any:
        phone = f"15{next(_phones):09d}"
        user = accounts.create_user(session, phone=phone, password=None, nickname=f"邻居{phone}")
        user.address = {"name": user.nickname, "phone": phone, "line": "幸福里 1 号"}
        session.flush()
        return user

    def make(session: Any) -> int:
        now = clock.now()
        supplier = catalog.create_supplier(session, name=f"果园{next(_phones)}")
        product = catalog.create_product(session, supplier_id=supplier.id, title="苹果")
        sku = catalog.create_sku(
            session, product_id=product.id, name="5斤", price=2990, stock=10**6
        )
        campaign = team_buys.create_campaign(
            session,
            team_buys.CampaignInput(
                sku_id=sku.id,
                title="苹果拼团",
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(days=3),
                tiers=[(3, 1990), (5, 1790)],
                stock=10**6,
                min_size=3,
                max_size=5,
                per_member_limit=10**6,
            ),
        )
        for k in range(teams):
            seat = team_buys.open_team(session, user_id=member(session).id, campaign_id=campaign.id)
            payments.sandbox_pay_now(session, seat.started.payment)
            for _ in range(joiners[k % len(joiners)]):
                joined = team_buys.join_team(
                    session, user_id=member(session).id, team_id=seat.team.id
                )
                payments.sandbox_pay_now(session, joined.started.payment)
        return int(campaign.id)

    return run_in_transaction(make)


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def watch(*args: Any) -> None:
        seen.append(args[2])

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", watch)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", watch)


def _get(client: TestClient, path: str) -> dict[str, Any]:
    r = client.get(path)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_detail_costs_the_same_statements_at_5_and_at_50_teams(client: TestClient) -> None:
    few, many = _seed(5, joiners=(0, 1)), _seed(50, joiners=(0, 1, 2))
    counts = {}
    for campaign_id, teams in ((few, 5), (many, 50)):
        _get(client, f"/api/campaigns/{campaign_id}")  # warm: the first request loads more
        with _statements() as seen:
            detail = _get(client, f"/api/campaigns/{campaign_id}")
        assert detail["open_teams_total"] == teams
        assert len(detail["open_teams"]) == min(teams, 10)
        assert all(t["chain"] and t["chain"][0]["is_opener"] for t in detail["open_teams"])
        counts[teams] = len(seen)
    assert counts[5] == counts[50], counts
    # A later page too: its size does not change its statements.
    first = _get(client, f"/api/campaigns/{many}")["open_teams_next"]
    sizes = {}
    for limit in (2, 40):
        with _statements() as seen:
            page = _get(client, f"/api/campaigns/{many}/teams?cursor={first}&limit={limit}")
        assert len(page["teams"]) == limit
        sizes[limit] = len(seen)
    assert sizes[2] == sizes[40], sizes


def test_paging_offers_every_open_team_once_in_the_detail_order(client: TestClient) -> None:
    campaign_id = _seed(23, joiners=(0, 1, 2, 1))
    detail = _get(client, f"/api/campaigns/{campaign_id}")
    assert detail["open_teams_total"] == 23
    seen = [t["id"] for t in detail["open_teams"]]
    cursor = detail["open_teams_next"]
    pages = 1
    while cursor:
        page = _get(client, f"/api/campaigns/{campaign_id}/teams?cursor={cursor}&limit=4")
        assert 0 < len(page["teams"]) <= 4
        seen += [t["id"] for t in page["teams"]]
        cursor = page["next_cursor"]
        pages += 1
    assert len(seen) == len(set(seen)) == 23
    assert pages == 1 + 4  # 10 inline, then 4 + 4 + 4 + 1
    # The order offered: still forming before formed, the fewest members short first.
    everything = _get(client, f"/api/campaigns/{campaign_id}/teams?limit=50")
    assert everything["next_cursor"] is None
    assert [t["id"] for t in everything["teams"]] == seen
    keys = [(t["formed"], t["members_to_form"]) for t in everything["teams"]]
    assert keys == sorted(keys)
    assert keys[0] == (False, 1) and keys[-1] == (True, 0)


def test_a_cursor_the_server_did_not_give_is_refused(client: TestClient) -> None:
    campaign_id = _seed(1)
    r = client.get(f"/api/campaigns/{campaign_id}/teams?cursor=bm90LWEtY3Vyc29y")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_cursor"
    assert client.get(f"/api/campaigns/{campaign_id}/teams?limit=51").status_code == 422
