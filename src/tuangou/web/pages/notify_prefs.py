"""通知设置 (我的 → 通知设置): which kinds of message also reach the member by text message or
WeChat (staff: by e-mail), quiet hours for text messages, whether the pickup-day reminder may
come at night; where text messages go (the phone, masked), the WeChat authorisations left,
and the latest deliveries."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.notifications import service as notifications
from tuangou.web import i18n, session
from tuangou.web.forms import FormState
from tuangou.web.session import Form, PageUser
from tuangou.web.templating import language, render

router = APIRouter()

PAGE = "/me/notification-settings"
CHANNEL_NAMES = {
    "sms": i18n.lazy("Text message"),
    "wechat": i18n.lazy("WeChat"),
    "email": i18n.lazy("E-mail"),
}
STATUS_NAMES = {
    "queued": i18n.lazy("Waiting"),
    "sent": i18n.lazy("Sent"),
    "skipped": i18n.lazy("Not sent"),
    "failed": i18n.lazy("Failed"),
}


def _state(prefs: notifications.Preferences) -> FormState:
    values: dict[str, Any] = {
        "quiet_start": prefs.quiet_start,
        "quiet_end": prefs.quiet_end,
        "pickup_at_night": "1" if prefs.pickup_at_night else "",
        "email": prefs.email or "",
    }
    for kind, channels in prefs.routes.items():
        for channel in channels:
            values[f"route-{kind}-{channel}"] = "1"
    return FormState(values=values)


def _page(
    request: Request, user_id: int, state: FormState | None = None, status_code: int = 200
) -> Response:
    lang = language(request)
    prefs, deliveries = read(
        lambda db: (
            notifications.get_preferences(db, user_id),
            notifications.recent_deliveries(db, user_id, limit=10),
        )
    )
    kinds = [(k, notifications.render(k, {}, lang)[0]) for k in notifications.TOPICS]
    return render(
        request,
        "member/notify_prefs.html",
        {
            "form": state or _state(prefs),
            "prefs": prefs,
            "kinds": kinds,
            "titles": dict(kinds),
            "channel_names": CHANNEL_NAMES,
            "status_names": STATUS_NAMES,
            "deliveries": deliveries,
            "done": request.query_params.get("done", ""),
        },
        status_code=status_code,
    )


@router.get(PAGE)
def settings_page(request: Request, who: PageUser) -> Response:
    return _page(request, who.user_id)


@router.post(PAGE)
def save(request: Request, form: Form) -> Response:
    who = session.require(request)
    state = FormState.of(form)
    routes: dict[str, list[str]] = {}
    for kind in notifications.TOPICS:
        chosen = [c for c in CHANNEL_NAMES if state.text(f"route-{kind}-{c}")]
        if chosen:
            routes[kind] = chosen
    state.required(request, "quiet_start", "quiet_end")
    if state.ok:
        try:
            run_in_transaction(
                lambda db: notifications.set_preferences(
                    db,
                    who.user_id,
                    routes=routes,
                    quiet_start=state.text("quiet_start"),
                    quiet_end=state.text("quiet_end"),
                    pickup_at_night=bool(state.text("pickup_at_night")),
                    email=state.text("email") or None,
                )
            )
        except DomainError as exc:
            state.refuse(request, exc)
        else:
            return RedirectResponse(f"{PAGE}?done=saved", status_code=303)
    return _page(request, who.user_id, state, status_code=400)
