"""Mounts the web app on the FastAPI application: session cookies, static assets, pages."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Scope

from tuangou.core import secret
from tuangou.core.config import get_settings

STATIC_DIR = Path(__file__).parent / "static"
CACHE_A_DAY = "public, max-age=86400"


class CachedStatic(StaticFiles):
    """Static files with a cache lifetime, so a weak connection fetches each asset once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = CACHE_A_DAY
        return response


@cache
def _plotly_js() -> tuple[bytes, bytes]:
    """The chart library, from the installed ``plotly`` package (never a CDN)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    raw = path.read_bytes()
    return raw, gzip.compress(raw, 6)


def install(app: FastAPI) -> None:
    from tuangou.web.pages import auth, leader, member, operator, supplier, teambuy

    settings = get_settings()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret.sign("web-session", "session-key"),
        session_cookie="tuangou_session",
        max_age=settings.token_ttl_days * 86400,
        same_site="lax",
        https_only=settings.cookie_secure,
    )

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js(request: Request) -> Response:
        raw, packed = _plotly_js()
        headers = {"Cache-Control": CACHE_A_DAY, "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(packed, media_type="text/javascript", headers=headers)
        return Response(raw, media_type="text/javascript", headers=headers)

    app.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
    app.add_exception_handler(leader.NotALeader, leader.not_a_leader)
    for module in (auth, teambuy, member, leader, operator, supplier):
        app.include_router(module.router, include_in_schema=False)
