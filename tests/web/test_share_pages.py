"""Sharing in a chat over HTTP, on both backends: the posters as PNG (decoded with Pillow:
a PNG of the poster's size, nothing drawn off its card in either language), who may fetch a
wave's poster, their ETag, and the leader's 分享团期 (the 接龙 text, on the page and the API)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from tests.api import execute
from tests.conftest import Api
from tests.web.pages import demo_log_in as log_in
from tests.web.pages import post, scalar
from tuangou import demo
from tuangou.core.config import reset_settings
from tuangou.web import poster

LEADER, _, THIRD_LEADER = (phone for phone, *_ in demo.LEADERS)
MEMBER = demo.MEMBERS[0][0]  # 李阿姨, of the first leader's community
LONG_NAME = (
    "Extraordinarily Crunchy Yantai Fuji Apples from the Hillside Orchards, Five Jin Gift Box"
)


def decoded(reply: Any) -> Image.Image:
    """The reply's poster, checked: a PNG of the poster's size, in bounds."""
    assert reply.status_code == 200, reply.text[:300]
    assert reply.headers["content-type"] == "image/png"
    assert len(reply.content) <= poster.MAX_BYTES
    image = Image.open(io.BytesIO(reply.content))
    assert image.format == "PNG" and image.size == (poster.WIDTH, poster.HEIGHT)
    return image.convert("RGB")


def untouched_frame(image: Image.Image) -> bool:
    """Nothing runs off the card: in the strips along the left and right edges each row is
    one colour (the band's or the background's), so no text reaches them."""
    for left in (0, poster.WIDTH - poster.FRAME):
        strip = image.crop((left, 0, left + poster.FRAME, poster.HEIGHT))
        for y in range(poster.HEIGHT):
            row = strip.crop((0, y, poster.FRAME, y + 1))
            if len(row.getcolors(poster.FRAME) or ()) != 1:
                return False
    return True


def test_a_text_too_long_for_its_line_would_be_seen_in_the_frame() -> None:
    """The frame check can fail: a line drawn past the card reaches the strips."""
    canvas = Image.new("RGB", (poster.WIDTH, poster.HEIGHT), poster.BACKGROUND)
    assert untouched_frame(canvas)
    from PIL import ImageDraw

    ImageDraw.Draw(canvas).text((95, 800), LONG_NAME, fill=poster.INK, font_size=38)
    assert not untouched_frame(canvas)


# ---------------------------------------------------------------- a team's poster


@pytest.fixture
def team(api: Api) -> str:
    op = api.operator()
    supplier_id, _ = api.supplier(op)
    campaign = api.campaign(op, supplier_id, tiers=[[2, 1990], [3, 1790]], max_size=3)
    execute(
        "UPDATE products SET title = :t WHERE id = (SELECT product_id FROM skus WHERE id = :s)",
        t=LONG_NAME,
        s=campaign["sku_id"],
    )
    opened = api.open(api.signup("Li Ayi"), campaign["id"])
    return f"/t/{opened['team']['id']}"


def test_a_teams_poster_is_a_png_in_the_pages_language_cached_by_what_it_shows(
    client: TestClient, team: str, api: Api
) -> None:
    page = client.get(f"{team}/share", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert f'src="{team}/poster.png"' in page.text and "poster.svg" not in page.text
    assert f'download="poster-{team.removeprefix("/t/")}.png"' in page.text
    # The share sheet's button (hidden until the script finds navigator.share or copies).
    assert f'data-share-url="http://testserver{team}"' in page.text
    assert '<script src="/static/share.js' in page.text

    # A long English name stays on the poster, as the Chinese words do.
    english = client.get(f"{team}/poster.png", headers={"Accept-Language": "en"})
    first = client.get(f"{team}/poster.png", headers={"Accept-Language": "zh-CN"})
    assert untouched_frame(decoded(english)) and untouched_frame(decoded(first))
    assert english.content != first.content and english.headers["content-language"] == "en"

    # Cached by what it shows: the same poster again is a 304; another language is another.
    etag = first.headers["etag"]
    assert english.headers["etag"] != etag and "max-age" in first.headers["cache-control"]
    again = client.get(f"{team}/poster.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # Someone joins: the poster says one fewer to form, so it is drawn again.
    api.join(api.signup("Wang"), int(team.removeprefix("/t/")))
    changed = client.get(f"{team}/poster.png", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert client.get("/t/999999/poster.png").status_code == 404


# ---------------------------------------------------------------- a wave's poster and 分享团期


@pytest.fixture
def web(client: TestClient) -> TestClient:
    assert demo.load()["loaded"] is True
    return client


def _open_listing(phone: str) -> tuple[int, str]:
    listing = scalar(
        "SELECT wl.id FROM wave_listings wl JOIN waves w ON w.id = wl.wave_id"
        " JOIN leaders l ON l.id = wl.leader_id JOIN users u ON u.id = l.user_id"
        " WHERE u.phone = :phone AND w.title = :title",
        phone=phone,
        title=demo.WAVE_OPEN,
    )
    token = scalar("SELECT share_token FROM wave_listings WHERE id = :i", i=listing)
    return int(listing), str(token)


def test_the_leader_shares_the_wave_whose_poster_only_its_viewers_see(web: TestClient) -> None:
    listing, token = _open_listing(LEADER)
    log_in(web, LEADER)
    page = web.get(f"/leader/waves/{listing}")
    assert page.status_code == 200
    assert "分享团期" in page.text
    link = f"http://testserver/w/{listing}?share={token}"
    assert '<textarea id="chain-text"' in page.text
    assert f"【{demo.LEADERS[0][4]}】{demo.WAVE_OPEN} · " in page.text
    assert "1. 烟台红富士 3斤 ¥25.90（满60份 ¥21.90）" in page.text
    assert f"跟团：{link}</textarea>" in page.text
    assert 'data-copy-from="chain-text"' in page.text
    assert f'src="/w/{listing}/poster.png?share={token}"' in page.text

    api = web.get(f"/api/leader/waves/{listing}/share", headers=_bearer(web, LEADER))
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["link"] == link and body["text"].endswith(f"跟团：{link}")
    assert body["poster_url"] == f"http://testserver/w/{listing}/poster.png?share={token}"
    assert body["text"] in page.text.replace("&amp;", "&")
    english = web.get(
        f"/api/leader/waves/{listing}/share?lang=en", headers=_bearer(web, LEADER)
    ).json()
    assert english["text"].startswith(f"[{demo.LEADERS[0][4]}] {demo.WAVE_OPEN} · order by")
    assert web.get(body["poster_url"].removeprefix("http://testserver")).status_code == 200

    # Another leader: not theirs, as if it did not exist; a member is no leader.
    third = web.get(f"/api/leader/waves/{listing}/share", headers=_bearer(web, THIRD_LEADER))
    assert third.status_code == 404
    member = web.get(f"/api/leader/waves/{listing}/share", headers=_bearer(web, MEMBER))
    assert member.status_code == 403
    bad = web.get(f"/api/leader/waves/{listing}/share?lang=fr", headers=_bearer(web, LEADER))
    assert bad.status_code == 422

    # The leader's page in English says it in English.
    log_in(web, LEADER)
    web.cookies.set("lang", "en")
    english_page = web.get(f"/leader/waves/{listing}")
    assert "Share the wave" in english_page.text
    assert f"Order here: {link}</textarea>" in english_page.text

    _who_sees_the_waves_poster(web, listing, token)


def _who_sees_the_waves_poster(web: TestClient, listing: int, token: str) -> None:
    web.cookies.clear()
    path = f"/w/{listing}/poster.png"
    # Nobody logged in: only with the share link's token.
    assert web.get(path).status_code == 404
    assert web.get(f"{path}?share=wrong{token[5:]}").status_code == 404
    poster_png = decoded(web.get(f"{path}?share={token}"))
    assert untouched_frame(poster_png)
    # Its QR code is the wave's share link, token and all: decoded from the picture.
    found = [code.text for code in zxingcpp.read_barcodes(poster_png)]
    assert found == [f"http://testserver/w/{listing}?share={token}"]
    # Another community's leader without the token: as if there were none.
    log_in(web, THIRD_LEADER)
    assert web.get(path).status_code == 404
    log_in(web, MEMBER)  # a member of the community
    reply = web.get(path)
    assert untouched_frame(decoded(reply)) and reply.headers["cache-control"].startswith("private")
    wave = web.get(f"/w/{listing}")
    assert f'href="{path}?share={token}"' in wave.text and "data-share-url" in wave.text


def test_every_demo_picture_has_a_png_for_the_posters() -> None:
    """Pillow draws no SVG: a poster uses the PNG next to a product's SVG picture."""
    from tuangou.web.app import STATIC_DIR

    for svg in (STATIC_DIR / "demo").glob("*.svg"):
        found = poster.picture_file(STATIC_DIR, f"/static/demo/{svg.name}")
        assert found == svg.with_suffix(".png").resolve(), svg.name
    assert poster.picture_file(STATIC_DIR, "https://cdn.example.org/a.png") is None  # not fetched
    assert poster.picture_file(STATIC_DIR, "/static/../../etc/passwd.png") is None


def test_a_leaked_share_link_is_replaced_by_a_new_one(web: TestClient) -> None:
    listing, old = _open_listing(LEADER)
    web.cookies.clear()
    assert web.get(f"/w/{listing}?share={old}").status_code == 200
    # Another leader cannot replace it; a member is no leader.
    third = web.post(
        f"/api/leader/waves/{listing}/share/new-link", headers=_bearer(web, THIRD_LEADER)
    )
    assert third.status_code == 404
    member = web.post(f"/api/leader/waves/{listing}/share/new-link", headers=_bearer(web, MEMBER))
    assert member.status_code == 403
    assert scalar("SELECT share_token FROM wave_listings WHERE id = :i", i=listing) == old

    # The leader does, on the wave's page; the old link and poster then open nothing.
    log_in(web, LEADER)
    done = post(web, f"/leader/waves/{listing}/new-link", form_page=f"/leader/waves/{listing}")
    assert done.status_code == 303, done.text
    page = web.get(done.headers["location"]).text
    assert "已换新的分享链接" in page
    new = scalar("SELECT share_token FROM wave_listings WHERE id = :i", i=listing)
    assert new != old and f"/w/{listing}?share={new}" in page
    # And over the API, answering the new 接龙 text.
    api = web.post(f"/api/leader/waves/{listing}/share/new-link", headers=_bearer(web, LEADER))
    assert api.status_code == 200, api.text
    newest = scalar("SELECT share_token FROM wave_listings WHERE id = :i", i=listing)
    assert newest != new and api.json()["link"].endswith(f"?share={newest}")
    web.cookies.clear()
    for token in (old, new):
        assert web.get(f"/w/{listing}?share={token}").status_code == 404
        assert web.get(f"/w/{listing}/poster.png?share={token}").status_code == 404
    assert web.get(f"/w/{listing}?share={newest}").status_code == 200


def _bearer(client: TestClient, phone: str) -> dict[str, str]:
    reply = client.post("/api/auth/login", json={"phone": phone, "password": demo.PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


# ---------------------------------------------------------------- fonts


@pytest.fixture
def no_font_cache() -> Iterator[None]:
    poster.font_choice.cache_clear()
    yield
    poster.font_choice.cache_clear()
    reset_settings()


def test_the_poster_font_setting_is_used_and_a_missing_cjk_font_is_warned_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, no_font_cache: None
) -> None:
    installed = [p for p in poster.CJK_FONT_PATHS if os.path.isfile(p)]
    assert installed, "no CJK font: scripts/test installs fonts-wqy-microhei"
    latin = next(p for p in poster.LATIN_FONT_PATHS if os.path.isfile(p))
    monkeypatch.setattr(poster, "CJK_FONT_PATHS", ())
    monkeypatch.setattr(poster, "_fc_match", lambda: None)
    # The setting names a CJK font: it is the one, though no well-known path has one.
    monkeypatch.setenv("TUANGOU_POSTER_FONT", installed[0])
    reset_settings()
    assert poster.current_font() == poster.FontChoice(installed[0], cjk=True)
    with caplog.at_level("WARNING", logger="tuangou.web.poster"):
        chosen = poster.font_choice(latin)  # a font without Chinese: not taken as one
        assert chosen.cjk is False
        assert poster.font_choice(latin) is chosen  # kept: the warning is logged once
    assert sum("no CJK font" in r.getMessage() for r in caplog.records) == 1
    drawn = poster.render(_sample(), chosen, poster.Path("/nonexistent"))
    assert Image.open(io.BytesIO(drawn.png)).format == "PNG"  # still a poster


def _sample() -> poster.Poster:
    return poster.Poster(
        lang="zh-CN",
        headline="李*姨 邀你一起拼团",
        subline="还差 1 人成团 · 2人团",
        title="苹果",
        price_label="拼团价",
        price="¥19.90",
        link="http://testserver/t/1",
        scan="扫码参团",
    )


# ---------------------------------------------------------------- the layout, without a server


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"lang": "en", "title": LONG_NAME * 2, "headline": LONG_NAME, "subline": LONG_NAME},
        {"price": "¥12,345,678.90", "was": "Single price ¥99,999,999.99 " * 3},
        {"ladder": tuple(f"{n} people ¥1{n},999.90" for n in range(2, 40))},
        {"rows": tuple(f"{n}. {LONG_NAME} ¥25.90 · 11/20 ordered" for n in range(1, 30))},
        {"title": "苹" * 200, "link": "https://tuan.example.org/w/1?share=" + "x" * 300},
    ],
)
def test_everything_drawn_stays_inside_and_apart(changes: dict[str, Any]) -> None:
    from dataclasses import replace

    from tuangou.web.app import STATIC_DIR

    drawn = poster.render(replace(_sample(), **changes), poster.current_font(), STATIC_DIR)
    inside = (poster.FRAME, 0, poster.WIDTH - poster.FRAME, poster.HEIGHT - poster.FRAME)
    for what, box in drawn.boxes:
        assert inside[0] <= box[0] and box[2] <= inside[2], (what, box)
        assert inside[1] <= box[1] and box[3] <= inside[3], (what, box)
    for n, (what, box) in enumerate(drawn.boxes):
        for other, box2 in drawn.boxes[n + 1 :]:
            assert not _overlap(box, box2), (what, box, other, box2)
    assert untouched_frame(Image.open(io.BytesIO(drawn.png)).convert("RGB"))


@given(st.text(max_size=80), st.integers(3, 40), st.integers(1, 4))
def test_wrapped_lines_fit_their_width(text: str, width: int, max_lines: int) -> None:
    lines = poster.wrap(text, width, lambda s: float(len(s)), max_lines)
    assert len(lines) <= max_lines
    assert all(len(line) <= width for line in lines)
    if len(lines) < max_lines or not lines[-1].endswith(poster.ELLIPSIS):
        assert "".join(lines).replace(" ", "") == "".join(text.split())  # nothing lost
