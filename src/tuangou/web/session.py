"""Who is logged in to the pages, and the CSRF token of every form.

The session is Starlette's signed cookie (HttpOnly, SameSite=Lax, ``Secure`` when
``TUANGOU_COOKIE_SECURE`` is on). It holds the same signed token the API hands out, so a page
knows its caller exactly as the API does (:func:`accounts.principal_from_token`), with the same
expiry. Every POST form carries the session's CSRF token and is refused without it.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData

from tuangou.accounts import service as accounts
from tuangou.accounts.service import Principal
from tuangou.core.errors import DomainError, Forbidden, Unauthenticated
from tuangou.web.codes import WebErrorCode

CSRF_FIELD = "csrf_token"


class LoginRequired(Unauthenticated):
    """Raised by a page that needs a login; the page handler turns it into a redirect."""


class CsrfFailed(DomainError):
    code = WebErrorCode.CSRF_FAILED
    status = 403
    title = "This form has expired; reload the page and try again"


def log_in(request: Request, user: object) -> None:
    request.session.clear()
    request.session["token"] = accounts.issue_token(user)  # type: ignore[arg-type]
    request.session["csrf"] = secrets.token_urlsafe(24)


def log_out(request: Request) -> None:
    request.session.clear()


def current(request: Request) -> Principal | None:
    token = request.session.get("token")
    if not token:
        return None
    try:
        return accounts.principal_from_token(token)
    except Unauthenticated:
        request.session.pop("token", None)
        return None


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def require(request: Request, *roles: str) -> Principal:
    who = current(request)
    if who is None:
        raise LoginRequired(next=login_url(request))
    if roles and who.role not in roles:
        raise Forbidden(f"this page needs the {' or '.join(roles)} role")
    return who


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return str(token)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's (else 403, nothing done)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if (
        not isinstance(sent, str)
        or not sent.isascii()  # compare_digest refuses other text (a TypeError): never a token
        or not expected
        or not secrets.compare_digest(sent, expected)
    ):
        raise CsrfFailed()
    return form


def _page_user(request: Request) -> Principal:
    return require(request)


def _page_operator(request: Request) -> Principal:
    return require(request, "operator")


PageUser = Annotated[Principal, Depends(_page_user)]
PageOperator = Annotated[Principal, Depends(_page_operator)]
Form = Annotated[FormData, Depends(checked_form)]


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths are followed after a log-in (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default
