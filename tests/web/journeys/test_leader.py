"""A leader's main journey on a phone (390×844), in Chinese and in English: from the member's
pages to the console (Today), publish a wave, verify a pickup code typed at the counter,
find a member who lost their code by the end of their phone number, and withdraw
commission.

Both languages are 李团长's: each verifies the code of a member of its own (the goods of four
members wait at her pickup point), and withdraws ¥1.00 of the ¥2.10 her sub-leader's sales
earned her."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.server import rows
from tests.web.browser import Site
from tests.web.journeys.journey import Journey
from tuangou import demo

LEADER = demo.LEADERS[0][0]  # 李团长
PEOPLE = {
    # lang: (whose code is typed, who lost their code); the operator's journey refunds part
    # of the second's order (which leaves it waiting here), nobody else touches the first's.
    "zh-CN": (demo.MEMBERS[0][0], demo.MEMBERS[1][0]),
    "en": (demo.MEMBERS[2][0], demo.MEMBERS[3][0]),
}


@pytest.fixture
def journey(
    browser: Browser, journey_site: Site, request: pytest.FixtureRequest, shots_root: Path
) -> Iterator[Journey]:
    yield Journey(browser, journey_site, "leader", request.param, shots_root)


def waiting_here(member: str) -> tuple[str, str]:
    """(code, nickname) of the member whose goods wait at 李团长's pickup point."""
    ((code, nickname),) = rows(
        "SELECT p.code, u.nickname FROM pickups p"
        " JOIN orders o ON o.id = p.order_id JOIN users u ON u.id = o.user_id"
        " JOIN pickup_points pp ON pp.id = p.pickup_point_id"
        " JOIN leaders l ON l.id = pp.leader_id JOIN users lu ON lu.id = l.user_id"
        " WHERE lu.phone = :leader AND u.phone = :member AND p.status = 'waiting'",
        leader=LEADER,
        member=member,
    )
    return str(code), str(nickname)


def after_sale_window_passed() -> None:
    """The after-sale window of last week's pickups closes (the worker's job, run here a
    week ahead): the commission they earned becomes available to withdraw."""
    from tuangou.commission import tasks
    from tuangou.core import clock

    before = clock.offset()
    clock.set_offset(before + timedelta(days=8))
    try:
        tasks.unfreeze_due()
    finally:
        clock.set_offset(before)


def masked(nickname: str) -> str:
    return nickname[0] + "*" + nickname[-1]


def console(journey: Journey, page: Page, section: str) -> None:
    """Go to a section of the leader console by its tab."""
    page.get_by_role("navigation", name=journey.t("Leader console")).get_by_role(
        "link", name=journey.t(section), exact=True
    ).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("journey", ["zh-CN", "en"], indirect=True)
def test_a_leader_publishes_verifies_pickups_and_withdraws(journey: Journey) -> None:
    t = journey.t
    typer, loser = PEOPLE[journey.lang]
    typed, typed_name = waiting_here(typer)
    _, lost_name = waiting_here(loser)
    after_sale_window_passed()
    with journey.person(LEADER) as page:
        # From the member's pages (a leader buys too) to the console, through 我的.
        page.get_by_role("navigation", name=t("Main")).get_by_role(
            "link", name=re.compile(t("Me"))
        ).click()
        page.get_by_role("link", name=t("Leader console")).click()
        expect(page).to_have_url(re.compile(r"/leader$"))
        expect(page.get_by_role("heading", name=t("Waves open for orders"))).to_be_visible()
        expect(page.locator("nav.tabbar")).to_have_count(0)  # the member's tab bar
        journey.step(page, "today")

        # Publish a wave of greens for tomorrow.
        console(journey, page, "Publish")
        title = "周三 · 本地小青菜" if not journey.english else "Wednesday greens"
        page.get_by_label(t("Title")).fill(title)
        product = page.get_by_label(t("Product"), exact=True).first
        option = product.locator("option", has_text="本地小青菜 500g").first
        product.select_option(str(option.get_attribute("value")))
        page.get_by_label(t("Price (¥)")).first.fill("3.90")
        page.get_by_label(t("Minimum total (MOQ)")).first.fill("10")
        journey.step(page, "publish")
        page.get_by_role("button", name=t("Publish"), exact=True).click()
        expect(page).to_have_url(re.compile(r"/leader/waves/\d+$"))
        expect(page.get_by_role("status").first).to_contain_text(
            t("Published. Share the wave in your community.")
        )
        expect(page.get_by_text(title).first).to_be_visible()
        journey.step(page, "published")

        # The pickup counter: a code typed (as a scanner types it), then a lookup.
        console(journey, page, "Pickup counter")
        box = page.get_by_label(t("Pickup code"), exact=True)
        expect(box).to_be_focused()
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
        result = page.locator("#pickup-result")
        expect(result).to_have_attribute("data-result", "ok")
        expect(result).to_contain_text(f"✓ {masked(typed_name)}")
        journey.step(page, "pickup-verified")

        page.get_by_label(t("Last 4 digits of the phone")).fill(loser[-4:])
        page.get_by_role("button", name=t("Find"), exact=True).click()
        found = page.locator("#lookup-rows li")
        expect(found).to_have_count(1)
        expect(found).to_contain_text(masked(lost_name))
        expect(found.get_by_role("button", name=t("Hand over to this member"))).to_be_visible()
        journey.step(page, "pickup-lookup")

        # Commission: withdraw ¥1.00 of what became available.
        console(journey, page, "Commission")
        page.get_by_label(t("Amount (¥)")).fill("1.00")
        journey.step(page, "commission")
        page.get_by_role("button", name=t("Request a withdrawal")).click()
        expect(page.get_by_role("status").first).to_contain_text(
            t("Withdrawal requested. An operator will review it.")
        )
        history = page.locator("section", has=page.locator("#h-withdrawals"))
        expect(history.get_by_text(t("Under review")).first).to_be_visible()
        journey.step(page, "withdrawal-requested")
