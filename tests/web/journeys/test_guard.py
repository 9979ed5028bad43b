"""The journeys' guard fails on what a person would see break, and only on that: a console
error, a script's uncaught error, a failed request, a response of 400 or more (unless
expected). The pages are served by a route in the browser itself: no server needed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.web.browser import Guard

BASE = "http://guard.test"
SVG = "<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/>"


def html(image: str = "/there.svg", script: str = "") -> str:
    return (
        '<!doctype html><html lang="en"><head><title>t</title></head><body>'
        f'<img src="{image}" alt="a picture"><script>{script}</script></body></html>'
    )


PAGES = {
    "/quiet": (200, html()),
    "/console": (200, html(script="console.error('boom')")),
    "/script": (200, html(script="null.x")),
    "/refused": (200, html(image="/refused.svg")),
    "/failed": (200, html(image="/missing.svg")),
    "/fetch": (200, html(script="fetch('/refused.svg')")),
    "/form": (400, html()),
}


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, Guard]]:
    guard = Guard(BASE)
    context = guard.watch(browser.new_context(base_url=BASE))

    def serve(route: Route) -> None:
        path = route.request.url.removeprefix(BASE)
        if path in PAGES:
            status, body = PAGES[path]
            route.fulfill(status=status, content_type="text/html", body=body)
        elif path == "/there.svg":
            route.fulfill(status=200, content_type="image/svg+xml", body=SVG)
        elif path == "/refused.svg":
            route.fulfill(status=403, content_type="text/plain", body="no")
        else:
            route.abort("connectionrefused")

    context.route(f"{BASE}/**", serve)
    yield context.new_page(), guard
    context.close()


def test_a_quiet_page_passes(page: tuple[Page, Guard]) -> None:
    tab, guard = page
    tab.goto("/quiet")
    tab.wait_for_load_state("networkidle")
    guard.check("a quiet page")


@pytest.mark.parametrize(
    ("path", "complaint"),
    [
        ("/console", "console error on /console: boom"),
        ("/script", "script error on /script"),
        ("/refused", "403 for image /refused.svg"),
        ("/failed", r"failed: http://guard.test/missing.svg \(net::ERR_CONNECTION_REFUSED\)"),
        ("/fetch", "403 for fetch /refused.svg"),
    ],
)
def test_what_breaks_fails_the_check(page: tuple[Page, Guard], path: str, complaint: str) -> None:
    tab, guard = page
    tab.goto(path)
    tab.wait_for_load_state("networkidle")
    with pytest.raises(AssertionError, match=complaint):
        guard.check("a broken page")
    guard.check("once told, a problem is not told again")


def test_an_expected_refusal_passes_once(page: tuple[Page, Guard]) -> None:
    tab, guard = page
    guard.allow(400, "/form")
    tab.goto("/form")
    guard.check("the form sent back with its refusal")
    tab.goto("/form")
    with pytest.raises(AssertionError, match="400 for document /form"):
        guard.check("a second refusal was not expected")
