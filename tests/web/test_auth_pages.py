"""Log-in, sign-up, the language switch and error pages, in a real browser."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.web.browser import Site, check_page, person


def test_log_in_shows_field_errors_in_the_users_language_and_keeps_what_was_typed(
    browser: Browser, site: Site
) -> None:
    with person(browser, site) as page:
        page.goto("/login")
        check_page(page, "login")
        page.get_by_label("手机号").fill("13800000001")
        page.get_by_label("密码", exact=True).fill("wrong-password")
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("alert")).to_have_text("手机号或密码错误")
        expect(page.get_by_label("手机号")).to_have_value("13800000001")
        expect(page.get_by_label("密码", exact=True)).to_have_value("")


def test_language_switch_translates_the_page_and_is_remembered(
    browser: Browser, site: Site
) -> None:
    with person(browser, site) as page:
        page.goto("/signup")
        expect(page.get_by_role("heading", level=1)).to_have_text("注册账号")
        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
        expect(page).to_have_url(f"{site.url}/signup")
        page.goto("/login")
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("Fill this in").first).to_be_visible()
        check_page(page, "login-en")
        page.get_by_role("link", name="中文").click()
        expect(page.get_by_role("button", name="登录")).to_be_visible()


def test_sign_up_logs_the_new_member_in(browser: Browser, site: Site) -> None:
    with person(browser, site) as page:
        page.goto("/signup")
        page.get_by_label("手机号").fill("13912345678")
        page.get_by_label("密码", exact=True).fill("short")
        page.get_by_label("昵称").fill("新邻居")
        page.get_by_role("button", name="注册账号").click()
        expect(page.get_by_text("至少 8 个字符").last).to_be_visible()
        expect(page.get_by_label("昵称")).to_have_value("新邻居")
        page.get_by_label("密码", exact=True).fill("long-enough-1")
        page.get_by_role("button", name="注册账号").click()
        expect(page).to_have_url(f"{site.url}/")


def test_an_unknown_page_is_a_clear_page_not_a_stack_trace(browser: Browser, site: Site) -> None:
    with person(browser, site) as page:
        response = page.goto("/no-such-page")
        assert response is not None and response.status == 404
        expect(page.get_by_role("alert")).to_have_text("页面不存在，或链接已失效")
