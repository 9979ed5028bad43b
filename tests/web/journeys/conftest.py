"""Fixtures of the journeys: one demo site per test module (both languages of a role walk it,
each with people and data of its own), whose sandbox gateway confirms a payment a moment
after it is approved, as a real gateway's callback does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Server, pointed_at
from tests.web.browser import Site
from tests.web.journeys.journey import COMMITTED, committing

# Long enough that the page back from the gateway always shows 支付确认中 first.
CALLBACK_DELAY_MS = 2500


@pytest.fixture(scope="module")
def journey_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from tuangou import demo

    folder = tmp_path_factory.mktemp("journey-site")
    url = f"sqlite:///{folder / 'site.db'}"
    with pointed_at(url):
        demo.load()
        server = Server(
            url,
            env={
                "TUANGOU_UPLOAD_DIR": str(folder / "uploads"),
                "TUANGOU_SANDBOX_CALLBACK_DELAY_MS": str(CALLBACK_DELAY_MS),
            },
        )
        server.start()
        try:
            yield Site(server.url, url, server)
        finally:
            server.stop()


@pytest.fixture(scope="session")
def shots_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the journeys' screenshots go: a temporary folder, so that a test run leaves the
    checkout as it was; the committed folder with ``TUANGOU_SCREENSHOTS=1``."""
    return COMMITTED if committing() else tmp_path_factory.mktemp("journeys")
