"""The FastAPI application: routers mounted per domain under ``/api``."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from tuangou import __version__, wiring
from tuangou.accounts.router import router as accounts_router
from tuangou.achievements.router import router as achievements_router
from tuangou.aftersales.router import router as aftersales_router
from tuangou.analytics.router import router as analytics_router
from tuangou.api import errors, security
from tuangou.api.gate import RefusalGate
from tuangou.api.responses import FastJSONResponse
from tuangou.api.schemas import HealthOut, NoopOut, ReadyOut
from tuangou.bargains.router import router as bargains_router
from tuangou.catalog.router import router as catalog_router
from tuangou.cocreate.router import router as cocreate_router
from tuangou.communities.router import router as communities_router
from tuangou.core.config import get_settings
from tuangou.core.schemas import bound_parameters, problem_responses
from tuangou.coupons.router import router as coupons_router
from tuangou.credit.router import router as credit_router
from tuangou.events.router import router as events_router
from tuangou.flashsales.router import router as flash_router
from tuangou.fulfilment.router import router as fulfilment_router
from tuangou.insight.router import router as insight_router
from tuangou.journal.router import router as journal_router
from tuangou.leaderboards.router import router as leaderboards_router
from tuangou.moderation.router import router as moderation_router
from tuangou.notifications.router import router as notifications_router
from tuangou.orders.router import router as orders_router
from tuangou.payments.router import router as payments_router
from tuangou.photos.router import router as photos_router
from tuangou.points.router import router as points_router
from tuangou.pools.export_router import router as pool_exports_router
from tuangou.pools.router import router as pools_router
from tuangou.posts.router import router as posts_router
from tuangou.privacy.router import router as privacy_router
from tuangou.quality.router import router as quality_router
from tuangou.recommend.router import router as recommend_router
from tuangou.referral.router import router as referral_router
from tuangou.reviews.router import router as reviews_router
from tuangou.risk.router import router as risk_router
from tuangou.search.router import router as search_router
from tuangou.simulate.router import router as simulate_router
from tuangou.teams.router import router as teams_router
from tuangou.webhooks.router import router as webhooks_router

API_PREFIX = "/api"
LOCAL_CLIENTS = ("127.0.0.1", "::1", "testclient")  # who reads /metrics without a token


def create_app(*, run_worker: bool | None = None) -> FastAPI:
    wiring.compose()
    settings = get_settings()
    start_worker = settings.run_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from tuangou.worker import WorkerThread

        worker = WorkerThread(settings.worker_interval) if start_worker else None
        if worker:
            worker.start()
        try:
            yield
        finally:
            if worker:
                worker.close()

    from tuangou.core import secret

    secret.secret_key()  # made once, outside any other transaction
    app = FastAPI(
        title="tuangou",
        version=__version__,
        description="Open, self-hosted social group-buying (社交团购). Money is in fen.",
        lifespan=lifespan,
        default_response_class=FastJSONResponse,
        docs_url=None,  # served by tuangou.api.security, from installed files
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    errors.install(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = bound_parameters(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    # Every route declares its success reply; the error replies are declared here, once.
    api = APIRouter(prefix=API_PREFIX, responses=problem_responses())

    # The benchmarks' baseline: the model documents the reply, the route sends its dict as it is.
    @api.get("/noop", tags=["system"], response_model=None, responses={200: {"model": NoopOut}})
    async def noop() -> dict[str, bool]:
        """Does nothing: the baseline of the benchmarks."""
        return {"ok": True}

    @api.get("/health", tags=["system"], response_model=HealthOut)
    def health() -> dict[str, str]:
        from sqlalchemy import text

        from tuangou.core.db import unit_of_work

        with unit_of_work(readonly=True) as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @api.get(
        "/ready",
        tags=["system"],
        response_model=ReadyOut,
        responses={503: {"model": ReadyOut, "description": "Not ready: see which check failed"}},
    )
    def ready() -> FastJSONResponse:
        """Whether this deployment can serve (for a load balancer or an orchestrator): the
        database answers, its migrations are current, and a worker is alive. 503 otherwise."""
        from tuangou.core import clock, liveness

        r = liveness.check()
        body = ReadyOut(
            ready=r.ready,
            database=r.database,
            migrations=r.migrations,
            worker=r.worker,
            worker_seen_at=clock.iso(r.worker_seen),
            schema_revision=r.schema,
            code_revision=r.code_schema,
        )
        return FastJSONResponse(body.model_dump(), status_code=200 if r.ready else 503)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(request: Request) -> Response:
        """Prometheus metrics (see tuangou.core.metrics): for a scraper holding
        TUANGOU_METRICS_TOKEN, or from this machine when no token is set."""
        from tuangou.core import metrics

        token = get_settings().metrics_token
        if token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        elif request.client is None or request.client.host not in LOCAL_CLIENTS:
            return Response(status_code=403)
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    # Routes are matched in order, one by one: the hot paths (joining, paying) come first.
    # (No two API routes match the same method and path but the communities' invite and
    # waves pair, which keep their order.)
    for router in (
        flash_router,
        teams_router,
        payments_router,
        accounts_router,
        catalog_router,
        orders_router,
        notifications_router,
        communities_router,
        pools_router,
        fulfilment_router,
        pool_exports_router,
        aftersales_router,
        credit_router,
        analytics_router,
        search_router,
        bargains_router,
        risk_router,
        events_router,
        photos_router,
        moderation_router,
        posts_router,
        reviews_router,
        points_router,
        cocreate_router,
        referral_router,
        webhooks_router,
        achievements_router,
        leaderboards_router,
        insight_router,
        simulate_router,
        coupons_router,
        journal_router,
        recommend_router,
        privacy_router,
        quality_router,
    ):
        api.include_router(router)
    app.include_router(api)

    from tuangou.web.app import install as install_web

    install_web(app)  # the pages, at /
    # Refusals from memory (a flash slot sold out, a team campaign with nothing free), before
    # the routing: see core/soldout.py.
    app.add_middleware(RefusalGate)
    security.install(app)  # the docs page; security headers around everything above
    return app
