"""A bargain's share poster and share button (砍价海报), over HTTP on both backends: the PNG
(decoded with Pillow, its QR code read back), in either language with nothing off its card,
cached by what it shows, and seen only by those who may open the bargain's page."""

from __future__ import annotations

from typing import Any

import pytest
import zxingcpp
from fastapi.testclient import TestClient

from tests.api import execute
from tests.bargains.helpers import campaign, help_, member, start
from tests.conftest import Api
from tests.web.pages import log_in
from tests.web.test_share_pages import LONG_NAME, decoded, untouched_frame
from tuangou.web import poster


@pytest.fixture
def bargain(api: Api, client: TestClient) -> dict[str, Any]:
    """A bargain on a product with a long English name, started by a member who can log in
    to the pages (``phone``)."""
    _, made = campaign(api)
    execute(
        "UPDATE products SET title = :t WHERE id = (SELECT product_id FROM skus WHERE id = :s)",
        t=LONG_NAME,
        s=made["sku_id"],
    )
    phone = api.phone()
    body = {"phone": phone, "password": "secret123", "nickname": "Li Ayi"}
    signed = client.post("/api/auth/signup", json=body)
    assert signed.status_code == 201, signed.text
    who = {"Authorization": f"Bearer {signed.json()['token']}"}
    return {**start(api, who, made["id"]), "phone": phone}


def test_the_starters_page_shares_the_link_and_the_poster(
    client: TestClient, bargain: dict[str, Any]
) -> None:
    log_in(client, bargain["phone"])
    bid, share = bargain["id"], bargain["share_token"]
    page = client.get(f"/b/{bid}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    poster_url = f"/b/{bid}/poster.png?share={share}"
    assert f'src="{poster_url}"' in page.text
    assert f'href="{poster_url}" download="bargain-{bid}.png"' in page.text
    # The share sheet's button (hidden until the script finds navigator.share or copies).
    assert f'data-share-url="http://testserver/b/{bid}?share={share}"' in page.text
    assert '<script src="/static/share.js' in page.text
    assert "分享海报" in page.text and "下载海报" in page.text and "分享给好友" in page.text
    english = client.get(f"/b/{bid}", headers={"Accept-Language": "en"}).text
    assert "Share poster" in english and "Download the poster" in english


def test_a_bargains_poster_is_a_png_with_the_share_links_qr_code(
    client: TestClient, api: Api, bargain: dict[str, Any]
) -> None:
    client.cookies.clear()  # a friend who holds the link, not logged in
    bid, share = bargain["id"], bargain["share_token"]
    url = f"/b/{bid}/poster.png?share={share}"
    english = client.get(url, headers={"Accept-Language": "en"})
    chinese = client.get(url, headers={"Accept-Language": "zh-CN"})
    # A long English name and the Chinese words stay on the card.
    image = decoded(english)
    assert untouched_frame(image) and untouched_frame(decoded(chinese))
    assert english.content != chinese.content
    assert english.headers["content-language"] == "en"
    assert chinese.headers["content-language"] == "zh-CN"
    # Its QR code is the share link: read back from the picture itself.
    found = zxingcpp.read_barcodes(image)
    assert [code.text for code in found] == [f"http://testserver/b/{bid}?share={share}"]

    # Cached by what it shows: the same poster again is a 304; a cut changes the price and the
    # cuts left, so it is drawn again.
    etag = chinese.headers["etag"]
    assert english.headers["etag"] != etag and "max-age" in chinese.headers["cache-control"]
    again = client.get(url, headers={"If-None-Match": etag, "Accept-Language": "zh-CN"})
    assert again.status_code == 304 and again.content == b""
    assert help_(api, member(api, "阿强"), bargain).status_code == 201
    changed = client.get(url, headers={"If-None-Match": etag, "Accept-Language": "zh-CN"})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.content != chinese.content


def test_the_poster_is_seen_only_by_those_who_may_open_the_bargain(
    client: TestClient, api: Api, bargain: dict[str, Any]
) -> None:
    bid, share = bargain["id"], bargain["share_token"]
    client.cookies.clear()
    assert client.get(f"/b/{bid}/poster.png").status_code == 404  # no link, nobody logged in
    assert client.get(f"/b/{bid}/poster.png?share=wrong").status_code == 404
    assert client.get(f"/b/999999/poster.png?share={share}").status_code == 404
    assert client.get(f"/b/{bid}/poster.png?share={share}").status_code == 200
    # The starter sees it without the link; another member does not.
    log_in(client, bargain["phone"])
    assert client.get(f"/b/{bid}/poster.png").status_code == 200
    client.cookies.clear()
    stranger = api.phone()
    body = {"phone": stranger, "password": "secret123", "nickname": "Wang"}
    assert client.post("/api/auth/signup", json=body).status_code == 201
    log_in(client, stranger)
    assert client.get(f"/b/{bid}/poster.png").status_code == 404
    assert client.get(f"/b/{bid}").status_code == 404  # as the page itself


def test_a_bargains_poster_draws_everything_inside_the_canvas() -> None:
    """The layout in both languages, long words included: every box drawn is inside the
    frame, and the floor is drawn under the price."""
    from tuangou.web.app import STATIC_DIR

    font = poster.current_font()
    for lang, words in {
        "en": ("Li Ayi asks you to cut the price", "3 cuts left", "Ends 12-09 20:00"),
        "zh-CN": ("李阿姨 邀你帮砍一刀", "还差 3 刀", "12-09 20:00 截止"),
    }.items():
        drawn = poster.render(
            poster.bargain(
                lang=lang,
                headline=words[0] * 3,
                cuts=words[1],
                deadline=words[2],
                title=LONG_NAME,
                price_label="Price now",
                price="¥1,234,567.89",
                was="Original price ¥2,000,000.00",
                floor="floor ¥1,000,000.00",
                scan="Scan to cut",
                link="http://testserver/b/1?share=" + "x" * 32,
            ),
            font,
            STATIC_DIR,
        )
        kinds = [what for what, _ in drawn.boxes]
        assert {"headline", "subline", "title", "price", "was", "floor", "qr"} <= set(kinds)
        assert kinds.index("floor") > kinds.index("price")
        for what, (left, top, right, bottom) in drawn.boxes:
            assert left >= poster.FRAME and right <= poster.WIDTH - poster.FRAME, what
            assert top >= 0 and bottom <= poster.HEIGHT, what
