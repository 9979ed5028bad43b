"""The home's search box and category strip, and the operator's categories, over HTTP on the
demo's data, on both backends: 苹果 finds the 红富士 team buy and the member's own
community's wave (never another community's listing of it), each result saying what
matched; an empty state; too long a search refused next to the box; a hidden category
leaves the strip and hides nothing else."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.pages import demo_log_in, form_of, rows, scalar
from tuangou import demo
from tuangou.search import rules

AUNTIE = demo.MEMBERS[0][0]  # 李阿姨: in 幸福里邻里团 only


@pytest.fixture
def site(client: TestClient) -> TestClient:
    demo.load()
    return client


def _listings_of_open_wave() -> dict[int, int]:
    """The open wave's listings: {listing id: community id}."""
    return {
        int(listing): int(community)
        for listing, community in rows(
            "SELECT wl.id, wl.community_id FROM wave_listings wl JOIN waves w"
            " ON w.id = wl.wave_id WHERE w.title = :t",
            t=demo.WAVE_OPEN,
        )
    }


def _member_communities(phone: str) -> set[int]:
    return {
        int(c)
        for (c,) in rows(
            "SELECT m.community_id FROM community_members m JOIN users u ON u.id = m.user_id"
            " WHERE u.phone = :p",
            p=phone,
        )
    }


def _category(name: str) -> int:
    return int(scalar("SELECT id FROM categories WHERE name = :n", n=name))


def _campaign(title_part: str) -> int:
    return int(scalar("SELECT id FROM team_campaigns WHERE title LIKE :t", t=f"%{title_part}%"))


def test_apple_finds_the_team_buy_and_only_my_communitys_wave(site: TestClient) -> None:
    demo_log_in(site, AUNTIE)
    page = site.get("/", params={"q": "苹果"})
    assert page.status_code == 200, page.text[:300]
    html = page.text
    assert f'href="/c/{_campaign("红富士")}"' in html
    assert f'href="/c/{_campaign("鸡蛋")}"' not in html
    mine = _member_communities(AUNTIE)
    listings = _listings_of_open_wave()
    assert len(listings) == 3 and len(mine & set(listings.values())) == 1
    for listing, community in listings.items():
        assert (f'href="/w/{listing}"' in html) == (community in mine), (listing, community)
    # Each result says what matched.
    assert html.count("<mark>苹果</mark>") >= 2
    assert 'class="small tb-matched"' in html
    assert 'value="苹果"' in html  # the box keeps the words


def test_nothing_found_says_so(site: TestClient) -> None:
    demo_log_in(site, AUNTIE)
    html = site.get("/", params={"q": "榴莲"}).text
    assert 'class="card tb-empty"' in html
    assert "榴莲" in html
    assert 'href="/c/' not in html and 'href="/w/' not in html


def test_too_long_a_search_is_refused_next_to_the_box(site: TestClient) -> None:
    demo_log_in(site, AUNTIE)
    page = site.get("/", params={"q": "苹" * (rules.MAX_QUERY + 1)})
    assert page.status_code == 422
    assert re.search(r'<p class="error" id="e-q" role="alert">[^<]+<', page.text)
    assert 'aria-invalid="true"' in page.text


def test_the_category_strip_filters_the_home(site: TestClient) -> None:
    demo_log_in(site, AUNTIE)
    html = site.get("/").text
    strip = re.search(r'<nav class="tb-cats".*?</nav>', html, re.S)
    assert strip is not None
    assert [n for n in demo.CATEGORIES if n in strip.group(0)] == list(demo.CATEGORIES)
    eggs = site.get("/", params={"category": _category("肉禽蛋")}).text
    assert f'href="/c/{_campaign("鸡蛋")}"' in eggs
    assert f'href="/c/{_campaign("红富士")}"' not in eggs
    assert f'href="/?category={_category("肉禽蛋")}" aria-current="page"' in eggs
    # 日用 has nothing: the empty state, not an error.
    daily = site.get("/", params={"category": _category("日用")})
    assert daily.status_code == 200 and 'class="card tb-empty"' in daily.text


def _ops_post(site: TestClient, path: str, data: dict[str, str]) -> str:
    body = {**form_of(site, "/ops/products"), **data}
    reply = site.post(path, data=body, follow_redirects=False)
    assert reply.status_code == 303, reply.text[:800]
    return str(reply.headers["location"])


def test_the_operator_manages_categories_and_a_hidden_one_hides_nothing_else(
    site: TestClient,
) -> None:
    demo_log_in(site, demo.OPERATOR_PHONE)
    page = site.get("/ops/products").text
    assert 'id="categories"' in page and "水果" in page
    where = _ops_post(site, "/ops/categories", {"name": "  冷冻 食品 ", "position": ""})
    assert "done=saved" in where
    frozen = _category("冷冻 食品")
    assert scalar("SELECT position FROM categories WHERE id = :c", c=frozen) == len(demo.CATEGORIES)
    fruit = _category("水果")
    _ops_post(site, f"/ops/categories/{fruit}", {"name": "水果", "position": "0", "hidden": "1"})
    assert scalar("SELECT hidden FROM categories WHERE id = :c", c=fruit) in (True, 1)
    rice = int(scalar("SELECT id FROM products WHERE title LIKE '五常%'"))
    _ops_post(site, f"/ops/products/{rice}/category", {"category_id": str(frozen)})
    assert scalar("SELECT category_id FROM products WHERE id = :p", p=rice) == frozen

    # Bad input: next to the field, nothing changed.
    body = {**form_of(site, "/ops/products"), "name": "蔬菜", "position": ""}
    refused = site.post("/ops/categories", data=body, follow_redirects=False)
    assert refused.status_code == 400 and 'id="e-name"' in refused.text
    body = {**form_of(site, "/ops/products"), "name": "x", "position": "-3"}
    refused = site.post(f"/ops/categories/{fruit}", data=body, follow_redirects=False)
    assert refused.status_code == 400
    assert scalar("SELECT name FROM categories WHERE id = :c", c=fruit) == "水果"

    # The member: 水果 is off the strip, the apples are still on the home and found.
    demo_log_in(site, AUNTIE)
    html = site.get("/").text
    strip = re.search(r'<nav class="tb-cats".*?</nav>', html, re.S)
    assert strip is not None and "水果" not in strip.group(0) and "冷冻 食品" in strip.group(0)
    apples = f'href="/c/{_campaign("红富士")}"'
    assert apples in html
    assert apples in site.get("/", params={"q": "苹果"}).text
    # A link to the hidden category shows everything, not nothing.
    assert apples in site.get("/", params={"category": fruit}).text
