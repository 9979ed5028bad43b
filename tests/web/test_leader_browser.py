"""The leader at her pickup counter, on a phone, in a real browser: the demo's arrived wave
has codes waiting; a code is green once, then red as already used; a code of another
leader's pickup point is red; and the console's main pages pass the accessibility basics
without sideways scrolling."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.web.browser import Site, check_page, person
from tests.web.test_leader_pages import (
    LEADER,
    SUB_LEADER,
    leader_ids,
    shared_wave_arrived,
    waiting_codes,
)

GREEN = "rgb(26, 127, 55)"
RED = "rgb(224, 46, 36)"


def type_code(page: Page, code: str) -> None:
    """What a scanner does: type the digits into the focused box, then Enter."""
    box = page.get_by_label("提货码", exact=True)
    expect(box).to_be_focused()  # autofocus: the leader can scan at once
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


def result(page: Page) -> tuple[str, str]:
    shown = page.locator("#pickup-result")
    expect(shown).to_be_visible()
    colour = shown.evaluate("el => getComputedStyle(el).backgroundColor")
    return colour, " ".join(shown.inner_text().split())


def test_the_leader_verifies_pickup_codes_at_her_counter(browser: Browser, site: Site) -> None:
    point = leader_ids(LEADER)["point"]
    code, nickname = waiting_codes(point)[0]
    masked = nickname[0] + "*" + nickname[-1]
    with person(browser, site, LEADER) as page:
        page.goto("/leader")
        expect(page.get_by_role("heading", name="进行中的接龙")).to_be_visible()
        expect(page.get_by_text(re.compile(r"已团 \d+/20 份")).first).to_be_visible()
        check_page(page, "leader-today")

        page.get_by_role("link", name="去核销").click()
        type_code(page, code)
        colour, text = result(page)
        assert colour == GREEN and text.startswith(f"✓ {masked} · 砀山酥梨 5斤×1"), text
        expect(page.get_by_role("heading", name=re.compile(r"待提货 \(3\)"))).to_be_visible()
        check_page(page, "leader-pickup")

        type_code(page, code)
        colour, text = result(page)
        assert colour == RED and re.search(r"已提货 \(\d\d:\d\d\)", text), text

        # A wave of two leaders has arrived at the other leader's point; the goods for
        # this counter are on their way, and she confirms them from Today.
        shared = shared_wave_arrived(receive=(SUB_LEADER,))
        page.goto("/leader")
        page.get_by_role("button", name="确认收货").click()
        page.wait_for_load_state()
        assert "/leader/pickup" in page.url
        expect(page.get_by_text("已确认收货，已向 1 位团员发送提货码。")).to_be_visible()
        type_code(page, shared.codes[SUB_LEADER])
        colour, text = result(page)
        assert colour == RED and "不是本提货点的订单" in text, text

        for path, name in (
            ("/leader/money", "leader-money"),
            ("/leader/credit", "leader-credit"),
            ("/leader/communities", "leader-communities"),
            ("/leader/waves/new", "leader-publish"),
        ):
            page.goto(path)
            expect(page.locator("main")).to_be_visible()
            check_page(page, name)
        expect(page.get_by_label("截单时间")).to_be_visible()
        # Every section of the console is in sight on the phone (none cut off at the edge),
        # and the member's tab bar is not in the way.
        width = page.viewport_size["width"] if page.viewport_size else 0
        tabs = page.locator("nav.subnav a")
        assert tabs.count() == 11
        for i in range(tabs.count()):
            box = tabs.nth(i).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (i, box, width)
        expect(page.locator("nav.tabbar")).to_have_count(0)
