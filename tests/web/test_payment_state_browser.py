"""The stale payment page, in a real browser at a phone's size: the sandbox gateway confirms
a few seconds after the payer approves (as a real gateway's callback does). Back from the
gateway, the order page and the team page say 支付确认中, offer nothing to pay, and turn to
the paid state by themselves, without a manual reload."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.server import Server, pointed_at
from tests.web.browser import Site, check_page, failed_request, person
from tuangou import demo

MEMBER = demo.MEMBERS[2][0]  # 张小红: in 幸福里邻里团, nothing in the open wave yet
EGGS = "土鸡蛋 · 2人团"  # the demo's two-person campaign
CALLBACK_DELAY_MS = 4000


@pytest.fixture
def slow_site(tmp_path: Path) -> Iterator[Site]:
    """The demo site whose sandbox gateway calls back 4 s after a payment is approved."""
    url = f"sqlite:///{tmp_path / 'site.db'}"
    with pointed_at(url):
        demo.load()
        server = Server(
            url,
            env={
                "TUANGOU_UPLOAD_DIR": str(tmp_path / "uploads"),
                "TUANGOU_SANDBOX_CALLBACK_DELAY_MS": str(CALLBACK_DELAY_MS),
            },
        )
        server.start()
        try:
            yield Site(server.url, url, server)
        finally:
            server.stop()


def test_the_order_and_team_pages_confirm_a_payment_by_themselves(
    browser: Browser, slow_site: Site
) -> None:
    with person(browser, slow_site, MEMBER) as member:
        problems: list[str] = []
        member.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        member.on("requestfailed", lambda r: problems.extend(filter(None, [failed_request(r)])))

        # A wave order: pay, come back to the order page.
        member.goto("/communities")
        member.get_by_role("link", name=demo.WAVE_OPEN).click()
        eggs = member.locator("li.wave-item", has_text="农家土鸡蛋")
        eggs.get_by_role("button", name="增加一份").click()
        member.get_by_role("button", name="跟团", exact=True).click()
        expect(member).to_have_url(re.compile(r"/pay/\d+$"))
        member.locator("button[name=outcome][value=approve]").click()
        expect(member).to_have_url(re.compile(r"/orders/\d+$"))
        status = member.locator("#order-status")
        expect(status).to_have_text("支付确认中")
        for never in ("待支付", "立即支付", "取消订单"):
            expect(member.get_by_text(never, exact=True)).to_have_count(0)
        expect(member.get_by_role("link", name="刷新")).to_be_visible()
        check_page(member, "member-order-confirming")
        # Nobody touches the page: it asks, and shows the paid order once the callback lands.
        expect(status).to_have_text("待截单", timeout=CALLBACK_DELAY_MS + 20_000)
        expect(member.get_by_text("支付确认中")).to_have_count(0)
        expect(member.locator(".timeline li.done").first).to_contain_text("已支付")

        # A team: the opener pays and comes back to the team page.
        member.goto("/")
        member.get_by_role("link", name=re.compile(EGGS)).first.click()  # the list, above 猜你喜欢
        member.get_by_role("button", name=re.compile("^开团")).click()
        expect(member).to_have_url(re.compile(r"/pay/\d+$"))
        member.get_by_role("button", name="确认支付").click()
        expect(member).to_have_url(re.compile(r"/t/\d+$"))
        expect(member.locator(".tb-status")).to_contain_text("支付确认中")
        expect(member.get_by_text("等待开团人支付")).to_have_count(0)
        expect(member.get_by_role("link", name="立即支付")).to_have_count(0)
        check_page(member, "member-team-confirming")
        expect(member.get_by_text("还差 1 人成团")).to_be_visible(
            timeout=CALLBACK_DELAY_MS + 20_000
        )
        expect(member.get_by_text("支付确认中")).to_have_count(0)
        expect(member.get_by_role("link", name="邀请好友")).to_be_visible()
        assert not problems, problems
