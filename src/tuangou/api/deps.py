"""Request-level dependencies: who is calling, and the JSON responses of idempotent POSTs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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


# ---------------------------------------------------------------- the risk engine's gate
# The risk engine judges every signup, login, join, order and invite (DOMAIN.md "Risk and
# privacy"). The entry points call :func:`screen`; what judges is the gate the composition
# root registers (``risk.service.gate``), so that no domain's router imports the risk domain.

DEVICE_HEADER = "X-Device-Id"
DEVICE_COOKIE = "tg_device"  # set by the pages (web/app.py), long-lived


@dataclass(frozen=True)
class RiskGate:
    # (session or None, type=, actor=, target=, other=, device=, ip=, phone=, amount_fen=,
    # challenge_ok=) -> the recorded event's id; raises the refusal of a block or a challenge
    judge: Callable[..., int | None]
    # (session, event id, actor): names the account a signup's event created
    bind: Callable[[Session, int, int], None]


_risk_gate: RiskGate | None = None


def register_risk_gate(gate: RiskGate | None) -> None:
    global _risk_gate
    _risk_gate = gate


def device_of(request: Request, *, cookie: bool = False) -> str | None:
    """The caller's device: the app's ``X-Device-Id`` header (and for the pages, their
    long-lived device cookie)."""
    value = request.headers.get(DEVICE_HEADER) or (
        request.cookies.get(DEVICE_COOKIE) if cookie else None
    )
    return (value.strip()[:128] or None) if value else None


def screen(
    request: Request,
    session: Session | None = None,
    *,
    type: str,
    actor: int | None,
    target: str | None = None,
    other: int | None = None,
    phone: str | None = None,
    amount_fen: int | None = None,
    challenge_ok: bool = False,
    cookie: bool = False,
) -> int | None:
    """Judge the request's action with the risk engine (in ``session``, else in a unit of
    work of its own, so that a refused attempt is kept); raises its refusal. Returns the
    recorded event's id (None when no gate is registered). The pages pass ``cookie=True``:
    their device is the ``tg_device`` cookie."""
    if _risk_gate is None:
        return None
    return _risk_gate.judge(
        session,
        type=type,
        actor=actor,
        target=target,
        other=other,
        device=device_of(request, cookie=cookie),
        ip=client_ip(request),
        phone=phone,
        amount_fen=amount_fen,
        challenge_ok=challenge_ok,
    )


def screened_actor(session: Session, event_id: int | None, actor: int) -> None:
    """Name the account an action screened before it existed (a signup) created."""
    if _risk_gate is not None and event_id is not None:
        _risk_gate.bind(session, event_id, actor)


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
