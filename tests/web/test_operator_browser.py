"""The operator console in a real browser, at a desk: approving a leader, and the main pages."""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from tests.web.browser import Site, check_page, person
from tuangou.accounts import service as accounts
from tuangou.communities import service as communities
from tuangou.core.db import read, run_in_transaction
from tuangou.pools import service as pools

APPLICANT = "13700009999"


def test_an_operator_approves_a_leader_and_reads_the_console(browser: Browser, site: Site) -> None:
    def apply(session: Session) -> int:
        user = accounts.create_user(
            session, phone=APPLICANT, password="demo1234", nickname="新团长"
        )
        point = communities.PickupPointInput(
            name="桂花苑驿站", address="桂花路 8 号", latitude=30.25, longitude=120.16
        )
        return communities.apply(session, user.id, point).id

    application_id = run_in_transaction(apply)
    with person(browser, site, "13800000000", desk=True) as page:
        # the log-in lands on the dashboard: queues first, then the charts
        expect(page).to_have_url(re.compile(r"/ops$"))
        queue = page.locator(".ops-queue", has_text="团长申请")
        expect(queue.locator(".stat")).to_have_text("1")
        expect(page.locator(".ops-chart svg.chart-svg")).to_have_count(5)
        check_page(page, "ops-dashboard")

        queue.click()
        item = page.locator(f"#application-{application_id}")
        expect(item).to_contain_text("桂花苑驿站")
        check_page(page, "ops-applications")
        item.get_by_role("button", name="通过").click()
        expect(page.get_by_text("没有待审核的申请。")).to_be_visible()

        page.get_by_role("link", name="拼团活动").click()
        expect(page.locator("tr[id^=campaign-]").first).to_be_visible()
        check_page(page, "ops-campaigns")

        page.get_by_role("link", name="订单", exact=True).click()
        expect(page.locator("tbody a").first).to_be_visible()
        check_page(page, "ops-orders")

        wave = read(lambda s: pools.all_waves(s)[0].id)
        page.goto(f"/ops/waves/{wave}/purchase-order")
        expect(page.get_by_role("link", name="下载 CSV")).to_be_visible()
        check_page(page, "ops-purchase-order")

    def is_leader(session: Session) -> bool:
        app = communities.get_application(session, application_id)
        leader = communities.find_leader_by_user(session, app.user_id)
        return app.status == "approved" and leader is not None and leader.status == "active"

    assert read(is_leader)


TICK_BOXES = """() => [...document.querySelectorAll(".ops-chart svg.chart-svg")].map((svg) => {
  const frame = svg.getBoundingClientRect();
  return {
    frame: { left: frame.left, right: frame.right },
    ticks: [...svg.querySelectorAll("text[data-tick]")].map((t) => {
      const box = t.getBoundingClientRect();
      return { text: t.textContent, left: box.left, right: box.right };
    }),
  };
})"""


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("desk", [True, False], ids=["desk", "phone"])
def test_the_daily_charts_ticks_never_overlap(
    browser: Browser, site: Site, lang: str, desk: bool
) -> None:
    with person(browser, site, "13800000000", desk=desk, lang=lang) as page:
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto("/ops")
        expect(page.locator(".ops-chart svg.chart-svg")).to_have_count(5)
        charts = [c for c in page.evaluate(TICK_BOXES) if c["ticks"]]
        assert len(charts) == 2  # the GMV and the rates, over the last 30 days
        for chart in charts:
            ticks = chart["ticks"]
            assert 4 <= len(ticks) <= 8, ticks
            pattern = r"\d{1,2}月\d{1,2}日" if lang == "zh-CN" else r"[A-Z][a-z]{2} \d{1,2}"
            assert all(re.fullmatch(pattern, t["text"]) for t in ticks), ticks
            for before, after in itertools.pairwise(ticks):
                assert before["right"] + 2 <= after["left"], (before, after)
            assert chart["frame"]["left"] <= ticks[0]["left"]
            assert ticks[-1]["right"] <= chart["frame"]["right"] + 0.5
        # no chart library: the page, its styles and the app's one small script
        assert not [u for u in requested if "plotly" in u or "vendor" in u], requested
        check_page(page, f"ops-dashboard-{lang}-{'desk' if desk else 'phone'}")
