"""The leader application's pickup point: on a map of the operator's tile provider where one is
configured (TUANGOU_MAP_TILE_URL), else typed coordinates with an explanation; either way the
page says what will be stored, in GCJ-02. Over HTTP (TestClient), on both backends."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.web.pages import demo_log_in as log_in
from tests.web.test_member_pages import XIAOHONG, errors, post, rows
from tuangou import demo
from tuangou.core.config import Settings, reset_settings

TILES = "https://tiles.example.com/{z}/{x}/{y}.png"
_STORED = re.compile(r'<output id="map-stored"[^>]*>([^<]*)</output>')


@pytest.fixture
def site(client: TestClient) -> TestClient:
    demo.load()
    return client


@pytest.fixture
def tiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TUANGOU_MAP_TILE_URL", TILES)
    monkeypatch.setenv("TUANGOU_MAP_ATTRIBUTION", "© 示例地图")
    monkeypatch.setenv("TUANGOU_MAP_CENTER", "30.2741, 120.1551")
    reset_settings()
    yield TILES
    for name in ("TUANGOU_MAP_TILE_URL", "TUANGOU_MAP_ATTRIBUTION", "TUANGOU_MAP_CENTER"):
        monkeypatch.delenv(name)
    reset_settings()


def test_without_a_map_the_coordinates_are_typed_with_an_explanation(site: TestClient) -> None:
    log_in(site, XIAOHONG)
    page = site.get("/me/apply").text
    assert 'id="map-view"' not in page and "data-tiles" not in page
    assert "本站未配置地图" in page and "长按" in page  # how to find the coordinates
    assert 'id="f-address"' in page and 'id="f-latitude"' in page and 'id="f-longitude"' in page
    assert "GCJ-02" in page
    stored = _STORED.search(page)
    assert stored and stored.group(1) == "—"
    assert '<script src="/static/mappick.js' in page  # it keeps "will be stored" in step


def test_with_a_map_the_page_offers_it_and_says_what_is_stored(
    site: TestClient, tiles: str
) -> None:
    log_in(site, XIAOHONG)
    page = site.get("/me/apply").text
    view = re.search(r'<div class="map-view" id="map-view" hidden ([^>]*)>', page)
    assert view, "no map on the page"
    assert f'data-tiles="{tiles}"' in html.unescape(view.group(1))
    assert 'data-center="30.2741,120.1551"' in view.group(1) and 'data-zoom="13"' in view.group(1)
    assert "© 示例地图" in page and "在地图上点选自提点的位置" in page
    assert 'id="f-latitude"' in page  # the typed fields stay: the page works without the map

    # A refused form shows what would be stored; a sent one stores exactly that.
    base = {"name": "5栋自提点", "address": "幸福里 5 栋", "opening_hours": "9:00-20:00"}
    refused = post(
        site, "/me/apply", {**base, "name": "", "latitude": "30.27", "longitude": "120.16"}
    )
    assert refused.status_code == 400 and "name" in errors(refused.text)
    stored = _STORED.search(refused.text)
    assert stored and stored.group(1) == "30.27, 120.16"
    assert rows("SELECT id FROM leader_applications WHERE address = '幸福里 5 栋'") == []

    sent = post(site, "/me/apply", {**base, "latitude": "30.274612", "longitude": "120.155021"})
    assert sent.status_code == 303, sent.text
    assert rows(
        "SELECT latitude, longitude FROM leader_applications WHERE address = '幸福里 5 栋'"
    ) == [(30.274612, 120.155021)]
    again = site.get("/me/apply").text
    assert "30.274612, 120.155021 (GCJ-02)" in again  # the last application says it


@pytest.mark.parametrize(
    ("tile_url", "center"),
    [
        ("http://tiles.example.com/{z}/{x}/{y}.png", ""),  # the pages load https images only
        ("https://tiles.example.com/{z}/{x}.png", ""),  # no {y}
        ("tiles.example.com/{z}/{x}/{y}.png", ""),
        (TILES, "30.27"),
        (TILES, "95,120"),
    ],
)
def test_a_map_setting_that_cannot_work_is_refused_at_start(tile_url: str, center: str) -> None:
    with pytest.raises(ValidationError):
        Settings(map_tile_url=tile_url, map_center=center)


def test_a_map_of_this_site_s_own_tiles_is_allowed() -> None:
    settings = Settings(map_tile_url="/tiles/{z}/{x}/{y}.png", map_center=" 30.2741,120.1551 ")
    assert settings.map_tile_url == "/tiles/{z}/{x}/{y}.png"
    assert settings.map_center == "30.2741,120.1551"
