"""The headers that keep browsers safe on every reply, and the API's docs page served from
installed files (never a CDN).

- Pages may not be framed (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``), so the
  pickup counter and the operator's refund form cannot be clickjacked.
- Scripts run only from the app's own origin; the only inline ``<script>`` blocks on the
  pages are JSON data, which browsers never run. Styles may be inline (the charts add theirs).
- Images may come from the app, ``data:`` (QR codes) or any HTTPS host (product photos on
  a supplier's or operator's CDN).
- Nothing is sniffed, and the full address never leaves as a referrer for another site
  (share and invite links carry codes).
- With ``TUANGOU_COOKIE_SECURE`` on (behind HTTPS), browsers are told to use HTTPS only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tuangou.core.config import get_settings

PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000"
DOCS_ASSETS = "/docs/assets"


def _headers(hsts: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", PAGE_POLICY.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeaders:
    """Adds the headers above to every HTTP reply that does not set its own."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = _headers(hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, add)


def _swagger_static() -> Path:
    import swagger_ui  # the swagger-ui-py package: Swagger UI's own files

    return Path(swagger_ui.__file__).parent / "static"


@cache
def _docs_page(openapi_url: str, title: str) -> tuple[bytes, str]:
    """The docs page and its policy: its one inline script is allowed by its hash."""
    html = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
    ).body
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in re.findall(rb"<script>(.*?)</script>", html, flags=re.S)
    )
    policy = PAGE_POLICY.replace("script-src 'self'", f"script-src 'self' {hashes}")
    return bytes(html), policy


def install(app: FastAPI) -> None:
    """Mount the docs page and its assets, and wrap the app in :class:`SecurityHeaders`
    (call last, so that it wraps every other middleware's replies too)."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        html, policy = _docs_page(openapi_url, f"{app.title} API")
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    app.mount(DOCS_ASSETS, StaticFiles(directory=_swagger_static()), name="swagger")
    app.add_middleware(SecurityHeaders, hsts=get_settings().cookie_secure)
