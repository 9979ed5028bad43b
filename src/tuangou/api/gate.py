"""The gate in front of the routing: refusals a process can give from memory.

Domains register the routes it may answer (``core.soldout.gate_route``: a flash slot sold
out, a team campaign with nothing free, a team with nothing reserved and nothing free). For
such a request from a member, the gate asks the route's ``decide`` and answers its refusal at
once: no routing, no dependencies, no idempotency record, no transaction, no statement (but
the one read a second of a stale mark, see ``core.soldout.refuse``). The caller is checked
from the token's signature and age alone (``accounts.principal_from_signature``): revocation
is not looked up, since a refusal reveals nothing and changes nothing. Anyone else (no token,
a forged or expired one, a staff account) goes on to the route, which answers 401 or 403 as
always; so does any request the memory cannot refuse.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tuangou.accounts import service as accounts
from tuangou.api.errors import problem
from tuangou.core import soldout
from tuangou.core.errors import DomainError
from tuangou.core.schemas import BIGGEST

MAX_BODY = 4096  # a larger body is not looked at: the route answers


class RefusalGate:
    """ASGI middleware answering the refusals that ``core.soldout``'s gated routes give."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        for route in soldout.gated_routes():
            match = route.pattern.match(scope["path"])
            if match is None or route.method != scope["method"]:
                continue
            if any(int(g) > BIGGEST for g in match.groups() if g and g.isdigit()):
                break
            if not _is_member(scope) or _has_key(scope):
                break
            body: dict[str, Any] = {}
            if route.reads_body:
                messages, raw = await _read_body(receive)
                receive = _replay(messages, receive)
                if raw is None:
                    break
                body = _json_object(raw)
            refused = route.decide(match, body)
            if refused is not None:
                await _answer(refused, scope, receive, send)
                return
            break
        await self.app(scope, receive, send)


async def _answer(refused: DomainError, scope: Scope, receive: Receive, send: Send) -> None:
    reply = problem(
        refused.status, refused.code, refused.title, refused.detail, instance=scope["path"]
    )
    await reply(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The request's body messages (to be replayed) and its bytes, or None when it is larger
    than MAX_BODY (then it is not parsed)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return again


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        found = json.loads(raw)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _has_key(scope: Scope) -> bool:
    """A request with an ``Idempotency-Key`` may retry one that succeeded (its reply was
    lost): only the route can replay that answer, so the gate leaves it to the route."""
    return any(name == b"idempotency-key" for name, _ in scope["headers"])


def _is_member(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token:
                return False
            try:
                accounts.require_buyer(accounts.principal_from_signature(token.strip()))
            except DomainError:
                return False
            return True
    return False
