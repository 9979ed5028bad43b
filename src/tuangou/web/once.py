"""Forms that create something (an order, a payment, a refund, a withdrawal) carry a hidden
one-time key, rendered with the page; the handler runs its work through
:func:`tuangou.core.idempotency.run` under that key, as the API does with ``Idempotency-Key``.
A double submit then does the work once: the second submit gets the first one's answer (its
body, or its refusal) instead of creating a second thing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from tuangou.accounts.service import Principal
from tuangou.core import idempotency
from tuangou.core.errors import DomainError
from tuangou.web.forms import FormState


def new_key() -> str:
    """A one-time key to render into a form."""
    return secrets.token_urlsafe(16)


def run(
    request: Request,
    who: Principal,
    key: str | None,
    body: Any,
    work: Callable[[Session], Any],
    *,
    per_values: bool = False,
) -> idempotency.Outcome:
    """Run ``work`` once per form key (without a key, simply once in a transaction).

    ``body`` is what was sent: the same key with another body is refused as a reused key,
    unless ``per_values``, where the same page sent again with other values (after going
    back) is a request of its own.
    """
    request_hash = idempotency.fingerprint("POST", request.url.path, body)
    if key and per_values:
        key = f"{key[:64]}:{request_hash[:32]}"
    return idempotency.run(
        scope=f"user:{who.user_id}",
        key=key or None,
        request_hash=request_hash,
        work=work,
        instance=request.url.path,
    )


def do(
    request: Request, who: Principal, key: str | None, body: Any, work: Callable[[Session], Any]
) -> Any:
    """:func:`run`, then its :func:`answer`: the body, or the (first) refusal raised."""
    return answer(run(request, who, key, body, work))


def answer(outcome: idempotency.Outcome) -> Any:
    """The work's body, or its refusal raised again (a double submit's first answer)."""
    if outcome.status_code >= 400:
        raise refusal(outcome.body)
    return outcome.body


def refusal(problem: dict[str, Any]) -> DomainError:
    """A refusal stored under a form key (as problem details), as an error with its words."""
    kind = type(
        "ReplayedRefusal",
        (DomainError,),
        {
            "code": str(problem.get("code", "error")),
            "status": int(problem.get("status", 409)),
            "title": str(problem.get("title", "")),
        },
    )
    # The refusal's own fields (the field it names, how many more are allowed...) come along.
    extra = {k: v for k, v in problem.items() if k not in _PROBLEM_FIELDS and v is not None}
    return kind(str(problem.get("detail") or problem.get("title") or ""), **extra)


_PROBLEM_FIELDS = frozenset({"type", "title", "status", "code", "detail", "instance"})


def replayed_refusal(request: Request, state: FormState, outcome: idempotency.Outcome) -> bool:
    """A double submit whose first run was refused: show that refusal above the form."""
    if outcome.status_code < 400:
        return False
    title = str(outcome.body.get("title", "")) if isinstance(outcome.body, dict) else ""
    state.add(request, "_form", title or "The request is not valid")
    return True
