"""Request-level dependencies: who is calling, and the JSON responses of idempotent POSTs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.accounts.service import Principal
from tuangou.api.responses import FastJSONResponse
from tuangou.core import idempotency
from tuangou.core.errors import Forbidden, Unauthenticated


# The checks below are async on purpose: a signature check is quick, and a sync dependency
# would cost each request a hop to a worker thread and back.
async def principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated()
    return accounts.principal_from_token(token.strip())


async def maybe_principal(request: Request) -> Principal | None:
    """The caller if the request carries a bearer token (a bad one is still refused), else
    None: for what an anonymous caller may see too, with a share link."""
    if not request.headers.get("authorization"):
        return None
    return await principal(request)


def role(*allowed: str) -> Callable[..., Awaitable[Principal]]:
    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in allowed:
            raise Forbidden(f"this needs the {' or '.join(allowed)} role")
        return who

    return check


async def buyer(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """A member account: buying, after-sales, reviews, communities and leading are theirs
    (staff accounts get 403 ``staff_account``; the roles are in docs/SECURITY.md)."""
    return accounts.require_buyer(who)


Caller = Annotated[Principal, Depends(principal)]
MaybeCaller = Annotated[Principal | None, Depends(maybe_principal)]
Member = Annotated[Principal, Depends(buyer)]
Operator = Annotated[Principal, Depends(role("operator"))]
SupplierStaff = Annotated[Principal, Depends(role("supplier"))]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)]


def client_ip(request: Request) -> str | None:
    """The caller's IP address (behind a proxy, the server takes it from the proxy's
    ``X-Forwarded-For`` when the proxy is trusted: ``--forwarded-allow-ips``)."""
    return request.client.host if request.client else None


def idempotent(
    request: Request,
    *,
    who: Principal | None,
    key: str | None,
    body: Any,
    work: Callable[[Session], Any],
    status_code: int = 200,
) -> JSONResponse:
    """Run ``work`` in a unit of work, once per ``Idempotency-Key`` (on the calling thread)."""
    return _reply(idempotency.run(**_once(request, who, key, body, work, status_code)))


async def idempotent_grouped(
    request: Request,
    *,
    who: Principal | None,
    key: str | None,
    body: Any,
    work: Callable[[Session], Any],
    status_code: int = 200,
) -> JSONResponse:
    """:func:`idempotent` for the hot writes (joins, openings): awaited on the event loop,
    the work committed together with other requests' by group commit."""
    outcome = await idempotency.run_grouped(**_once(request, who, key, body, work, status_code))
    return _reply(outcome)


def _once(
    request: Request,
    who: Principal | None,
    key: str | None,
    body: Any,
    work: Callable[[Session], Any],
    status_code: int,
) -> dict[str, Any]:
    """The arguments of :func:`idempotency.run` for this request."""
    return {
        "scope": f"user:{who.user_id}" if who else "anon",
        "key": key,
        "request_hash": idempotency.fingerprint(request.method, request.url.path, body),
        "work": work,
        "status_code": status_code,
        "instance": request.url.path,
    }


def _reply(outcome: idempotency.Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    media = "application/problem+json" if outcome.status_code >= 400 else "application/json"
    return FastJSONResponse(
        outcome.body, status_code=outcome.status_code, headers=headers, media_type=media
    )
