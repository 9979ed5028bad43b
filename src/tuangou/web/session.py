"""Who is logged in to the pages, and the CSRF token of every form.

A logged-in browser's session lives on the server (``accounts``' page sessions, a row of
``web_sessions``). Its cookie, ``tuangou_session``, holds only a random id of 256 bits: nothing
in it names the user, and it stops working the moment the session ends (log-out, "log out on
every device", the idle time or the absolute lifetime). A page reads the row once per request
(by its primary key), and a request renews the idle time, written at most once every few
minutes. Log-in always makes a new id (an id known before the log-in never becomes a logged-in
one).

An anonymous visitor has no row: their forms (log-in, sign-up, the SMS code) carry the CSRF
token of a signed cookie of their own, ``tuangou_csrf`` (a random token and the instance's
signature of it), set the first time a page shows them a form. Both cookies are HttpOnly,
SameSite=Lax, Path=/, and ``Secure`` when ``TUANGOU_COOKIE_SECURE`` is on. Every POST form
carries the CSRF token and is refused without the one of its session.

``request.session`` is the pages' small state between two requests (a flash message, the
pickup counter's last result), kept in the session's row; an anonymous visitor's is not kept.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, MutableMapping
from http.cookies import SimpleCookie
from typing import Annotated, Any, cast
from urllib.parse import quote

import anyio.to_thread
from fastapi import Depends, Request
from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tuangou.accounts import service as accounts
from tuangou.accounts.service import PageSessionState, Principal
from tuangou.core import secret
from tuangou.core.config import get_settings
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError, Forbidden, Unauthenticated
from tuangou.web.codes import WebErrorCode

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "tuangou_session"
ANONYMOUS_COOKIE = "tuangou_csrf"
DEVICE_COOKIE = "tg_device"  # the pages' device id (api.deps.device_of reads it)
DEVICE_AGE = 2 * 365 * 86400
_NOT_PAGES = ("/api/", "/static/", "/docs", "/openapi.json")


class LoginRequired(Unauthenticated):
    """Raised by a page that needs a login; the page handler turns it into a redirect."""


class CsrfFailed(DomainError):
    code = WebErrorCode.CSRF_FAILED
    status = 403
    title = "This form has expired; reload the page and try again"


def _sign(token: str) -> str:
    return f"{token}.{secret.sign(token, 'anonymous-csrf')}"


def _unsigned(value: str | None) -> str | None:
    """The token of an anonymous CSRF cookie, if this instance signed it."""
    if not value or "." not in value:
        return None
    token, _, signature = value.partition(".")
    return token if token and secret.verify(token, signature, "anonymous-csrf") else None


class PageSession(MutableMapping[str, Any]):
    """``request.session``: the browser's session, read from its row when first needed (the
    middleware reads it ahead, off the event loop, for a page)."""

    def __init__(self, session_id: str | None, anonymous: str | None) -> None:
        self.id = session_id
        self.state: PageSessionState | None = None
        self.loaded = not session_id
        self.changed = False  # the pages' state changed: written at the end of the request
        self.new_cookie = False  # log-in: the new id goes to the browser
        self.drop_cookie = False  # an id that is no session (any more): the browser forgets it
        self._anonymous_cookie = anonymous
        self._anonymous: str | None = None
        self._anonymous_new = False
        self._transient: dict[str, Any] = {}  # an anonymous visitor's state, this request only

    # -- the row

    def load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        session_id = self.id
        assert session_id is not None
        self.state = read(lambda db: accounts.find_page_session(db, session_id))
        if self.state is None:
            self.id = None
            self.drop_cookie = True

    @property
    def who(self) -> Principal | None:
        self.load()
        return self.state.who if self.state else None

    @property
    def _data(self) -> dict[str, Any]:
        self.load()
        return self.state.data if self.state else self._transient

    def start(self, session_id: str, state: PageSessionState) -> None:
        """A new session (log-in): what this request knew before is gone."""
        self.id, self.state, self.loaded = session_id, state, True
        self.new_cookie, self.drop_cookie, self.changed = True, False, False
        self._transient = {}

    def end(self) -> None:
        """Log-out, here: the browser forgets the id (the caller ended the row)."""
        self.id, self.state, self.loaded = None, None, True
        self.new_cookie, self.changed = False, False
        self.drop_cookie = True

    # -- CSRF

    def csrf(self, *, create: bool) -> str | None:
        """The token every form of this session carries: the logged-in session's, else the
        anonymous cookie's (made when ``create``)."""
        self.load()
        if self.state is not None:
            return self.state.csrf
        if self._anonymous is None:
            self._anonymous = _unsigned(self._anonymous_cookie)
        if self._anonymous is None and create:
            self._anonymous = secrets.token_urlsafe(24)
            self._anonymous_new = True
        return self._anonymous

    # -- the mapping (the pages' small state)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self._touched()

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._touched()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def _touched(self) -> None:
        if self.state is not None:
            self.changed = True
        else:
            log.warning("an anonymous visitor's page state is not kept past this request")

    # -- the end of the request

    def needs_saving(self) -> bool:
        if self.state is None or self.id is None:
            return False
        return self.changed or accounts.renewal_due(self.state)

    def save(self) -> None:
        """Write the renewal (when due) and the pages' state (when changed); a failure costs
        a renewal or a flash message, never the page."""
        session_id, state = self.id, self.state
        if session_id is None or state is None:
            return
        data = dict(state.data) if self.changed else None
        try:
            run_in_transaction(
                lambda db: accounts.save_page_session(db, session_id, state, data=data)
            )
        except Exception:
            log.exception("writing a page session failed")

    def cookies(self, secure: bool) -> list[str]:
        """The Set-Cookie headers this request sends."""
        out = []
        idle, lifetime = _lifetimes()
        if self.new_cookie and self.id:
            out.append(_cookie(SESSION_COOKIE, self.id, lifetime, secure))
            if self._anonymous_cookie:
                out.append(_cookie(ANONYMOUS_COOKIE, "", 0, secure))
        elif self.drop_cookie:
            out.append(_cookie(SESSION_COOKIE, "", 0, secure))
        if self._anonymous_new and self.state is None and self._anonymous:
            out.append(_cookie(ANONYMOUS_COOKIE, _sign(self._anonymous), idle, secure))
        return out


def _lifetimes() -> tuple[int, int]:
    settings = get_settings()
    return settings.web_session_idle_hours * 3600, settings.web_session_max_days * 86400


def _cookie(name: str, value: str, max_age: int, secure: bool) -> str:
    jar: SimpleCookie = SimpleCookie()
    jar[name] = value
    morsel = jar[name]
    morsel["path"] = "/"
    morsel["max-age"] = max_age
    morsel["httponly"] = True
    morsel["samesite"] = "lax"
    if max_age == 0:
        morsel["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
    if secure:
        morsel["secure"] = True
    return morsel.OutputString()


class PageSessions:
    """The middleware: puts the browser's :class:`PageSession` in ``request.session``, reads
    its row ahead for a page, and at the start of the reply writes what changed and sends
    the cookies."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = HTTPConnection(scope).cookies
        page = PageSession(cookies.get(SESSION_COOKIE) or None, cookies.get(ANONYMOUS_COOKIE))
        scope["session"] = page
        if not page.loaded and not str(scope["path"]).startswith(_NOT_PAGES):
            await anyio.to_thread.run_sync(page.load)

        # The browser's device, for the risk engine: a long-lived random id, set once by a page.
        new_device = not cookies.get(DEVICE_COOKIE) and not str(scope["path"]).startswith(
            _NOT_PAGES
        )

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                if page.needs_saving():
                    await anyio.to_thread.run_sync(page.save)
                headers = MutableHeaders(scope=message)
                for value in page.cookies(self.secure):
                    headers.append("Set-Cookie", value)
                if new_device:
                    device = secrets.token_urlsafe(16)
                    headers.append(
                        "Set-Cookie", _cookie(DEVICE_COOKIE, device, DEVICE_AGE, self.secure)
                    )
            await send(message)

        await self.app(scope, receive, sending)


def _page_session(request: Request) -> PageSession:
    return cast(PageSession, request.scope["session"])


def log_in(request: Request, user: object) -> None:
    """A new session for ``user``; the browser's session before it (if any) ends."""
    page = _page_session(request)
    before = page.id
    session_id, state = run_in_transaction(
        lambda db: accounts.open_page_session(db, user, replacing=before)  # type: ignore[arg-type]
    )
    page.start(session_id, state)


def log_out(request: Request) -> None:
    page = _page_session(request)
    session_id = page.id
    if session_id is not None:
        run_in_transaction(lambda db: accounts.end_page_session(db, session_id))
    page.end()


def current(request: Request) -> Principal | None:
    return _page_session(request).who


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


def require_buyer(request: Request) -> Principal:
    """The logged-in member who buys, files an after-sale, reviews, joins a community or
    applies to lead; a staff account (operator, supplier) is refused (``staff_account``)."""
    return accounts.require_buyer(require(request))


def csrf_token(request: Request) -> str:
    return str(_page_session(request).csrf(create=True))


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's (else 403, nothing done)."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    page = _page_session(request)
    if not page.loaded:
        await anyio.to_thread.run_sync(page.load)
    expected = page.csrf(create=False)
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


def _page_buyer(request: Request) -> Principal:
    return require_buyer(request)


def _page_operator(request: Request) -> Principal:
    return require(request, "operator")


PageUser = Annotated[Principal, Depends(_page_user)]
PageBuyer = Annotated[Principal, Depends(_page_buyer)]
PageOperator = Annotated[Principal, Depends(_page_operator)]
Form = Annotated[FormData, Depends(checked_form)]


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths are followed after a log-in (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return default
