"""The security headers in a real browser: the pages, the charts and the API's docs work
under the content security policy, and a page refuses to be framed."""

from __future__ import annotations

from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.web.browser import Site, person


def test_pages_charts_and_docs_run_under_the_policy(browser: Browser, site: Site) -> None:
    with person(browser, site, "13800000000", desk=True) as page:
        blocked: list[str] = []

        def watch(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text:
                blocked.append(message.text)

        page.on("console", watch)
        page.goto("/ops")
        expect(page.locator(".ops-chart svg.chart-svg")).to_have_count(5)
        expect(page.locator(".ops-chart svg.chart-svg").first).to_be_visible()
        page.goto("/docs")
        # Swagger UI, from the installed package, lists the operations.
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.reload()
        expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=20_000)
        assert requested and all(url.startswith(site.url) for url in requested), requested
        assert blocked == []


def test_a_page_cannot_be_framed(browser: Browser, site: Site) -> None:
    with person(browser, site, "13800000000", desk=True) as page:
        with page.expect_event(
            "console", predicate=lambda m: "frame-ancestors" in m.text, timeout=15_000
        ):
            page.set_content(f'<iframe id="f" src="{site.url}/leader/pickup"></iframe>')
        expect(page.frame_locator("#f").locator("body form")).to_have_count(0)
