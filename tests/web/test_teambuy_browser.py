"""A team buy in a real browser at a phone's size: one member opens a team and pays, shares
it, and a second member joins through the share link and pays, until the team forms."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.web.browser import Site, check_page, person

EGGS = "土鸡蛋 · 2人团"  # the demo's two-person campaign


def _pay(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/pay/\d+$"))
    page.get_by_role("button", name="确认支付").click()
    expect(page).to_have_url(re.compile(r"/t/\d+$"))


def test_a_member_opens_a_team_and_a_friend_joins_through_the_share_link_until_it_forms(
    browser: Browser, site: Site
) -> None:
    with person(browser, site, "13800000001") as opener:
        opener.goto("/")
        expect(opener.get_by_role("heading", name="拼团", exact=True)).to_be_visible()
        expect(opener.get_by_role("link", name=re.compile("明日达"))).to_be_visible()
        check_page(opener, "member-home")

        opener.get_by_role("link", name=re.compile(EGGS)).first.click()  # the list, above 猜你喜欢
        expect(opener.get_by_role("heading", name="农家散养土鸡蛋 30枚")).to_be_visible()
        expect(opener.locator(".tb-prices .price")).to_have_text("¥35.90")
        expect(opener.locator(".tb-prices .price-old")).to_have_text("¥45.90")
        check_page(opener, "member-campaign")

        opener.get_by_role("button", name=re.compile("^开团")).click()
        _pay(opener)
        # The worker confirms the gateway's callback; the page reloads itself until then.
        expect(opener.get_by_text("还差 1 人成团")).to_be_visible()
        expect(opener.get_by_text("支付确认中")).to_have_count(0)
        team_path = opener.url.removeprefix(site.url)
        check_page(opener, "member-team")

        opener.get_by_role("link", name="邀请好友").click()
        expect(opener).to_have_url(f"{site.url}{team_path}/share")
        link = opener.get_by_label("分享链接")
        expect(link).to_have_value(f"{site.url}{team_path}")
        expect(opener.locator("svg.qr")).to_be_visible()
        poster = opener.get_by_role("img", name=re.compile("分享海报"))
        expect(poster).to_be_visible()
        # The poster is its own request: wait until the browser has drawn it (a broken image
        # never gets a natural width, so this fails on a poster the browser cannot show).
        poster.evaluate(
            """img => img.complete && img.naturalWidth > 0 ? true
                : new Promise((ok, fail) => { img.onload = () => ok(true);
                                             img.onerror = () => fail("poster failed"); })"""
        )
        assert poster.evaluate("img => img.naturalWidth") > 0
        check_page(opener, "member-share")
        share_url = link.input_value()

        with person(browser, site) as friend:
            friend.goto(share_url)  # not logged in yet: sees the team, logs in to join
            expect(friend.get_by_text("还差 1 人成团")).to_be_visible()
            friend.get_by_role("link", name=re.compile("^参团")).click()
            friend.get_by_label("手机号").fill("13800000002")
            friend.get_by_label("密码", exact=True).fill("demo1234")
            friend.locator("form button[type=submit]").click()
            expect(friend).to_have_url(share_url)
            friend.get_by_role("button", name=re.compile("^参团")).click()
            _pay(friend)
            expect(friend.locator(".result.ok")).to_have_text("✓ 已成团")
            expect(friend.get_by_text("2. 王*叔")).to_be_visible()

        opener.goto(team_path)
        expect(opener.locator(".result.ok")).to_have_text("✓ 已成团")
