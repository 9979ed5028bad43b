"""A member reviews an order picked up earlier (晒单) on a phone (390×844): the order's 写评价
button, the form with stars, text and a photo from the file chooser (its preview shown before
sending), and the review on the product's page, marked 已购买 · verified buyer.

吴姐 walks it: the demo's completed wave gave her bread (reviewed already in the demo) and
eggs (hers to review); no other journey uses her."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.server import rows
from tests.web.browser import Site
from tests.web.journeys.journey import Journey
from tuangou import demo

MEMBER = demo.NEIGHBOURS[2][0]  # 吴姐
TEXT = "鸡蛋个个完好, 蛋黄很香, 下次还买。"


@pytest.fixture
def journey(browser: Browser, journey_site: Site, shots_root: Path) -> Iterator[Journey]:
    yield Journey(browser, journey_site, "reviewer", "zh-CN", shots_root)


def jpeg() -> bytes:
    """A phone photo, smaller: a JPEG made on the spot."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 120), (236, 222, 196))
    ImageDraw.Draw(image).ellipse((40, 20, 120, 100), fill=(214, 170, 110))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def completed_order(phone: str) -> int:
    ((order_id,),) = rows(
        "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id JOIN waves w"
        " ON w.id = o.campaign_id WHERE o.kind = 'wave' AND w.title = :t AND u.phone = :p",
        t=demo.WAVE_COMPLETED,
        p=phone,
    )
    return int(order_id)


def test_a_member_reviews_a_completed_order_with_a_photo(journey: Journey) -> None:
    t = journey.t
    order_id = completed_order(MEMBER)
    with journey.person(MEMBER) as page:
        page.goto(f"/orders/{order_id}")
        reviews = page.locator("#reviews")
        expect(reviews).to_be_visible()
        write = reviews.get_by_role("link", name=t("Write a review"))
        expect(write).to_have_count(1)  # the bread is reviewed; the eggs are not yet
        journey.step(page, "order-completed")
        write.click()
        expect(page).to_have_url(re.compile(rf"/orders/{order_id}/review\?line=\d+$"))
        page.locator("label.star-choice", has=page.locator("#f-rating-4")).click()
        expect(page.locator("#f-rating-4")).to_be_checked()
        page.get_by_label(t("What was it like? (optional)")).fill(TEXT)
        with page.expect_file_chooser() as chooser:
            page.locator("#f-photos").click()
        chooser.value.set_files({"name": "eggs.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
        preview = page.locator("#photo-preview img")
        expect(preview).to_have_count(1)
        assert preview.first.get_attribute("src", timeout=5000).startswith("blob:")
        journey.step(page, "review-form")
        page.get_by_role("button", name=t("Publish the review")).click()
        expect(page).to_have_url(re.compile(rf"/orders/{order_id}\?done=reviewed"))
        expect(page.locator("#done-reviewed")).to_be_visible()
        expect(reviews.get_by_role("link", name=t("Write a review"))).to_have_count(0)
        mine = page.locator(".review", has_text=TEXT)
        expect(mine).to_contain_text("已购买 · verified buyer")
        journey.step(page, "order-reviewed")

        # On the product's page: the review, its photo and the summary.
        page.locator(".review-line", has_text=TEXT).get_by_role(
            "link", name=t("See all reviews of this product")
        ).click()
        expect(page).to_have_url(re.compile(r"/products/\d+/reviews$"))
        card = page.locator(".review", has_text=TEXT)
        expect(card).to_contain_text("已购买 · verified buyer")
        expect(card.locator(".stars")).to_have_attribute("aria-label", t("%(n)s of 5 stars", n=4))
        thumb = card.locator("ul.photos img")
        expect(thumb).to_have_count(1)
        thumb.scroll_into_view_if_needed()
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
        )
        expect(page.locator("#review-summary")).to_be_visible()
        journey.step(page, "product-reviews")
