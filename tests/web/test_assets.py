"""Pages stay light and self-contained: no asset from another host, assets cached."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tuangou.web import app as web_app
from tuangou.web import templating

WEB = Path(web_app.__file__).parent
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)
CSS_IMPORT = re.compile(r"""@import|url\(\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_no_template_or_asset_loads_anything_from_another_host() -> None:
    offenders = []
    for path in [*WEB.glob("templates/**/*"), *WEB.glob("static/**/*")]:
        if path.is_dir() or path.suffix not in {".html", ".svg", ".css", ".js"}:
            continue
        text = path.read_text(encoding="utf-8")
        if EXTERNAL.search(text) or (path.suffix == ".css" and CSS_IMPORT.search(text)):
            offenders.append(str(path.relative_to(WEB)))
    assert not offenders, f"assets from elsewhere: {offenders}"


def test_static_assets_are_served_with_a_cache_lifetime_and_no_chart_library(
    client: TestClient,
) -> None:
    css = client.get("/static/app.css")
    assert css.status_code == 200 and "max-age=86400" in css.headers["cache-control"]
    # the charts are drawn on the server: no 4.8 MB library to send
    assert client.get("/static/vendor/plotly.min.js").status_code == 404


def test_the_log_in_page_is_one_small_html_document(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert len(page.content) < 20_000
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert assets and all(
        a.startswith("/static/app.") or a == "/static/favicon.svg" for a in assets
    )
    app_js = f'<script src="/static/app.js?v={templating.STATIC_VERSION}" defer>'
    assert "<script src" not in page.text.replace(app_js, "")


def test_every_page_has_an_icon(client: TestClient) -> None:
    """No 404 for the icon a browser asks for on every page."""
    page = client.get("/login").text
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    for path in ("/static/favicon.svg", "/favicon.ico"):
        icon = client.get(path)
        assert icon.status_code == 200, path
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.content.startswith(b"<svg")
