"""RFC 9457 problem details for every error (ENGINEERING.md rule 6)."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tuangou.api.responses import FastJSONResponse
from tuangou.core import logs, metrics
from tuangou.core.errors import DomainError

log = logging.getLogger(__name__)
NUMBER_OUT_OF_RANGE = "22003"  # PostgreSQL's numeric_value_out_of_range


def _sqlstate(exc: DataError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


PROBLEM = "application/problem+json"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> FastJSONResponse:
    body = {
        "type": f"https://tuangou.dev/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return FastJSONResponse(body, status_code=status, media_type=PROBLEM)


def _is_page(request: Request) -> bool:
    """Everything outside the API (and its docs) is a web page, answered with HTML."""
    path = request.url.path
    return not (path.startswith(("/api/", "/docs", "/openapi.json")) or path == "/api")


def install(app: FastAPI) -> None:
    from tuangou.web import errors as pages

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if _is_page(request):
            return pages.for_domain_error(request, exc)
        retry = exc.extra.get("retry_after")
        return FastJSONResponse(
            exc.to_problem(request.url.path),
            status_code=exc.status,
            media_type=PROBLEM,
            headers={"Retry-After": str(retry)} if retry is not None else None,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_page(request):
            return pages.for_status(request, 404)
        errors = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return problem(
            422,
            "invalid_input",
            "The request is not valid",
            f"{first['field']}: {first['message']}",
            errors=errors,
        )

    async def out_of_range(request: Request, exc: Exception) -> Response:
        """A number in the path or the query too big for the database (SQLite refuses to
        bind it, PostgreSQL to compare it with an integer column): no such thing, on a page;
        an invalid request, on the API."""
        if isinstance(exc, DataError) and _sqlstate(exc) != NUMBER_OUT_OF_RANGE:
            return await _crashed(request, exc)
        if _is_page(request):
            return pages.for_status(request, 404)
        return problem(422, "invalid_input", "The request is not valid", "a number is out of range")

    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DataError, out_of_range)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_page(request):
            return pages.for_status(request, exc.status_code)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        reply = problem(exc.status_code, code, str(exc.detail), str(exc.detail))
        reply.headers.update(exc.headers or {})
        if exc.status_code == 405:
            reply.headers["Allow"] = _allowed(request)
        return reply

    app.add_middleware(AnswerCrashes)


def _allowed(request: Request) -> str:
    """The methods of every route at this path (Starlette's own 405 names those of the first
    route that matched the path only, while a path often has one route per method)."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    )


async def _crashed(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    from tuangou.web import errors as pages

    if _is_page(request):
        return pages.for_status(request, 500)
    return problem(
        500,
        "internal_error",
        "Something went wrong on our side",
        "Query the resource, or retry with the same Idempotency-Key, to learn the outcome.",
    )


class AnswerCrashes:
    """Every request gets its id (``X-Request-ID``: the caller's, or a new one; see
    :mod:`tuangou.core.logs`), sent back on the reply and in the logs.

    An unexpected error is answered with a 500 problem (or page), and the connection stays
    usable. (An exception handler for ``Exception`` is not enough: Starlette re-raises after
    it, and the server then drops the keep-alive connection, failing the next request that
    someone else's proxy sends on it.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        status = 500
        begun = time.perf_counter()
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        rid = logs.accept_or_make(given.decode("latin-1") if given else None)
        logs.request_id.set(rid)

        async def watch(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise  # half a reply is out: only closing the connection can end it
            response = await _crashed(Request(scope, receive), exc)
            await response(scope, receive, send)
        finally:
            metrics.REQUESTS.labels(
                scope["method"], metrics.route_of(scope), f"{status // 100}xx"
            ).observe(time.perf_counter() - begun)
