"""Errors on pages: a clear page in the user's language, never a stack trace.

The API's handlers (``tuangou.api.errors``) hand every error on a non-API path to
:func:`page`. A refusal's message is its error title, translated through the catalogs (the
``errors.po`` catalog holds one translation per stable code's title); a page that knows which
field was wrong shows it next to that field instead (see :func:`message`).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from tuangou.core.errors import DomainError
from tuangou.web import i18n
from tuangou.web.templating import language, render

_GENERIC = {
    400: i18n.lazy("The request is not valid"),
    403: i18n.lazy("You may not do this"),
    404: i18n.lazy("This page does not exist, or the link has expired"),
    405: i18n.lazy("This page does not exist, or the link has expired"),
    422: i18n.lazy("The request is not valid"),
    500: i18n.lazy("Something went wrong on our side; please try again in a moment"),
}


def message(request: Request, exc: DomainError) -> str:
    """What to tell the user about a refusal, in their language."""
    lang = language(request)
    if exc.detail and exc.detail != exc.title:
        detail = i18n.gettext(lang, exc.detail)
        if lang == "en" or detail != exc.detail:  # a detail with a translation says more
            return detail[:1].upper() + detail[1:]
    return i18n.gettext(lang, exc.title)


def page(request: Request, status: int, code: str, text: str) -> Response:
    """The error page (or, for a page that needs a login, the way to the log-in page)."""
    if code in ("unauthenticated", "bad_credentials") and request.method == "GET":
        from tuangou.web.session import login_url

        return RedirectResponse(login_url(request), status_code=303)
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "message": text},
        status_code=status,
    )


def for_domain_error(request: Request, exc: DomainError) -> Response:
    return page(request, exc.status, exc.code, message(request, exc))


def for_status(request: Request, status: int) -> Response:
    lang = language(request)
    code = {404: "not_found", 405: "not_found", 500: "internal_error"}.get(status, "http_error")
    text = i18n.gettext(lang, _GENERIC.get(status, _GENERIC[400]))
    return page(request, status, code, text)
