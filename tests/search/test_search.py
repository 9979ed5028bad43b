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
from tests.web.pages import form_of, log_in
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction, unit_of_work
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
    assert [(p.text, p.hit) for p in pieces] == [("红富士", False), ("苹果", True), (" 5斤装", False)]


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

    return read(
        lambda s: search.search(s, user_id=user_id, query=query, category_id=category_id)
    )


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


def test_too_long_a_query_is_refused(world: World) -> None:
    from tuangou.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        _search(world.member.user_id, "苹" * (rules.MAX_QUERY + 1))
    assert refused.value.code == "query_too_long" and refused.value.status == 422
