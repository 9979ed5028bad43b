"""Fixtures of the journeys: one demo site for all of them in a test process (every journey
walks it with people and data of its own, so that they may run in any order and on any
worker), whose sandbox gateway confirms a payment a moment after it is approved, as a real
gateway's callback does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Server, pointed_at
from tests.web.browser import Site
from tests.web.journeys.journey import COMMITTED, committing

# Long enough that the page back from the gateway always shows 支付确认中 first, even on a
# busy machine (the worker lands a callback the moment it is due); the page asks again 1, 3
# and 7 s after it loaded, so the third ask finds the payment landed.
CALLBACK_DELAY_MS = 5000


@pytest.fixture(scope="session")
def journey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``tuangou serve`` on the demo data, started once per test process for the journeys."""
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
            # The site idles between journeys while other tests run: its worker looks for
            # work twice a second, not ten times.
            "TUANGOU_WORKER_INTERVAL": "0.5",
        },
    )
    server.start()
    try:
        yield Site(server.url, url, server)
    finally:
        server.stop()


@pytest.fixture
def journey_site(journey_server: Site) -> Iterator[Site]:
    """The journeys' site, with this process pointed at its database for the test (other
    tests of the process point it elsewhere in between)."""
    with pointed_at(journey_server.database_url):
        yield journey_server


@pytest.fixture(scope="session")
def shots_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the journeys' screenshots go: a temporary folder, so that a test run leaves the
    checkout as it was; the committed folder with ``TUANGOU_SCREENSHOTS=1``."""
    return COMMITTED if committing() else tmp_path_factory.mktemp("journeys")
