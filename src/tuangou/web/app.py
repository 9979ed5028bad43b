"""Mounts the web app on the FastAPI application: page sessions, static assets, pages."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from tuangou.core.config import get_settings
from tuangou.web.session import PageSessions

STATIC_DIR = Path(__file__).parent / "static"
CACHE_A_DAY = "public, max-age=86400"


class CachedStatic(StaticFiles):
    """Static files with a cache lifetime, so a weak connection fetches each asset once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = CACHE_A_DAY
        return response


def install(app: FastAPI) -> None:
    from tuangou.web.pages import (
        achievements,
        addresses,
        auth,
        bargains,
        cocreate,
        coupons,
        events,
        flash,
        insight,
        journal,
        leader,
        leader_dashboard,
        leaderboards,
        member,
        moderation,
        nearby,
        notify_prefs,
        operator,
        photos,
        points,
        posts,
        privacy,
        referral,
        reviews,
        risk,
        supplier,
        teambuy,
    )

    settings = get_settings()
    # The browser's session (its row read once per page) in ``request.session``.
    app.add_middleware(PageSessions, secure=settings.cookie_secure)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """Browsers ask for it on every site: the same icon the pages link."""
        return Response(
            (STATIC_DIR / "favicon.svg").read_bytes(),
            media_type="image/svg+xml",
            headers={"Cache-Control": CACHE_A_DAY},
        )

    app.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
    app.add_exception_handler(leader.NotALeader, leader.not_a_leader)
    for module in (
        auth,
        teambuy,
        flash,
        member,
        addresses,
        leader,
        moderation,
        operator,
        risk,
        supplier,
        bargains,
        events,
        photos,
        posts,
        reviews,
        points,
        cocreate,
        referral,
        nearby,
        achievements,
        leaderboards,
        coupons,
        insight,
        notify_prefs,
        leader_dashboard,
        journal,
        privacy,
    ):
        app.include_router(module.router, include_in_schema=False)
