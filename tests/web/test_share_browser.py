"""Sharing in a chat, in a real browser on a phone, where only a browser can tell: the leader's
分享团期 copies the 接龙 text to the clipboard and shows the PNG poster; the share button opens
the phone's share sheet (navigator.share) with the link and title where the browser has one,
and copies the link where it has none; the page's script runs under the CSP (no inline
script) without a console error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, expect

from tests.web.browser import Site, check_page, failed_request, person
from tests.web.test_leader_pages import LEADER
from tests.web.test_share_pages import _open_listing
from tuangou import demo

# navigator.share as a phone has it: the data it was given is kept for the test to read.
FAKE_SHARE = """
window.__shared = [];
navigator.share = (data) => { window.__shared.push(data); return Promise.resolve(); };
"""


@contextmanager
def watched(page: Page) -> Iterator[list[str]]:
    """Console errors and failed requests of ``page``, which must stay none."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.extend(filter(None, [failed_request(r)])))
    yield problems
    assert not problems, problems


def _clipboard(page: Page) -> str:
    return str(page.evaluate("navigator.clipboard.readText()"))


def _open_share(page: Page, listing: int) -> None:
    page.goto(f"/leader/waves/{listing}")
    page.get_by_text("分享团期", exact=True).click()
    expect(page.locator("#chain-text")).to_be_visible()


def test_the_leader_copies_the_chain_text_and_shares_the_link_with_or_without_a_share_sheet(
    browser: Browser, site: Site
) -> None:
    listing, token = _open_listing(LEADER)
    link = f"{site.url}/w/{listing}?share={token}"
    with person(browser, site, LEADER) as page, watched(page):
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        _open_share(page, listing)
        assert page.evaluate("typeof navigator.share") == "undefined"  # desktop chromium
        poster = page.get_by_role("img", name=re.compile("分享海报"))
        poster.scroll_into_view_if_needed()
        poster.evaluate(
            """img => img.complete && img.naturalWidth > 0 ? true
                : new Promise((ok, fail) => { img.onload = () => ok(true);
                                             img.onerror = () => fail("poster failed"); })"""
        )
        assert poster.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [750, 1200]
        check_page(page, "leader-share-wave")

        page.get_by_role("button", name="复制文字").click()
        expect(page.locator("#share-status")).to_have_text("已复制")
        text = _clipboard(page)
        assert text.startswith(f"【{demo.LEADERS[0][4]}】{demo.WAVE_OPEN} · ")
        assert "1. 烟台红富士 3斤 ¥25.90" in text and text.endswith(f"跟团：{link}")

        # No share sheet: the share button copies the link, and says so.
        page.evaluate("navigator.clipboard.writeText('')")
        share = page.get_by_role("button", name="分享给好友")
        expect(share).to_be_visible()
        share.click()
        expect(page.locator("#share-status")).to_have_text("链接已复制, 粘贴到群聊即可")
        assert _clipboard(page) == link

    # A phone with a share sheet: the sheet gets the text (which ends with the link) and a
    # title, and nothing is copied.
    with person(browser, site, LEADER) as page, watched(page):
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
        page.add_init_script(FAKE_SHARE)
        _open_share(page, listing)
        page.evaluate("navigator.clipboard.writeText('unchanged')")
        page.get_by_role("button", name="分享给好友").click()
        shared = page.evaluate("window.__shared")
        assert len(shared) == 1
        assert shared[0]["title"].endswith(demo.WAVE_OPEN)
        assert shared[0]["text"].endswith(link)  # the 接龙 text already ends with the link
        assert "url" not in shared[0]
        assert _clipboard(page) == "unchanged"

        # The wave page as members see it: the link goes as the share's url, with a title.
        page.goto(f"/w/{listing}")
        page.get_by_role("button", name="分享给好友").click()
        member_shared = page.evaluate("window.__shared")[-1]
        assert member_shared["url"] == link and demo.WAVE_OPEN in member_shared["title"]
