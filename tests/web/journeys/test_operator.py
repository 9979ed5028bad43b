"""An operator's main journey at a desk (1366×900), in Chinese and in English: the dashboard
with its queues and charts; the order list searched by the end of a phone number and
filtered by status; a manual refund that needs a ticked confirmation and ends with a message
that it worked; a leader's application approved; a product category added.

Both languages work on the same demo site, each on a member, an applicant and a category of
its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from tests.web.browser import Site
from tests.web.journeys.journey import Journey
from tuangou import demo

OPERATOR = demo.OPERATOR_PHONE
PEOPLE = {
    # lang: (a member whose wave order has arrived, an applicant, their pickup point, a
    # category); the leader's journey finds these two members at her counter, and leaves
    # their goods waiting there.
    "zh-CN": (demo.MEMBERS[1], "13700009991", "桂花苑驿站", "饮品"),
    "en": (demo.MEMBERS[3], "13700009992", "Osmanthus Court kiosk", "Drinks"),
}


@pytest.fixture
def journey(
    browser: Browser, journey_site: Site, request: pytest.FixtureRequest, shots_root: Path
) -> Iterator[Journey]:
    yield Journey(browser, journey_site, "operator", request.param, shots_root)


def apply_to_lead(phone: str, point: str) -> int:
    """Someone applies to become a leader (through the service: not this journey's point)."""
    from tuangou.accounts import service as accounts
    from tuangou.communities import service as communities
    from tuangou.core.db import run_in_transaction

    def apply(session: Session) -> int:
        user = accounts.create_user(session, phone=phone, password="demo1234", nickname="新团长")
        where = communities.PickupPointInput(
            name=point, address="桂花路 8 号", latitude=30.25, longitude=120.16
        )
        return communities.apply(session, user.id, where).id

    return run_in_transaction(apply)


def section(journey: Journey, page: Page, name: str) -> None:
    page.get_by_role("navigation", name=journey.t("Console")).get_by_role(
        "link", name=journey.t(name), exact=True
    ).click()
    page.wait_for_load_state()


@pytest.mark.parametrize("journey", ["zh-CN", "en"], indirect=True)
def test_an_operator_reads_the_dashboard_refunds_an_order_and_approves_a_leader(
    journey: Journey,
) -> None:
    t = journey.t
    (member_phone, member_name), applicant, point, category = PEOPLE[journey.lang]
    application = apply_to_lead(applicant, point)
    with journey.person(OPERATOR, desk=True) as page:
        # The dashboard: queues first, then the charts.
        expect(page).to_have_url(re.compile(r"/ops$"))
        queue = page.locator(".ops-queue", has_text=t("Leader applications"))
        expect(queue.locator(".stat")).not_to_have_text("0")
        expect(page.locator(".ops-chart svg.chart-svg")).to_have_count(5)
        journey.step(page, "dashboard")

        # Orders: found by the end of the member's phone number, filtered to arrived ones.
        section(journey, page, "Orders")
        page.get_by_label(t("Search")).fill(member_phone[-4:])
        page.get_by_label(t("Status")).select_option("arrived")
        page.get_by_role("button", name=t("Filter")).click()
        found = page.locator("tr[id^=order-]")
        expect(found).to_have_count(1)
        expect(found).to_contain_text(member_name)
        expect(found).to_contain_text(demo.LEADERS[0][4])  # the community
        journey.step(page, "orders-found")

        # A partial refund: refused until the amount is confirmed, then done and said so.
        found.get_by_role("link").first.click()
        expect(page).to_have_url(re.compile(r"/ops/orders/\d+$"))
        order_path = page.url.removeprefix(journey.site.url)
        refund = page.locator("#refund")
        refund.get_by_label(t("Part of it")).check()
        refund.get_by_label(t("Amount (yuan)")).fill("1.50")
        note = "一份青菜有黄叶, 退您 1.5 元。" if not journey.english else "Some greens wilted."
        refund.get_by_label(t("Reason")).fill(note)
        journey.guard.allow(400, f"{order_path}/refund")
        refund.get_by_role("button", name=t("Refund"), exact=True).click()
        expect(page.locator("#e-confirm")).to_be_visible()
        expect(refund.get_by_label(t("Reason"))).to_have_value(note)  # what was typed stays
        journey.step(page, "refund-unconfirmed")
        page.locator("#f-confirm").check()
        refund.get_by_role("button", name=t("Refund"), exact=True).click()
        expect(page).to_have_url(re.compile(r"done=refunded"))
        expect(page.get_by_role("status").first).to_have_text(
            t("Refunded. The member sees the reason in the order and the inbox.")
        )
        expect(page.get_by_text(note).first).to_be_visible()
        journey.step(page, "refunded")

        # The leader application: approved, and said so.
        section(journey, page, "Leader applications")
        item = page.locator(f"#application-{application}")
        expect(item).to_contain_text(point)
        journey.step(page, "applications")
        item.get_by_role("button", name=t("Approve")).click()
        expect(page.get_by_role("status").first).to_be_visible()
        expect(page.locator(f"#application-{application}")).to_have_count(0)
        journey.step(page, "application-approved")

        # Categories of the members' strip: one more.
        section(journey, page, "Products")
        new = page.locator("form[action='/ops/categories']")
        new.get_by_label(t("Name")).fill(category)
        journey.step(page, "categories")
        new.get_by_role("button").click()
        expect(page).to_have_url(re.compile(r"done=saved"))
        expect(page.locator(f'input[name="name"][value="{category}"]')).to_have_count(1)
        journey.step(page, "category-added")
