"""Search and categories in a real browser at a phone's size: a member types 苹果 into the
home's box and sees the 红富士 team buy and their community's wave, with the words marked;
taps a category (a wave is in each of its items' categories); finds nothing and is told
so."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.web.browser import Site, check_page, person


def test_a_member_searches_and_filters_the_home(browser: Browser, site: Site) -> None:
    with person(browser, site, "13800000001") as member:
        member.goto("/")
        box = member.get_by_role("searchbox", name="搜索")
        box.fill("苹果")
        box.press("Enter")
        expect(member).to_have_url(re.compile(r"/\?q=%E8%8B%B9%E6%9E%9C$"))
        expect(member.get_by_role("status")).to_contain_text("“苹果”的搜索结果 2 个")
        expect(member.get_by_role("link", name=re.compile("红富士苹果 · 阶梯拼团"))).to_be_visible()
        expect(member.get_by_role("link", name=re.compile("明日达"))).to_be_visible()
        expect(member.locator("mark", has_text="苹果").first).to_be_visible()
        check_page(member, "member-search")

        strip = member.get_by_role("navigation", name="分类")
        strip.get_by_role("link", name="肉禽蛋").click()
        # 苹果 among 肉禽蛋: the wave (it has eggs too), not the apples' team buy.
        expect(member.get_by_role("status")).to_contain_text("“苹果”的搜索结果 1 个")
        expect(member.get_by_role("link", name=re.compile("明日达"))).to_be_visible()
        member.get_by_role("navigation", name="分类").get_by_role("link", name="日用").click()
        expect(member.get_by_role("heading", name="没有找到")).to_be_visible()
        member.get_by_role("link", name="查看全部").click()
        member.get_by_role("navigation", name="分类").get_by_role("link", name="肉禽蛋").click()
        expect(member.get_by_role("link", name=re.compile("土鸡蛋 · 2人团"))).to_be_visible()
        expect(member.get_by_role("link", name=re.compile("红富士苹果 · 阶梯拼团"))).to_have_count(
            0
        )
        check_page(member, "member-category")
