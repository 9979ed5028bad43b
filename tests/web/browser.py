"""Helpers for the browser tests: a real ``tuangou serve`` on demo data, Debian's chromium at a
phone's viewport, log-in through the pages, screenshots kept as artifacts, accessibility
basics checked on every page a test visits, and a guard that fails a test on what a person
would see break (:class:`Guard`: a console error, a script error, a failed request).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    WebError,
)

from tests.e2e.server import REPO, Server

CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "artifacts" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESK = {"width": 1280, "height": 900}
PASSWORD = "demo1234"


@dataclass
class Site:
    """A running server on its own database; this test process points at the same database."""

    url: str
    database_url: str
    server: Server
    offset: timedelta = timedelta(0)

    def travel(self, delta: timedelta) -> None:
        """Move time forward for the server (restarted on the same port) and for this process."""
        from tuangou.core import clock

        self.offset += delta
        clock.set_offset(self.offset)
        self.server.stop()
        self.server.env["TUANGOU_CLOCK_OFFSET_SECONDS"] = str(self.offset.total_seconds())
        self.server.start()

    def run_jobs(self) -> dict[str, int]:
        """Run every background job until idle, here (at this process's clock)."""
        from tuangou import worker

        return dict(worker.run_until_idle())


def launch(playwright: Any) -> Browser:
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
    )


def phone_context(browser: Browser, site: Site, *, lang: str = "zh-CN") -> BrowserContext:
    """A new browser profile (its own cookies) the size of a phone."""
    context = browser.new_context(
        base_url=site.url,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=lang,
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(15_000)
    return context


def desk_context(browser: Browser, site: Site, *, lang: str = "zh-CN") -> BrowserContext:
    context = browser.new_context(base_url=site.url, viewport=DESK, locale=lang)
    context.set_default_timeout(15_000)
    return context


@contextmanager
def person(
    browser: Browser,
    site: Site,
    phone: str | None = None,
    *,
    desk: bool = False,
    lang: str = "zh-CN",
) -> Iterator[Page]:
    """A page in a fresh browser profile, logged in as ``phone`` (password ``demo1234``)."""
    context = (desk_context if desk else phone_context)(browser, site, lang=lang)
    page = context.new_page()
    try:
        if phone:
            log_in(page, phone)
        yield page
    finally:
        context.close()


def log_in(page: Page, phone: str, password: str = PASSWORD, next_path: str = "") -> None:
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("手机号").or_(page.get_by_label("Mobile number")).fill(phone)
    page.get_by_label("密码", exact=True).or_(page.get_by_label("Password")).fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"log-in failed for {phone}: {page.url}"


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot kept under artifacts/screenshots/ (also after the run)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_A11Y = """() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  for (const el of document.querySelectorAll("input, select, textarea")) {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (["hidden", "submit", "button", "reset", "image"].includes(type)) continue;
    const labelled = (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`))
      || el.closest("label") || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!labelled) problems.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name}`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`image without alt: ${img.src}`);
  }
  for (const svg of document.querySelectorAll("svg[role=img]")) {
    if (!svg.querySelector("title") && !svg.getAttribute("aria-label"))
      problems.push("svg image without a title");
  }
  for (const el of document.querySelectorAll("[onclick], [role=button]")) {
    if (!["BUTTON", "A", "INPUT", "SUMMARY"].includes(el.tagName))
      problems.push(`clickable ${el.tagName.toLowerCase()} that is not a button`);
  }
  for (const a of document.querySelectorAll("a")) {
    const href = a.getAttribute("href") || "";
    if (!href || href.startsWith("javascript:"))
      problems.push(`link that is a script: ${a.textContent.trim()}`);
  }
  for (const b of document.querySelectorAll("button, a")) {
    const named = b.textContent.trim() || b.getAttribute("aria-label") || b.getAttribute("title")
      || [...b.querySelectorAll("img[alt]")].some((img) => img.alt.trim())
      || [...b.querySelectorAll("svg[role=img]")].some((svg) => svg.querySelector("title"));
    if (visible(b) && !named) problems.push(`${b.tagName.toLowerCase()} with no text`);
  }
  if (!document.documentElement.lang) problems.push("page without lang");
  if (!document.title.trim()) problems.push("page without title");
  return problems;
}"""


def accessibility_problems(page: Page) -> list[str]:
    """Inputs without labels, images without alt text, clickable things that are not buttons."""
    return list(page.evaluate(_A11Y))


def check_page(page: Page, name: str) -> None:
    """A main page: no accessibility problem, no horizontal scroll on a phone; screenshot kept."""
    problems = accessibility_problems(page)
    assert not problems, f"{name}: {problems}"
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size or PHONE
    assert width <= viewport["width"] + 1, f"{name} scrolls sideways: {width}px"
    shot(page, name)


def failed_request(request: Request) -> str | None:
    """A request that failed, as a problem; None for one the browser dropped itself because
    the page moved on (``net::ERR_ABORTED``: an image still loading when a form was sent)."""
    reason = request.failure or ""
    if "ERR_ABORTED" in reason:
        return None
    return f"failed: {request.url} ({reason})"


class Guard:
    """Everything of a browser profile that a person would see break, as problems: an error in
    the console, a script's uncaught error, a request that failed, and a response of 400 or
    more (a page's subresource, a script's fetch, or a page itself) unless the test said it
    expects that one (:meth:`allow`: a form sent back with a refusal next to its field).

    Watch a profile with :meth:`watch` (its pages now and later); :meth:`check` fails the
    test with the list of what went wrong, naming the URL of each."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.problems: list[str] = []
        self._allowed: list[tuple[int, str]] = []

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.on("console", self._console)
        context.on("weberror", self._script_error)
        context.on("requestfailed", self._failed)
        context.on("response", self._response)
        return context

    def allow(self, status: int, path: str) -> None:
        """The next response ``status`` to ``path`` (no query) is expected, once."""
        self._allowed.append((status, path))

    def check(self, where: str = "") -> None:
        problems, self.problems = self.problems, []
        assert not problems, f"{where}: " + "\n".join(problems)

    def _where(self, url: str) -> str:
        return url.removeprefix(self.base_url) or "/"

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # "Failed to load resource: the server responded with a status of 404": the
        # response itself is judged below (with its URL, and unless it was expected).
        if message.text.startswith("Failed to load resource: the server responded"):
            return
        page = self._where(message.page.url) if message.page else "?"
        self.problems.append(f"console error on {page}: {message.text}")

    def _script_error(self, error: WebError) -> None:
        page = self._where(error.page.url) if error.page else "?"
        self.problems.append(f"script error on {page}: {error.error}")

    def _failed(self, request: Request) -> None:
        problem = failed_request(request)
        if problem:
            self.problems.append(problem)

    def _response(self, response: Response) -> None:
        if response.status < 400:
            return
        path = self._where(response.url).split("?", 1)[0]
        if (response.status, path) in self._allowed:
            self._allowed.remove((response.status, path))
            return
        kind = response.request.resource_type
        self.problems.append(f"{response.status} for {kind} {self._where(response.url)}")
