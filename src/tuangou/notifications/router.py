from __future__ import annotations

from fastapi import APIRouter, Query, Request

from tuangou.api.deps import Caller
from tuangou.core import clock
from tuangou.core.db import unit_of_work
from tuangou.core.paging import MAX_CURSOR, MAX_LIMIT
from tuangou.notifications import service as notifications
from tuangou.notifications.schemas import (
    InboxOut,
    KindOut,
    MarkedOut,
    NotificationOut,
    NotificationPreferencesIn,
    NotificationPreferencesOut,
    TargetOut,
    WechatSubscriptionsIn,
    WechatSubscriptionsOut,
)

router = APIRouter(tags=["notifications"])


def _lang(request: Request) -> str:
    accept = request.headers.get("accept-language", "zh-CN")
    return "en" if accept.lower().startswith("en") else "zh-CN"


@router.get("/notifications")
def inbox(
    request: Request,
    who: Caller,
    unread_only: bool = False,
    cursor: str | None = Query(default=None, max_length=MAX_CURSOR),
    limit: int = Query(default=50, ge=1, le=MAX_LIMIT),
) -> InboxOut:
    """Your inbox, newest first, paged by ``cursor`` (the ``next_cursor`` of the page before)."""
    lang = _lang(request)
    with unit_of_work(readonly=True) as session:
        rows, after = notifications.inbox_page(
            session, who.user_id, unread_only=unread_only, cursor=cursor, limit=limit
        )
        items = []
        for n in rows:
            title, body = notifications.render(n.kind, n.data, lang)
            target = notifications.target(n)
            items.append(
                NotificationOut.model_construct(
                    id=n.id,
                    kind=n.kind,
                    title=title,
                    subject=n.subject,
                    body=body,
                    target=None
                    if target is None
                    else TargetOut.model_construct(type=target[0], id=target[1]),
                    data=n.data,
                    created_at=clock.as_utc(n.created_at).isoformat(),
                    read=n.read_at is not None,
                )
            )
        return InboxOut.model_construct(
            unread=notifications.unread_count(session, who.user_id),
            items=items,
            next_cursor=after,
        )


@router.post("/notifications/read")
def read_all(who: Caller) -> MarkedOut:
    with unit_of_work() as session:
        return MarkedOut(marked=notifications.mark_read(session, who.user_id))


@router.post("/notifications/{notification_id}/read")
def read_one(notification_id: int, who: Caller) -> MarkedOut:
    with unit_of_work() as session:
        return MarkedOut(marked=notifications.mark_read(session, who.user_id, notification_id))


def _preferences_out(prefs: notifications.Preferences, lang: str) -> NotificationPreferencesOut:
    return NotificationPreferencesOut(
        routes=prefs.routes,
        quiet_start=prefs.quiet_start,
        quiet_end=prefs.quiet_end,
        pickup_at_night=prefs.pickup_at_night,
        email=prefs.email,
        channels=list(prefs.channels),
        kinds=[
            KindOut(kind=kind, title=notifications.render(kind, {}, lang)[0])
            for kind in notifications.TOPICS
        ],
        phone=prefs.phone_masked,
        wechat_bound=prefs.wechat_bound,
        wechat_subscriptions=prefs.subscriptions,
    )


@router.get("/me/notification-preferences")
def preferences(request: Request, who: Caller) -> NotificationPreferencesOut:
    with unit_of_work(readonly=True) as session:
        prefs = notifications.get_preferences(session, who.user_id)
    return _preferences_out(prefs, _lang(request))


@router.put("/me/notification-preferences")
def set_preferences(
    request: Request, body: NotificationPreferencesIn, who: Caller
) -> NotificationPreferencesOut:
    with unit_of_work() as session:
        prefs = notifications.set_preferences(
            session,
            who.user_id,
            routes=body.routes,
            quiet_start=body.quiet_start,
            quiet_end=body.quiet_end,
            pickup_at_night=body.pickup_at_night,
            email=body.email,
        )
    return _preferences_out(prefs, _lang(request))


@router.post("/me/wechat-subscriptions")
def wechat_subscriptions(body: WechatSubscriptionsIn, who: Caller) -> WechatSubscriptionsOut:
    """Called by the mini-program after ``wx.requestSubscribeMessage``: each template the
    member accepted is one more message they may receive with it."""
    with unit_of_work() as session:
        remaining = notifications.record_subscriptions(
            session, who.user_id, openid=body.openid, results=body.results
        )
    return WechatSubscriptionsOut(remaining=remaining)
