"""A member's pages on a phone (390×844): list cards keep their sides, the wave page has a back
arrow to where the member came from and a title that wraps, and a page with a sticky action bar
shows that bar alone, its last content never hidden behind it. In a real browser, on the
demo's data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import rows
from tests.e2e.server import Server, pointed_at
from tests.web.browser import Site, check_page, log_in
from tuangou import demo

MEMBER = demo.MEMBERS[2][0]  # 张小红: in 幸福里邻里团
LEADER = demo.LEADERS[0][0]  # 李团长 leads it
VIEWPORT = {"width": 390, "height": 844}
LONG_TITLE = "幸福里邻里团 · 明日达 · 烟台红富士苹果与农家土鸡蛋 · 今晚二十三点截单 · 周末特惠场"


@contextmanager
def phone(browser: Browser, site: Site, lang: str = "zh-CN") -> Iterator[Page]:
    """A phone of 390×844, logged in as the member; any console error or failed request fails
    the test."""
    context = browser.new_context(
        base_url=site.url,
        viewport=VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=lang,
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "requestfailed",
        lambda r: None if "ERR_ABORTED" in (r.failure or "") else problems.append(r.url),
    )
    try:
        log_in(page, MEMBER)
        yield page
    finally:
        context.close()
    assert not problems, problems


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The demo site, whose operator set a map tile provider: this site's own images here (no
    request leaves the machine)."""
    from tuangou import demo

    url = f"sqlite:///{tmp_path / 'site.db'}"
    with pointed_at(url):
        demo.load()
        server = Server(
            url,
            env={
                "TUANGOU_UPLOAD_DIR": str(tmp_path / "uploads"),
                "TUANGOU_MAP_TILE_URL": "/static/demo/placeholder.svg?z={z}&x={x}&y={y}",
                "TUANGOU_MAP_CENTER": "30.2741,120.1551",
            },
        )
        server.start()
        try:
            yield Site(server.url, url, server)
        finally:
            server.stop()


def listing_of_open_wave() -> int:
    ((listing,),) = rows(
        "SELECT wl.id FROM waves w JOIN wave_listings wl ON wl.wave_id = w.id"
        " JOIN leaders l ON l.id = wl.leader_id JOIN users u ON u.id = l.user_id"
        " WHERE w.title = :t AND u.phone = :p",
        t=demo.WAVE_OPEN,
        p=LEADER,
    )
    return int(listing)


def retitle(listing: int, title: str) -> None:
    from sqlalchemy import text

    from tuangou.core.db import run_in_transaction

    run_in_transaction(
        lambda s: s.execute(
            text(
                "UPDATE waves SET title = :t WHERE id = (SELECT wave_id FROM wave_listings"
                " WHERE id = :l)"
            ),
            {"t": title, "l": listing},
        )
    )


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def assert_bar_hides_nothing(page: Page, name: str) -> None:
    """One bar at the bottom (no tab bar); the page's last content scrolls fully above it."""
    expect(page.locator(".sticky-bar")).to_be_visible()
    expect(page.locator("nav.tabbar")).to_have_count(0)
    bar = box(page, ".sticky-bar")
    assert bar["y"] + bar["height"] <= VIEWPORT["height"] + 1, bar  # at the very bottom
    assert bar["height"] < 100, f"{name}: the action bar is {bar['height']} px high"
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_timeout(100)
    last = page.evaluate(
        """() => { const el = [...document.querySelector("main").children]
          .filter((e) => !e.classList.contains("sticky-bar") && e.offsetHeight).pop();
        const r = el.getBoundingClientRect(); return [r.top, r.bottom]; }"""
    )
    top_of_bar = page.evaluate("document.querySelector('.sticky-bar').getBoundingClientRect().top")
    assert last[1] <= top_of_bar + 0.5, f"{name}: last content {last} under the bar at {top_of_bar}"
    assert last[0] >= 0, name


def assert_sides_kept(page: Page, card: str) -> None:
    """Nothing in a list card (chips, steppers, buttons) touches its sides."""
    edges: list[Any] = page.evaluate(
        """(sel) => { const card = document.querySelector(sel).getBoundingClientRect();
        return [...document.querySelectorAll(sel + " .badge, " + sel + " button, "
          + sel + " .stepper, " + sel + " .button, " + sel + " p")]
          .filter((el) => el.offsetWidth)
          .map((el) => { const r = el.getBoundingClientRect();
            return [el.className || el.tagName, r.left - card.left, card.right - r.right]; }); }""",
        card,
    )
    assert edges, f"nothing found in {card}"
    for name, left, right in edges:
        assert left >= 8 and right >= 8, (
            f"{name} in {card} is {left:.0f}/{right:.0f} px from the sides"
        )


def test_a_member_on_a_phone_sees_whole_cards_one_bar_and_a_way_back(
    browser: Browser, site: Site
) -> None:
    listing = listing_of_open_wave()
    retitle(listing, LONG_TITLE)
    with phone(browser, site) as page:
        page.goto("/communities")
        page.locator(f'a[href="/w/{listing}"]').first.click()
        expect(page).to_have_url(f"{site.url}/w/{listing}")
        back = page.locator(".topbar a.back")
        expect(back).to_have_attribute("href", "/communities")

        # The long title wraps to two lines, then ends in an ellipsis.
        title = page.locator(".topbar-title")
        expect(title).to_have_text(LONG_TITLE)
        height, line, cut = title.evaluate(
            """(el) => [el.clientHeight, parseFloat(getComputedStyle(el).lineHeight),
            el.scrollHeight > el.clientHeight + 1]"""
        )
        assert 1.5 * line < height <= 2 * line + 1, (height, line)
        assert cut, "a title longer than two lines is cut with an ellipsis"

        assert_sides_kept(page, ".wave-items")
        assert_bar_hides_nothing(page, "wave")
        check_page(page, "member-wave-390")

        back.click()
        expect(page).to_have_url(f"{site.url}/communities")

        # From the home, the arrow leads home.
        page.goto("/")
        page.locator(f'a[href="/w/{listing}"]').first.click()
        expect(page.locator(".topbar a.back")).to_have_attribute("href", "/")

        # Cards on other member pages keep their sides too.
        page.goto("/orders")
        assert_sides_kept(page, ".orders")
        expect(page.locator("nav.tabbar")).to_be_visible()  # no action bar: the tab bar

        # In English: a team-buy page with its bar, and the leader application's map.
        page.goto("/lang?to=en&next=/")
        page.goto("/")
        page.locator('a[href^="/c/"]').first.click()
        assert_bar_hides_nothing(page, "campaign")
        page.evaluate("window.scrollTo(0, 0)")
        joinable = page.get_by_role("heading", name="Teams you can join")
        expect(joinable).to_have_count(1)  # the demo's first campaign has teams to join
        joinable.scroll_into_view_if_needed()
        heading = joinable.bounding_box()
        bar = box(page, ".sticky-bar")
        assert heading is not None and heading["y"] + heading["height"] <= bar["y"]
        check_page(page, "member-campaign-390-en")

        page.goto("/me/apply")
        view = page.locator("#map-view")
        expect(view).to_be_visible()
        expect(view.locator(".map-tiles img").first).to_be_visible()
        expect(page.get_by_text("GCJ-02").first).to_be_visible()
        # A tap in the middle of the map picks the map's centre.
        view.scroll_into_view_if_needed()
        middle = box(page, "#map-view")
        page.mouse.click(middle["x"] + middle["width"] / 2, middle["y"] + middle["height"] / 2)
        lat = float(page.locator("#f-latitude").input_value())
        lon = float(page.locator("#f-longitude").input_value())
        assert abs(lat - 30.2741) < 0.001 and abs(lon - 120.1551) < 0.001, (lat, lon)
        expect(page.locator("#map-stored")).to_have_text(f"{lat}, {lon}")
        expect(page.locator(".map-marker")).to_be_visible()
        # + zooms in, a drag moves the map, and a second tap moves the point east.
        page.get_by_role("button", name="Zoom in").click()
        page.mouse.click(middle["x"] + middle["width"] * 0.75, middle["y"] + middle["height"] / 2)
        east = float(page.locator("#f-longitude").input_value())
        assert east > lon, (east, lon)
        # Typed coordinates move the pin and are what will be stored.
        page.locator("#f-latitude").fill("30.28")
        page.locator("#f-longitude").fill("120.16")
        expect(page.locator("#map-stored")).to_have_text("30.28, 120.16")
        check_page(page, "member-apply-map-390-en")
        page.get_by_label("Pickup point name").fill("5号楼自提点")
        page.get_by_label("Pickup point address").fill("幸福里 5 栋")
        page.get_by_role("button", name="Send the application").click()
        page.wait_for_url("**/me?done=applied")
    assert rows(
        "SELECT latitude, longitude FROM leader_applications WHERE name = '5号楼自提点'"
    ) == [(30.28, 120.16)]
