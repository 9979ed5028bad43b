"""A member's main journey on a phone (390×844), in Chinese and in English: log in, search the
home and its category strip, open a team with an address and pay (支付确认中, then paid),
share the team; a friend signs up from the share link, joins and pays, and the team forms;
then a wave (接龙): order, pay, see 你已跟团, cancel before the cut-off; the inbox with its
badge; the order list's tabs; and an after-sale report on an order picked up earlier.

Each language walks a member of its own through the same demo site (刘婷 in Chinese, 赵六 in
English) and signs up a friend of its own."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.server import rows
from tests.web.browser import Site
from tests.web.journeys.journey import Journey
from tuangou import demo

EGGS = "土鸡蛋 · 2人团"  # the demo's two-person campaign
LEADER = demo.LEADERS[0][0]  # 李团长, whose community both members are in
PEOPLE = {
    # lang: (member, the friend who signs up, the friend's nickname)
    "zh-CN": (demo.MEMBERS[4][0], "13712340001", "周小雨"),
    "en": (demo.MEMBERS[5][0], "13712340002", "Amy Zhou"),
}
# The payment lands a moment after it was approved (the site's gateway calls back late).
PAID_WITHIN_MS = 30_000


@pytest.fixture
def journey(
    browser: Browser, journey_site: Site, request: pytest.FixtureRequest, shots_root: Path
) -> Iterator[Journey]:
    yield Journey(browser, journey_site, "member", request.param, shots_root)


def listing_of(leader_phone: str) -> int:
    """The open wave's listing at this leader's community."""
    ((listing,),) = rows(
        "SELECT wl.id FROM waves w JOIN wave_listings wl ON wl.wave_id = w.id"
        " JOIN leaders l ON l.id = wl.leader_id JOIN users u ON u.id = l.user_id"
        " WHERE w.title = :t AND u.phone = :p",
        t=demo.WAVE_OPEN,
        p=leader_phone,
    )
    return int(listing)


def default_address(phone: str) -> str:
    ((detail,),) = rows(
        "SELECT a.detail FROM member_addresses a JOIN users u ON u.id = a.user_id"
        " WHERE u.phone = :p AND a.is_default",
        p=phone,
    )
    return str(detail)


def photo() -> bytes:
    """A small PNG, as a phone's photo of a broken box would be (smaller)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, format="PNG")
    return out.getvalue()


def pay(journey: Journey, page: Page, back_to: str) -> None:
    """On the sandbox gateway's page: approve; back at ``back_to`` (a URL pattern)."""
    t = journey.t
    expect(page).to_have_url(re.compile(r"/pay/\d+$"))
    page.get_by_role("button", name=t("Confirm payment")).click()
    expect(page).to_have_url(re.compile(back_to))


def tab(page: Page, key: str, name: str) -> Locator:
    """A tab of 我的订单 (``?tab=key``), which reads ``name`` and its count."""
    found = page.locator(f'a[href="/orders?tab={key}"]')
    expect(found).to_contain_text(name)
    return found


@pytest.mark.parametrize("journey", ["zh-CN", "en"], indirect=True)
def test_a_member_buys_in_a_team_and_a_wave_and_reports_a_problem(journey: Journey) -> None:
    t = journey.t
    member, friend_phone, friend_name = PEOPLE[journey.lang]
    with journey.person(member) as page:
        # Home: the search box and the category strip.
        expect(page).to_have_url(re.compile(r"/$"))
        search = page.get_by_role("searchbox", name=t("Search"))
        expect(search).to_be_visible()
        strip = page.get_by_role("navigation", name=t("Categories"))
        expect(strip.get_by_role("link", name="肉禽蛋")).to_be_visible()
        journey.step(page, "home")
        search.fill("苹果")
        search.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("“苹果”")
        expect(page.get_by_role("link", name=re.compile("红富士苹果 · 阶梯拼团"))).to_be_visible()
        expect(page.locator("mark", has_text="苹果").first).to_be_visible()
        journey.step(page, "search")
        page.goto("/")
        page.get_by_role("navigation", name=t("Categories")).get_by_role(
            "link", name="肉禽蛋"
        ).click()
        expect(page.get_by_role("link", name=re.compile(EGGS))).to_be_visible()
        expect(page.get_by_role("link", name=re.compile("红富士苹果 · 阶梯拼团"))).to_have_count(0)
        journey.step(page, "category")

        # A team buy: open a team, shipped to the default address, and pay.
        page.get_by_role("link", name=re.compile(EGGS)).click()
        address = default_address(member)
        expect(page.locator("#checkout-address")).to_contain_text(address)
        journey.step(page, "campaign")
        page.get_by_role("button", name=re.compile("^" + re.escape(t("Open a team")))).click()
        expect(page).to_have_url(re.compile(r"/pay/\d+$"))
        expect(page.locator("#ship-to")).to_contain_text(address)
        journey.step(page, "pay")
        pay(journey, page, r"/t/\d+$")
        team_path = page.url.removeprefix(journey.site.url)
        # Back from the gateway before it confirmed: nothing to pay twice, and the page
        # turns to the open team by itself.
        expect(page.locator(".tb-status")).to_contain_text(t("Confirming payment…"))
        expect(page.get_by_role("link", name=t("Pay now"))).to_have_count(0)
        journey.step(page, "team-confirming")
        expect(page.get_by_text(t("%(n)s more to form", n=1))).to_be_visible(timeout=PAID_WITHIN_MS)
        expect(page.get_by_text(t("Confirming payment…"))).to_have_count(0)
        journey.step(page, "team-open")

        page.get_by_role("link", name=t("Invite friends")).click()
        link = page.get_by_label(t("Share link"))
        expect(link).to_have_value(f"{journey.site.url}{team_path}")
        journey.step(page, "share")
        share_url = link.input_value()

        # A friend opens the link, signs up on the way, joins and pays: the team forms.
        with journey.person(start=share_url) as friend:
            expect(friend.get_by_text(t("%(n)s more to form", n=1))).to_be_visible()
            journey.step(friend, "friend-team")
            friend.get_by_role("link", name=re.compile("^" + re.escape(t("Join the team")))).click()
            friend.get_by_role("link", name=t("Create an account")).click()
            friend.get_by_label(t("Mobile number")).fill(friend_phone)
            friend.get_by_label(t("Password"), exact=True).fill("demo1234")
            friend.get_by_label(t("Nickname")).fill(friend_name)
            friend.get_by_label(t("Recipient"), exact=True).fill(friend_name)
            friend.get_by_label(t("Address"), exact=True).fill("幸福里小区 7 栋 1 单元 201")
            journey.step(friend, "friend-signup")
            friend.get_by_role("button", name=t("Create an account")).click()
            expect(friend).to_have_url(share_url)
            friend.get_by_role(
                "button", name=re.compile("^" + re.escape(t("Join the team")))
            ).click()
            expect(friend.locator("#ship-to")).to_contain_text("幸福里小区 7 栋 1 单元 201")
            pay(journey, friend, r"/t/\d+$")
            expect(friend.locator(".result.ok")).to_have_text(
                "✓ " + t("Formed"), timeout=PAID_WITHIN_MS
            )
            journey.step(friend, "friend-formed")

        page.goto(team_path)
        expect(page.locator(".result.ok")).to_have_text("✓ " + t("Formed"))
        expect(page.get_by_role("link", name=t("View order"))).to_be_visible()
        journey.step(page, "team-formed")

        # A wave (接龙) of the member's community: order, pay, see it joined, cancel. (The
        # team page shows its action bar alone: the tab bar is on the home page.)
        page.goto("/")
        page.get_by_role("navigation", name=t("Main")).get_by_role(
            "link", name=t("Communities")
        ).click()
        listing = listing_of(LEADER)
        expect(page.locator(f'a[href="/w/{listing}"]').first).to_be_visible()
        journey.step(page, "communities")
        page.locator(f'a[href="/w/{listing}"]').first.click()
        eggs = page.locator("li.wave-item", has_text="农家土鸡蛋")
        eggs.get_by_role("button", name=t("One more")).click()
        expect(page.locator("[data-total-of]")).to_have_text("¥22.90")
        journey.step(page, "wave")
        page.get_by_role("button", name=t("Join the chain"), exact=True).click()
        expect(page).to_have_url(re.compile(r"/pay/\d+$"))
        journey.step(page, "wave-pay")
        pay(journey, page, r"/orders/\d+$")
        order_path = page.url.removeprefix(journey.site.url)
        status = page.locator("#order-status")
        expect(status).to_have_text(t("Confirming payment…"))
        journey.step(page, "wave-order-confirming")
        expect(status).to_have_text(t("Waiting for the cut-off"), timeout=PAID_WITHIN_MS)
        journey.step(page, "wave-order-paid")
        page.get_by_role("link", name=t("Back to the wave")).click()
        expect(page.locator("#you-joined")).to_contain_text(t("You have joined this chain"))
        journey.step(page, "wave-joined")

        page.goto(order_path)
        # What was paid (¥22.90, less the member's level discount when they have one) is what
        # cancelling gives back.
        amount = page.get_by_role("row", name=t("Order amount")).locator("td").inner_text()
        assert amount.startswith("¥"), amount
        page.locator("#cancel-paid summary").click()
        expect(page.locator("#cancel-paid")).to_contain_text(amount)
        journey.step(page, "wave-cancel-confirm")
        page.get_by_role("button", name=t("Yes, cancel and refund")).click()
        expect(page.locator("#done-withdrawn")).to_be_visible()
        expect(status).not_to_have_text(t("Waiting for the cut-off"))
        journey.step(page, "wave-cancelled")

        # The inbox: the badge on 我的, and a message that names the team buy and opens it.
        tabbar = page.get_by_role("navigation", name=t("Main"))
        badge = tabbar.locator("#tab-unread")
        expect(badge).to_be_visible()
        tabbar.get_by_role("link", name=re.compile(t("Me"))).click()
        page.get_by_role("link", name=re.compile(t("Inbox"))).click()
        formed = page.locator(".inbox-item.unread", has_text=t("Formed")).filter(has_text="土鸡蛋")
        expect(formed.first).to_be_visible()
        journey.step(page, "inbox")
        formed.first.get_by_role("button").click()
        expect(page).to_have_url(re.compile(r"/(t|orders)/\d+$"))

        # 我的订单's tabs: the formed team waits to ship, the cancelled order is a refund.
        page.goto("/orders")
        journey.step(page, "orders")
        tab(page, "receiving", t("To ship / pick up")).click()
        expect(page.locator("main a[href^='/orders/']", has_text="土鸡蛋").first).to_be_visible()
        journey.step(page, "orders-to-ship")
        tab(page, "aftersale", t("Refunds / after-sales")).click()
        expect(page.locator(f'main a[href="{order_path}"]')).to_be_visible()
        journey.step(page, "orders-refunds")

        # After-sales on an order picked up earlier this week.
        tab(page, "completed", t("Completed")).click()
        page.locator("main a[href^='/orders/']", has_text=demo.WAVE_COMPLETED).first.click()
        page.get_by_role("link", name=t("Report a problem")).click()
        expect(page.locator("#decider")).to_be_visible()
        page.get_by_label(t("What went wrong")).select_option("damaged")
        page.locator("input[id^=f-line_]").first.fill("1")
        page.get_by_label(t("Describe the problem")).fill("一盒鸡蛋碎了两个")
        page.locator("#f-photos").set_input_files(
            {"name": "box.png", "mimeType": "image/png", "buffer": photo()}
        )
        journey.step(page, "aftersale-form")
        page.get_by_role("button", name=t("Send the report")).click()
        expect(page).to_have_url(re.compile(r"/aftersale\?done=reported$"))
        expect(page.get_by_role("status").first).to_be_visible()
        journey.step(page, "aftersale-reported")
