from __future__ import annotations

from fastapi import APIRouter, Request

from tuangou.api.deps import Caller
from tuangou.core import clock
from tuangou.core.db import unit_of_work
from tuangou.notifications import service as notifications
from tuangou.notifications.schemas import InboxOut, MarkedOut, NotificationOut, TargetOut

router = APIRouter(prefix="/notifications", tags=["notifications"])


def _lang(request: Request) -> str:
    accept = request.headers.get("accept-language", "zh-CN")
    return "en" if accept.lower().startswith("en") else "zh-CN"


@router.get("")
def inbox(request: Request, who: Caller, unread_only: bool = False) -> InboxOut:
    lang = _lang(request)
    with unit_of_work(readonly=True) as session:
        rows = notifications.inbox(session, who.user_id, unread_only=unread_only)
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
            unread=notifications.unread_count(session, who.user_id), items=items
        )


@router.post("/read")
def read_all(who: Caller) -> MarkedOut:
    with unit_of_work() as session:
        return MarkedOut(marked=notifications.mark_read(session, who.user_id))


@router.post("/{notification_id}/read")
def read_one(notification_id: int, who: Caller) -> MarkedOut:
    with unit_of_work() as session:
        return MarkedOut(marked=notifications.mark_read(session, who.user_id, notification_id))
