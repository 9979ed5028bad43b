"""Fixtures of the browser tests: a fresh demo site per test, one chromium per test process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.e2e.server import Server, pointed_at
from tests.web.browser import CHROMIUM, Site, launch


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright per test process (a second one cannot start beside it)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium")
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = launch(playwright)
    yield browser
    browser.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """``tuangou serve`` (worker in-process) on a new SQLite database with the demo data."""
    from tuangou import demo

    url = f"sqlite:///{tmp_path / 'site.db'}"
    with pointed_at(url):
        demo.load()
        server = Server(url, env={"TUANGOU_UPLOAD_DIR": str(tmp_path / "uploads")})
        server.start()
        try:
            yield Site(server.url, url, server)
        finally:
            server.stop()
            from tuangou.core import clock

            clock.set_offset(clock.offset() * 0)
            os.environ.pop("TUANGOU_CLOCK_OFFSET_SECONDS", None)
