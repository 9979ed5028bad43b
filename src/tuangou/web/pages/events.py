"""Community events (活动报名) on the pages: a community's events (``/c/{id}/events``), the
event page with sign-up, payment, cancel and the member's check-in code as a QR
(``/events/{id}``), 我的活动 (``/me/events``); the leader's events of a community, the event
with its attendees, and the check-in counter at the door (``/leader/events/{id}/checkin``,
the pickup counter's scan script).

Pages are thin: they call the events service, as the API does, which makes every check."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.config import get_settings
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.events import errors as event_errors
from tuangou.events import rules as event_rules
from tuangou.events import service as events
from tuangou.events.router import attendee_rows
from tuangou.fulfilment import errors as fulfilment_errors
from tuangou.payments import service as payments
from tuangou.web import i18n, once, qr, session
from tuangou.web.forms import FormState
from tuangou.web.session import Form
from tuangou.web.templating import render, translate

router = APIRouter()

CHECKIN_RESULT = "event_checkin_result"
SCAN_MAX_BYTES = 2 * 1024 * 1024

STATES = {
    event_rules.SignupStatus.HELD: i18n.lazy("Seat held: pay to confirm"),
    event_rules.SignupStatus.SIGNED_UP: i18n.lazy("Signed up"),
    event_rules.SignupStatus.WAITLISTED: i18n.lazy("On the waitlist"),
    event_rules.SignupStatus.CANCELLED: i18n.lazy("Cancelled"),
    event_rules.SignupStatus.RELEASED: i18n.lazy("Not paid in time"),
}
EVENT_STATES = {
    event_rules.EventStatus.DRAFT: i18n.lazy("Draft"),
    event_rules.EventStatus.PUBLISHED: i18n.lazy("Open"),
    event_rules.EventStatus.CANCELLED: i18n.lazy("Event cancelled"),
    event_rules.EventStatus.OVER: i18n.lazy("Over"),
}


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _view(db: Session, event: Any, user_id: int | None) -> dict[str, Any]:
    mine = events.signup_of(db, event.id, user_id) if user_id is not None else None
    return {
        "event": event,
        "seats_left": max(0, event.seats - event.taken),
        "waitlist": events.waitlist_length(db, event.id),
        "mine": mine,
        "position": events.position_of(db, mine) if mine is not None else None,
        "open": event_rules.can_sign_up(event.status, clock.now(), event.closes_at),
    }


# ---------------------------------------------------------------- members


@router.get("/c/{community_id}/events")
def community_events(request: Request, community_id: int) -> Response:
    who = session.require(request)

    def load(db: Session) -> dict[str, Any]:
        found = events.events_of(db, community_id, user_id=who.user_id, role=who.role)
        return {
            "community": communities.get_community(db, community_id),
            "rows": [_view(db, e, who.user_id) for e in found],
        }

    context = {**read(load), "states": STATES, "event_states": EVENT_STATES}
    return render(request, "member/events/list.html", context)


def _event_page(
    request: Request, event_id: int, state: FormState | None = None, *, status_code: int = 200
) -> Response:
    who = session.require(request)

    def load(db: Session) -> dict[str, Any]:
        event = events.visible_event(db, event_id, user_id=who.user_id, role=who.role)
        view = _view(db, event, who.user_id)
        view["community"] = communities.get_community(db, event.community_id)
        view["manager"] = events.may_manage(db, who.user_id, event.community_id)
        return view

    context = read(load)
    mine = context["mine"]
    code = mine.code if mine is not None and mine.status == "signed_up" else None
    context.update(
        states=STATES,
        event_states=EVENT_STATES,
        form=state or FormState(),
        key=once.new_key(),
        code=code,
        qr=qr.svg(code, scale=6, title=code) if code else None,
    )
    return render(request, "member/events/event.html", context, status_code=status_code)


@router.get("/events/{event_id}")
def event_page(request: Request, event_id: int) -> Response:
    return _event_page(request, event_id)


@router.post("/events/{event_id}/signup")
def sign_up(request: Request, event_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)

    def work(db: Session) -> dict[str, Any]:
        done = events.sign_up(db, user_id=who.user_id, event_id=event_id)
        return {"payment_id": done.started.payment.id if done.started else None}

    try:
        done = once.do(request, who, state.get("key"), {"event": event_id}, work)
    except event_errors.EventNotFound:
        raise
    except DomainError as exc:
        state.refuse(request, exc)
        return _event_page(request, event_id, state, status_code=exc.status)
    if done.get("payment_id"):
        return _redirect(f"/pay/{done['payment_id']}")
    return _redirect(f"/events/{event_id}")


@router.post("/events/{event_id}/pay")
def pay(request: Request, event_id: int, form: Form) -> Response:
    """A held seat's payment (again, after a decline or for a seat promoted from the line)."""
    who = session.require_buyer(request)
    state = FormState.of(form)

    def work(db: Session) -> dict[str, Any]:
        mine = events.signup_of(db, event_id, who.user_id)
        if mine is None or mine.order_id is None or mine.status != "held":
            raise event_errors.NotSignedUp()
        started = payments.start_for_user(db, user_id=who.user_id, order_id=mine.order_id)
        return {"payment_id": started.payment.id}

    try:
        done = once.do(request, who, state.get("key"), {"event_pay": event_id}, work)
    except DomainError as exc:
        state.refuse(request, exc)
        return _event_page(request, event_id, state, status_code=exc.status)
    return _redirect(f"/pay/{done['payment_id']}")


@router.post("/events/{event_id}/cancel")
def cancel_signup(request: Request, event_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    try:
        run_in_transaction(
            lambda db: events.cancel_signup(db, user_id=who.user_id, event_id=event_id)
        )
    except event_errors.EventNotFound:
        raise
    except DomainError as exc:
        state.refuse(request, exc)
        return _event_page(request, event_id, state, status_code=exc.status)
    return _redirect(f"/events/{event_id}")


@router.get("/me/events")
def my_events(request: Request) -> Response:
    """我的活动: the events the member signed up for, the latest first."""
    who = session.require(request)

    def load(db: Session) -> list[dict[str, Any]]:
        mine = events.my_signups(db, who.user_id)
        found = events.get_many(db, [s.event_id for s in mine])
        return [
            {"signup": s, "event": found[s.event_id], "position": events.position_of(db, s)}
            for s in mine
        ]

    context = {"rows": read(load), "states": STATES, "event_states": EVENT_STATES}
    return render(request, "member/events/mine.html", context)


# ---------------------------------------------------------------- the leader's


def _local(text: str) -> datetime | None:
    """A ``datetime-local`` value in the deployment's time zone, as a stored UTC time."""
    try:
        local = datetime.strptime(text.strip()[:16], "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    aware = local.replace(tzinfo=ZoneInfo(get_settings().timezone))
    return clock.as_utc(aware).replace(tzinfo=None)


def _as_local(value: datetime | None) -> str:
    return clock.to_local(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _read_form(request: Request, state: FormState, *, creating: bool) -> dict[str, Any] | None:
    """The event typed on the form (None with errors next to the fields)."""
    state.required(request, "title", "starts_at", "ends_at", "seats")
    values: dict[str, Any] = {
        "title": state.text("title"),
        "description": state.get("description").strip(),
        "place": state.text("place"),
    }
    for name in ("starts_at", "ends_at", "closes_at"):
        raw = state.text(name)
        if raw:
            when = _local(raw)
            if when is None:
                state.add(request, name, "Choose a date and time")
            values[name] = when
    if state.text("seats"):
        values["seats"] = state.integer(
            request, "seats", low=event_rules.MIN_SEATS, high=event_rules.MAX_SEATS
        )
    if creating or state.text("fee"):
        values["fee"] = state.fen(request, "fee", required=False) or 0
    if state.text("pickup_point_id"):
        values["pickup_point_id"] = state.integer(request, "pickup_point_id", low=1)
    if not state.ok:
        return None
    return values


def _leader_events(
    request: Request, community_id: int, state: FormState | None = None, status: int = 200
) -> Response:
    who = session.require(request)

    def load(db: Session) -> dict[str, Any]:
        community = communities.assert_can_manage(db, who.user_id, community_id)
        found = events.events_of(db, community_id, user_id=who.user_id, role=who.role)
        return {
            "community": community,
            "rows": [_view(db, e, None) for e in found],
            "points": communities.pickup_points_of(db, community.leader_id, active_only=True),
        }

    context = {
        **read(load),
        "event_states": EVENT_STATES,
        "form": state or FormState(),
        "key": once.new_key(),
    }
    return render(request, "leader/events/list.html", context, status_code=status)


@router.get("/leader/communities/{community_id}/events")
def leader_events(request: Request, community_id: int) -> Response:
    return _leader_events(request, community_id)


@router.post("/leader/communities/{community_id}/events")
def create_event(request: Request, community_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    values = _read_form(request, state, creating=True)
    if values is None:
        return _leader_events(request, community_id, state, status=400)

    def work(db: Session) -> dict[str, Any]:
        event = events.create_event(
            db, user_id=who.user_id, community_id=community_id, data=events.EventInput(**values)
        )
        return {"event_id": event.id}

    try:
        done = once.do(request, who, state.get("key"), {"community": community_id}, work)
    except DomainError as exc:
        state.refuse(request, exc)
        return _leader_events(request, community_id, state, status=exc.status)
    return _redirect(f"/leader/events/{done['event_id']}?done=created")


def _leader_event(
    request: Request, event_id: int, state: FormState | None = None, status: int = 200
) -> Response:
    who = session.require(request)

    def load(db: Session) -> dict[str, Any]:
        event = events.managed_event(db, who.user_id, event_id)
        return {
            **_view(db, event, None),
            "attendees": attendee_rows(db, who.user_id, event_id),
            "community": communities.get_community(db, event.community_id),
        }

    context = read(load)
    event = context["event"]
    form = state or FormState(
        values={
            "title": event.title,
            "description": event.description,
            "place": event.place,
            "starts_at": _as_local(event.starts_at),
            "ends_at": _as_local(event.ends_at),
            "closes_at": _as_local(event.closes_at),
            "seats": str(event.seats),
            "fee": f"{event.fee / 100:.2f}",
        }
    )
    done = request.query_params.get("done", "")
    context.update(
        states=STATES,
        event_states=EVENT_STATES,
        form=form,
        key=once.new_key(),
        done=DONE.get(done),
    )
    return render(request, "leader/events/event.html", context, status_code=status)


DONE = {
    "created": i18n.lazy("Draft saved. Publish it when it is ready."),
    "saved": i18n.lazy("Changes saved."),
    "published": i18n.lazy("Published: the community's members can sign up."),
    "cancelled": i18n.lazy("Cancelled: everyone signed up is told, paid seats refunded."),
}


@router.get("/leader/events/{event_id}")
def leader_event(request: Request, event_id: int) -> Response:
    return _leader_event(request, event_id)


@router.post("/leader/events/{event_id}")
def edit_event(request: Request, event_id: int, form: Form) -> Response:
    who = session.require(request)
    state = FormState.of(form)
    values = _read_form(request, state, creating=False)
    if values is None:
        return _leader_event(request, event_id, state, status=400)
    try:
        run_in_transaction(
            lambda db: events.update_event(
                db, user_id=who.user_id, event_id=event_id, changes=values
            )
        )
    except event_errors.EventNotFound:
        raise
    except DomainError as exc:
        state.refuse(request, exc)
        return _leader_event(request, event_id, state, status=exc.status)
    return _redirect(f"/leader/events/{event_id}?done=saved")


def _act(request: Request, event_id: int, form: Any, action: str) -> Response:
    who = session.require(request)
    state = FormState.of(form)
    act = events.publish if action == "published" else events.cancel_event
    try:
        run_in_transaction(lambda db: act(db, user_id=who.user_id, event_id=event_id))
    except event_errors.EventNotFound:
        raise
    except DomainError as exc:
        state.refuse(request, exc)
        return _leader_event(request, event_id, state, status=exc.status)
    return _redirect(f"/leader/events/{event_id}?done={action}")


@router.post("/leader/events/{event_id}/publish")
def publish(request: Request, event_id: int, form: Form) -> Response:
    return _act(request, event_id, form, "published")


@router.post("/leader/events/{event_id}/cancel")
def cancel_event(request: Request, event_id: int, form: Form) -> Response:
    if form.get("confirm") != "yes":
        state = FormState.of(form)
        state.add(request, "confirm", "Tick the box to confirm")
        return _leader_event(request, event_id, state, status=400)
    return _act(request, event_id, form, "cancelled")


# ---------------------------------------------------------------- the check-in counter


@router.get("/leader/events/{event_id}/checkin")
def checkin_counter(request: Request, event_id: int) -> Response:
    who = session.require(request)

    def load(db: Session) -> dict[str, Any]:
        event = events.managed_event(db, who.user_id, event_id)
        rows = attendee_rows(db, who.user_id, event_id)
        return {"event": event, "attendees": [r for r in rows if r.status == "signed_up"]}

    context = {
        **read(load),
        "result": request.session.pop(CHECKIN_RESULT, None),
        "form": FormState(),
        "once": once.new_key(),
        "scan_max_bytes": SCAN_MAX_BYTES,
    }
    return render(request, "leader/events/checkin.html", context)


def checkin_result(
    request: Request, code: str, status: int, body: dict[str, Any]
) -> dict[str, Any]:
    """What the counter shows for a check-in's outcome, in words that cannot be misread."""
    if status < 400:
        return {"ok": True, "code": code, "text": f"✓ {body.get('name', '')}", "detail": ""}
    kind = body.get("code")
    detail = str(body.get("name") or "")
    if kind == "checkin_code_used":
        text = translate(request, "Already checked in (%(time)s)", time=body.get("attended_local"))
    elif kind == "not_signed_up":
        text = translate(request, "Not signed up (cancelled or not paid)")
    elif kind == "checkin_code_invalid":
        text = translate(request, "No sign-up of this event has this code")
    else:
        text = translate(request, str(body.get("title") or "Request refused"))
    return {"ok": False, "code": code, "text": text, "detail": detail}


def _verify(request: Request, who: Any, event_id: int, state: FormState, code: str) -> None:
    def work(db: Session) -> dict[str, Any]:
        done = events.check_in(db, user_id=who.user_id, event_id=event_id, code=code)
        return {"name": done.name}

    body = {"event_id": event_id, "code": code}
    try:
        outcome = once.run(request, who, state.text("once"), body, work, per_values=True)
        status, answer = outcome.status_code, dict(outcome.body)
    except (
        event_errors.CheckinCodeInvalid,
        event_errors.CheckinCodeUsed,
        event_errors.NotSignedUp,
    ) as refusal:
        status, answer = refusal.status, refusal.to_problem()
    request.session[CHECKIN_RESULT] = checkin_result(request, code, status, answer)


@router.post("/leader/events/{event_id}/checkin")
def check_in(request: Request, event_id: int, form: Form) -> Response:
    who = session.require(request)
    state = FormState.of(form)
    code = state.text("code")[:20]
    if not code:
        request.session[CHECKIN_RESULT] = {
            "ok": False,
            "code": "",
            "text": translate(request, "Type or scan the check-in code"),
            "detail": "",
        }
    else:
        _verify(request, who, event_id, state, code)
    return _redirect(f"/leader/events/{event_id}/checkin")


@router.post("/leader/events/{event_id}/checkin/scan")
async def scan(request: Request, event_id: int, form: Form) -> Response:
    """A picture of the member's QR (the scan script's camera frame, or a photo): decoded
    here, then checked in exactly as a typed code."""
    picture = form.get("image")
    data = b""
    if isinstance(picture, UploadFile):
        data = await picture.read(SCAN_MAX_BYTES + 1)
    return await run_in_threadpool(_scan, request, form, event_id, data)


def _scan(request: Request, form: Any, event_id: int, data: bytes) -> Response:
    who = session.require(request)
    state = FormState.of(form)
    read(lambda db: events.managed_event(db, who.user_id, event_id))
    wants_json = "application/json" in request.headers.get("accept", "")
    back = f"/leader/events/{event_id}/checkin"
    try:
        code = events.decode_scan(data)
        problem = translate(request, "No check-in QR in the picture: hold it steady, closer")
    except fulfilment_errors.PickupScanInvalid:
        code, problem = "", translate(request, "The picture could not be read: take it again")
    if not code:
        if wants_json:
            return JSONResponse({"found": False, "message": problem})
        request.session[CHECKIN_RESULT] = {"ok": False, "code": "", "text": problem, "detail": ""}
        return _redirect(back)
    _verify(request, who, event_id, state, code)
    if wants_json:
        return JSONResponse({"found": True, "next": back})
    return _redirect(back)
