"""The journey harness: one person's main path through the app in one language, at the
viewport they use, every step checked and photographed.

A :class:`Journey` opens browser profiles (:meth:`Journey.person`) on a Chinese phone or a
desk, picks the language with the app's own switch (English is chosen by tapping "English",
never by the browser's locale), logs in through the log-in page, and watches every page with
:class:`tests.web.browser.Guard`. :meth:`Journey.step` checks the page in front of it
(accessibility basics, no sideways scrolling, nothing broken since the last step) and saves
a screenshot as ``NN-<step>.png`` under ``<role>-<lang>/``: in a temporary folder, or with
``TUANGOU_SCREENSHOTS=1`` in ``docs/screenshots/journeys/`` (the committed set, which
``scripts/screenshots --journeys`` makes again).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.e2e.server import REPO
from tests.web.browser import PASSWORD, Guard, Site, accessibility_problems
from tuangou.web import i18n

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}
COMMITTED = REPO / "docs" / "screenshots" / "journeys"
LANGS = {"zh-CN": "zh", "en": "en"}
# The committed screenshots are PNGs of at most this many colours (text and flat colours
# lose nothing a reader would notice; a set of journeys stays around 2 MB).
COLOURS = 96
# A shot stops there (the operator's catalogue runs on for pages).
MAX_HEIGHT = 2000


def committing() -> bool:
    """Whether this run writes the committed screenshots (``TUANGOU_SCREENSHOTS=1``)."""
    return os.environ.get("TUANGOU_SCREENSHOTS") == "1"


class Journey:
    def __init__(self, browser: Browser, site: Site, role: str, lang: str, root: Path) -> None:
        self.browser = browser
        self.site = site
        self.lang = lang
        self.folder = root / f"{role}-{LANGS[lang]}"
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.guard = Guard(site.url)
        self.steps: list[str] = []

    # ------------------------------------------------------------ words

    def t(self, message: str, **values: Any) -> str:
        """``message`` (an English message id) as the page shows it in this language."""
        text = i18n.gettext(self.lang, message)
        assert self.english or text != message, f"no translation of {message!r}: a typo?"
        return text % values if values else text

    @property
    def english(self) -> bool:
        return self.lang == "en"

    # ------------------------------------------------------------ people

    @contextmanager
    def person(
        self, phone: str | None = None, *, desk: bool = False, start: str = "/login"
    ) -> Iterator[Page]:
        """A fresh browser profile (a Chinese phone, or a desk), in this journey's language,
        logged in as ``phone`` when given (the log-in page is a step of the journey)."""
        context = self.browser.new_context(
            base_url=self.site.url,
            viewport=DESK if desk else PHONE,
            device_scale_factor=1,
            is_mobile=not desk,
            has_touch=not desk,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)
        self.guard.watch(context)
        page = context.new_page()
        try:
            page.goto(start)
            self.choose_language(page)
            if phone:
                self.log_in(page, phone)
            yield page
            self.guard.check(f"after step {len(self.steps)}")
        finally:
            context.close()

    def choose_language(self, page: Page) -> None:
        """Tap the language switch in the top bar (Chinese is the default)."""
        if self.english:
            page.get_by_role("navigation", name="语言").get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", self.lang)

    def log_in(self, page: Page, phone: str) -> None:
        if "/login" not in page.url:
            page.goto("/login")
        page.get_by_label(self.t("Mobile number")).fill(phone)
        page.get_by_label(self.t("Password"), exact=True).fill(PASSWORD)
        self.step(page, "log-in")
        page.get_by_role("button", name=self.t("Log in"), exact=True).click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"log-in failed for {phone}: {page.url}"

    # ------------------------------------------------------------ steps

    def step(self, page: Page, name: str) -> Path:
        """The page in front of the person passes the checks; its screenshot is saved."""
        page.wait_for_load_state()
        where = f"step {len(self.steps) + 1} ({name}, {page.url.removeprefix(self.site.url)})"
        problems = accessibility_problems(page) + empty_cards(page)
        assert not problems, f"{where}: {problems}"
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size or PHONE
        assert width <= viewport["width"] + 1, f"{where} scrolls sideways: {width}px"
        self.guard.check(where)
        self.steps.append(name)
        path = self.folder / f"{len(self.steps):02d}-{name}.png"
        shot = whole_page(page)
        path.write_bytes(small_png(shot) if committing() else shot)
        return path


_EMPTY_CARDS = """() => [...document.querySelectorAll(".card")].filter((card) =>
  (card.offsetWidth || card.offsetHeight) && !card.innerText.trim()
  && !card.querySelector("img, svg, input, select, textarea, button, canvas, video")
).map((card) => `an empty card: <${card.tagName.toLowerCase()} class="${card.className}">`)"""


def empty_cards(page: Page) -> list[str]:
    """Cards on the page with nothing in them (a blank box a person would wonder about)."""
    return list(page.evaluate(_EMPTY_CARDS))


def whole_page(page: Page) -> bytes:
    """The whole page as a person would see it on a screen that tall: the viewport grows to
    the page's height for the shot (a full-page capture would paint the fixed and sticky
    bars where the viewport happened to end, in the middle of the page)."""
    size = page.viewport_size or PHONE
    page.evaluate("window.scrollTo(0, 0)")
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height})
    try:
        return page.screenshot(animations="disabled", caret="hide")
    finally:
        if height > size["height"]:
            page.set_viewport_size(size)


def small_png(data: bytes) -> bytes:
    """A screenshot as a PNG of few colours (what the committed set is made of)."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    few = image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    few.save(out, format="PNG", optimize=True)
    return out.getvalue()
