"""Jinja2 templates in the user's language, with the filters every page shares."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from tuangou.accounts import service as accounts
from tuangou.accounts.service import Principal
from tuangou.core import clock, money
from tuangou.core.config import get_settings
from tuangou.core.db import unit_of_work
from tuangou.notifications import service as notifications
from tuangou.web import i18n, qr, session

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_VERSION = "4"


def language(request: Request) -> str:
    """The page language: the ``lang`` cookie, else the browser's, else Chinese."""
    chosen = request.cookies.get("lang")
    if chosen in i18n.LANGUAGES:
        return chosen
    return i18n.pick(request.headers.get("accept-language"))


def fmt_money(fen: int | None) -> str:
    return "" if fen is None else money.fmt(int(fen))


def fmt_time(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time in the deployment's time zone."""
    return "" if value is None else clock.to_local(value).strftime(pattern)


def iso(value: datetime | None) -> str:
    """For ``<time datetime=…>`` and the countdown script."""
    return clock.iso(value) or ""


def list_separator(lang: str) -> str:
    """Between the items of a list in a sentence: 、 in Chinese, a comma in English."""
    return "、" if lang == "zh-CN" else ", "


@cache
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    # Phone numbers shown to anyone but their owner: 138****1234.
    env.filters.update(money=fmt_money, localtime=fmt_time, iso=iso, masked=accounts.mask_phone)
    env.globals.update(
        qr=qr.svg,
        lang=lang,
        languages=i18n.LANGUAGES,
        static_version=STATIC_VERSION,
        html_lang="zh-CN" if lang == "zh-CN" else "en",
        sep=list_separator(lang),
    )
    return env


def translate(request: Request, message: str, **values: Any) -> str:
    text = i18n.gettext(language(request), message)
    return text % values if values else text


def _unread(who: Principal | None) -> Callable[[], int]:
    """The caller's unread messages, for the tab bar's badge: counted only by a page that
    shows the tab bar."""

    def count() -> int:
        if who is None:
            return 0
        try:
            with unit_of_work(readonly=True) as db:
                return notifications.unread_count(db, who.user_id)
        except SQLAlchemyError:  # an error page while the database is away: no badge
            log.warning("the unread count could not be read", exc_info=True)
            return 0

    return count


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page for the calling user, in their language."""
    lang = language(request)
    who = session.current(request)
    ctx: dict[str, Any] = {
        "request": request,
        "user": who,
        "csrf_field": Markup('<input type="hidden" name="{}" value="{}">').format(
            session.CSRF_FIELD, session.csrf_token(request)
        ),
        "path": request.url.path,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "now": clock.now(),
        "inbox_unread": _unread(who),
    }
    ctx.update(context or {})
    body = environment(lang).get_template(template).render(ctx)
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Content-Language"] = lang
    return response


def absolute_url(request: Request, path: str) -> str:
    """A link to be shared outside the app (a team's share link, a community's invite, their
    QR codes): on ``TUANGOU_PUBLIC_URL`` when it is set (a server behind a proxy), else on the
    address the request came to."""
    base = get_settings().public_url or str(request.base_url)
    return base.rstrip("/") + path
