"""Search and categories: the n-gram rules, the index, who sees what (never another
community's wave, team buys only without a log-in), the categories operators manage (a
hidden one leaves the strip and hides nothing else), the API's refusals and the member's home.
On both backends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, scalar
from tests.pools.support import (
    Item,
    Person,
    SeededLeader,
    changed_tables,
    problem,
    seed_leader,
    seed_members,
    seed_operator,
    seed_sku,
    seed_wave,
    snapshot,
)
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.search import rules

# ---------------------------------------------------------------- the rules


def test_chinese_is_cut_into_characters_and_pairs() -> None:
    assert rules.index_terms("红富士苹果") == {
        "红", "富", "士", "苹", "果", "红富", "富士", "士苹", "苹果",
    }  # fmt: skip
    assert rules.query_terms("苹果") == ["苹果"]
    assert rules.query_terms("富士苹果") == ["富士", "士苹", "苹果"]
    assert rules.query_terms(" ＡＢＣ 果 ") == ["abc", "果"]
    assert rules.query_terms("!!! …") == []


def test_a_text_matches_when_it_holds_every_term() -> None:
    assert rules.matches("烟台红富士苹果 5斤装", "苹果")
    assert rules.matches("烟台红富士苹果 5斤装", "富士 5斤")
    assert not rules.matches("烟台红富士苹果", "果苹")
    assert not rules.matches("烟台红富士苹果", "苹果 梨")
    assert not rules.matches("烟台红富士苹果", "")


def test_a_highlight_marks_the_words_of_the_query() -> None:
    pieces = rules.highlight("红富士苹果 5斤装", "苹果")
    assert [(p.text, p.hit) for p in pieces] == [
        ("红富士", False),
        ("苹果", True),
        (" 5斤装", False),
    ]


# ---------------------------------------------------------------- a world


@dataclass
class World:
    operator: Person
    here: SeededLeader
    there: SeededLeader
    member: Person  # in ``here`` only
    campaign_id: int
    product_id: int  # the campaign's product: 红富士苹果
    listing_here: int  # 红富士苹果 in ``here``
    listing_there: int  # 阿克苏苹果 in ``there``
    wave_there: int


def _campaign(sku_id: int) -> int:
    from tuangou.teams import service as teams

    def make(session: Any) -> int:
        return teams.create_campaign(
            session,
            teams.CampaignInput(
                sku_id=sku_id,
                title="阶梯拼团 · 5斤装",
                starts_at=clock.now() - timedelta(minutes=1),
                ends_at=clock.now() + timedelta(days=2),
                tiers=[(2, 800)],
                stock=100,
            ),
        ).id

    return run_in_transaction(make)


@pytest.fixture
def world(db: str) -> World:
    op = seed_operator()
    here = seed_leader(op.user_id, "李团长")
    there = seed_leader(op.user_id, "王团长")
    (member,) = seed_members(here, 1)
    _, campaign_sku = seed_sku(title="烟台红富士苹果")
    _, sku_here = seed_sku(title="红富士苹果 3斤")
    _, sku_there = seed_sku(title="阿克苏苹果 3斤")
    _, listing_here, _ = seed_wave(here, [Item(sku_here)])
    wave_there, listing_there, _ = seed_wave(there, [Item(sku_there)])
    product = int(scalar("SELECT product_id FROM skus WHERE id = :s", s=campaign_sku))
    return World(
        op,
        here,
        there,
        member,
        _campaign(campaign_sku),
        product,
        listing_here,
        listing_there,
        wave_there,
    )


def _search(user_id: int | None, query: str = "", category_id: int | None = None) -> list[Any]:
    from tuangou.search import service as search

    return read(lambda s: search.search(s, user_id=user_id, query=query, category_id=category_id))


def _found(hits: list[Any]) -> set[tuple[str, int]]:
    return {(h.kind, h.id) for h in hits}


def _refresh() -> int:
    from tuangou.search import service as search

    return run_in_transaction(lambda s: search.refresh(s, recheck=True))


# ---------------------------------------------------------------- the service


def test_apple_finds_red_fuji_and_never_another_communitys_wave(world: World) -> None:
    expected = {("campaign", world.campaign_id), ("wave", world.listing_here)}
    # Before the worker indexed anything (matched on the text), and through the index.
    assert _found(_search(world.member.user_id, "苹果")) == expected
    assert _refresh() >= 3
    assert scalar("SELECT count(*) FROM search_entries") >= 3
    assert _found(_search(world.member.user_id, "苹果")) == expected
    assert _found(_search(world.member.user_id, "富士苹果")) == expected
    assert _found(_search(world.member.user_id, "阿克苏")) == set()
    # The other community's member finds its own wave, not this one's.
    (neighbour,) = seed_members(world.there, 1)
    assert _found(_search(neighbour.user_id, "苹果")) == {
        ("campaign", world.campaign_id),
        ("wave", world.listing_there),
    }
    # Nobody logged in: the team buy only.
    assert _found(_search(None, "苹果")) == {("campaign", world.campaign_id)}


def test_a_hit_says_what_matched(world: World) -> None:
    (campaign,) = [h for h in _search(world.member.user_id, "苹果") if h.kind == "campaign"]
    # The campaign's title has no 苹果: its product's has.
    assert [m.field for m in campaign.matched] == ["product"]
    assert [p.text for p in campaign.matched[0].pieces if p.hit] == ["苹果"]


def test_the_index_follows_what_is_live(world: World) -> None:
    from tuangou.teams import service as teams

    _refresh()
    assert _refresh() == 0  # nothing changed
    entry = "SELECT count(*) FROM search_entries WHERE kind = 'campaign' AND ref_id = :c"
    assert scalar(entry, c=world.campaign_id) == 1
    run_in_transaction(lambda s: teams.set_campaign_status(s, world.campaign_id, "paused"))
    assert _refresh() == 1
    assert scalar(entry, c=world.campaign_id) == 0
    assert _found(_search(world.member.user_id, "苹果")) == {("wave", world.listing_here)}


def test_the_index_answers_and_is_rechecked_for_changed_texts(world: World) -> None:
    from tests.pools.support import execute

    _refresh()
    execute("UPDATE products SET title = '泰国金枕榴莲' WHERE id = :p", p=world.product_id)
    member = world.member.user_id
    # Until the worker rechecks, the index answers (the old words).
    assert ("campaign", world.campaign_id) in _found(_search(member, "苹果"))
    assert _found(_search(member, "榴莲")) == set()
    assert _refresh() == 1
    assert _found(_search(member, "榴莲")) == {("campaign", world.campaign_id)}
    assert ("campaign", world.campaign_id) not in _found(_search(member, "苹果"))


def test_too_long_a_query_is_refused(world: World) -> None:
    from tuangou.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        _search(world.member.user_id, "苹" * (rules.MAX_QUERY + 1))
    assert refused.value.code == "query_too_long" and refused.value.status == 422


# ---------------------------------------------------------------- categories


def _category(name: str) -> int:
    from tuangou.catalog import service as catalog

    return run_in_transaction(lambda s: catalog.create_category(s, name=name).id)


def test_a_category_filters_and_hiding_it_hides_nothing_it_should_not(world: World) -> None:
    from tuangou.catalog import service as catalog

    fruit, eggs = _category("水果"), _category("肉禽蛋")
    run_in_transaction(
        lambda s: catalog.set_product_category(s, product_id=world.product_id, category_id=fruit)
    )
    member = world.member.user_id
    assert _found(_search(member, category_id=fruit)) == {("campaign", world.campaign_id)}
    assert _found(_search(member, "苹果", category_id=fruit)) == {("campaign", world.campaign_id)}
    assert _found(_search(member, category_id=eggs)) == set()
    everything = _found(_search(member))
    assert ("campaign", world.campaign_id) in everything
    assert ("wave", world.listing_here) in everything
    assert ("wave", world.listing_there) not in everything

    run_in_transaction(lambda s: catalog.update_category(s, fruit, hidden=True))
    # Off the strip...
    strip = read(lambda s: [c.id for c in catalog.list_categories(s, visible_only=True)])
    assert strip == [eggs]
    # ...but its product is still listed and found, and the category is not a filter for
    # members any more (an operator still filters by it).
    assert _found(_search(member)) == everything
    assert ("campaign", world.campaign_id) in _found(_search(member, "苹果"))
    with pytest.raises(catalog.CategoryNotFound):
        _search(member, category_id=fruit)
    from tuangou.search import service as search

    hits = read(lambda s: search.search(s, user_id=None, category_id=fruit, operator=True))
    assert _found(hits) == {("campaign", world.campaign_id)}


def test_categories_refuse_bad_input_and_change_nothing(world: World) -> None:
    from tuangou.catalog import service as catalog
    from tuangou.core.errors import DomainError

    fruit = _category("水果")
    before = snapshot()
    for bad in (
        lambda s: catalog.create_category(s, name="  "),
        lambda s: catalog.create_category(s, name="水果"),
        lambda s: catalog.create_category(s, name="长" * 33),
        lambda s: catalog.update_category(s, fruit, position=-1),
        lambda s: catalog.update_category(s, 999_999, name="蔬菜"),
        lambda s: catalog.set_product_category(s, product_id=world.product_id, category_id=999_999),
    ):
        with pytest.raises(DomainError):
            run_in_transaction(bad)
    assert changed_tables(before, snapshot()) == []


def test_categories_come_in_the_operators_order(world: World) -> None:
    from tuangou.catalog import service as catalog

    a, b, c = _category("水果"), _category("蔬菜"), _category("粮油")
    run_in_transaction(lambda s: catalog.update_category(s, c, position=0, name="粮 油"))
    run_in_transaction(lambda s: catalog.update_category(s, a, position=5))
    listed = read(lambda s: [(x.id, x.name) for x in catalog.list_categories(s)])
    assert listed == [(c, "粮 油"), (b, "蔬菜"), (a, "水果")]


# ---------------------------------------------------------------- the API


def test_the_search_api(world: World, client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "苹果"})
    assert r.status_code == 200, r.text
    assert [(h["kind"], h["id"]) for h in r.json()["results"]] == [("campaign", world.campaign_id)]
    r = client.get("/api/search", params={"q": "苹果"}, headers=world.member.headers)
    body = r.json()
    assert {(h["kind"], h["id"]) for h in body["results"]} == {
        ("campaign", world.campaign_id),
        ("wave", world.listing_here),
    }
    wave = next(h for h in body["results"] if h["kind"] == "wave")
    assert wave["url"] == f"/w/{world.listing_here}"
    assert any(p == {"text": "苹果", "hit": True} for m in wave["matched"] for p in m["pieces"])
    # Nothing: an empty list, not an error.
    r = client.get("/api/search", params={"q": "榴莲"}, headers=world.member.headers)
    assert r.status_code == 200 and r.json()["results"] == []


def test_the_search_api_refuses_bad_input(world: World, client: TestClient) -> None:
    too_long = "苹" * (rules.MAX_QUERY + 1)
    r = client.get("/api/search", params={"q": too_long}, headers=world.member.headers)
    body = problem(r, 422, "invalid_input")
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["errors"][0]["field"] == "q"
    assert str(rules.MAX_QUERY) in body["detail"]
    problem(client.get("/api/search", params={"category": 0}), 422, "invalid_input")
    problem(client.get("/api/search", params={"category": 999_999}), 404, "category_not_found")


def test_operators_manage_categories_through_the_api(world: World, api: Api) -> None:
    op = api.operator()
    c = api.c
    r = c.post("/api/admin/categories", json={"name": "水果"}, headers=op)
    assert r.status_code == 201, r.text
    fruit = r.json()["id"]
    problem(
        c.post("/api/admin/categories", json={"name": "水果"}, headers=op),
        409,
        "duplicate_category",
    )
    r = c.put(
        f"/api/admin/products/{world.product_id}/category", json={"category_id": fruit}, headers=op
    )
    assert r.status_code == 200 and r.json()["category_id"] == fruit
    r = c.patch(f"/api/admin/categories/{fruit}", json={"hidden": True, "name": "鲜果"}, headers=op)
    assert r.json() == {"id": fruit, "name": "鲜果", "position": 0, "hidden": True}
    assert c.get("/api/categories").json() == []
    assert [x["id"] for x in c.get("/api/categories", headers=op).json()] == [fruit]
    # Hidden: still found, not a filter for members.
    assert c.get("/api/search", params={"q": "苹果"}).json()["results"]
    problem(c.get("/api/search", params={"category": fruit}), 404, "category_not_found")
