"""The checkout's address step in a real browser at 390×844: a member without an address is
sent to add one, comes back to the same step with it chosen, opens a team and sees the
address on the pay page and on the order."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.web.browser import Site, check_page, failed_request, log_in, shot

EGGS = "土鸡蛋 · 2人团"  # the demo's two-person campaign
PHONE_390 = {"width": 390, "height": 844}


def test_a_member_adds_an_address_at_checkout_and_sees_it_on_the_pay_page_and_the_order(
    browser: Browser, site: Site
) -> None:
    context = browser.new_context(
        base_url=site.url,
        viewport=PHONE_390,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    refused: list[str] = []
    # Statuses are checked by their responses below; other console errors are problems.
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("requestfailed", lambda r: problems.extend(filter(None, [failed_request(r)])))
    page.on(
        "response",
        lambda r: (
            refused.append(f"{r.status} {r.url.removeprefix(site.url)}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")  # no favicon yet (issue 11)
            else None
        ),
    )
    try:
        log_in(page, "13800000004")  # a demo member with one address: delete it first
        page.goto("/me")
        page.get_by_role("link", name=re.compile("收货地址")).click()
        expect(page).to_have_url(re.compile(r"/me/addresses$"))
        check_page(page, "member-addresses")
        page.get_by_role("button", name="删除").click()
        expect(page.get_by_text("还没有收货地址")).to_be_visible()

        page.goto("/")
        page.get_by_role("link", name=re.compile(EGGS)).first.click()  # the list, above 猜你喜欢
        campaign_path = page.url.removeprefix(site.url)
        expect(page.get_by_text("请先添加收货地址")).to_be_visible()
        page.get_by_role("link", name="添加收货地址后继续").click()
        expect(page).to_have_url(re.compile(r"/me/addresses/new\?next="))
        page.get_by_label("收件人", exact=True).fill("陈大明")
        page.get_by_label("收件人电话").fill("1380000")
        page.get_by_label("所在地区 (省 市 区)").fill("浙江省 杭州市 拱墅区")
        page.get_by_label("详细地址 (街道、楼栋、门牌)").fill("和睦新村 12 幢 402")
        page.get_by_role("button", name="保存地址").click()
        # A wrong field is named next to it; what was typed stays.
        expect(page.locator("#e-phone")).to_contain_text("手机号不正确")
        expect(page.get_by_label("详细地址 (街道、楼栋、门牌)")).to_have_value("和睦新村 12 幢 402")
        check_page(page, "member-address-form-error")
        page.get_by_label("收件人电话").fill("13800000004")
        page.get_by_role("button", name="保存地址").click()

        # Back at the same step, the new address chosen.
        expect(page).to_have_url(re.compile(re.escape(campaign_path) + r"\?address=\d+$"))
        choice = page.get_by_role("radio", name=re.compile("陈大明"))
        expect(choice).to_be_checked()
        expect(page.locator("#checkout-address")).to_contain_text("和睦新村 12 幢 402")
        check_page(page, "member-campaign-address")

        page.get_by_role("button", name=re.compile("^开团")).click()
        expect(page).to_have_url(re.compile(r"/pay/\d+$"))
        expect(page.locator("#ship-to")).to_contain_text("浙江省 杭州市 拱墅区 和睦新村 12 幢 402")
        check_page(page, "member-pay-address")
        order_link = page.locator(".tb-facts a").first
        order_path = order_link.get_attribute("href")
        page.get_by_role("button", name="确认支付").click()
        expect(page).to_have_url(re.compile(r"/t/\d+$"))

        page.goto(str(order_path))
        expect(page.locator("#ship-to")).to_contain_text("和睦新村 12 幢 402")
        shot(page, "member-order-address")
        assert not problems, problems
        assert refused == ["400 /me/addresses/new"], refused  # only the wrong phone number
    finally:
        context.close()
