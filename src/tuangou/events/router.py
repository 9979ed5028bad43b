"""Community events over HTTP: members' lists, the event, sign-up and its cancel; the
leader's event, publishing, cancelling, attendees and the check-in at the door."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.api.deps import Caller, IdemKey, Member, idempotent
from tuangou.core import clock
from tuangou.core.db import unit_of_work
from tuangou.events import schemas
from tuangou.events import service as events
from tuangou.orders import service as orders
from tuangou.payments.schemas import PaymentOut

router = APIRouter(tags=["events"])


def event_out(session: Session, event: Any, user_id: int | None) -> schemas.EventOut:
    mine = None
    if user_id is not None:
        signup = events.signup_of(session, event.id, user_id)
        if signup is not None:
            mine = schemas.MySignupOut.of(signup, events.position_of(session, signup))
    return schemas.EventOut.of(event, waitlist=events.waitlist_length(session, event.id), mine=mine)


@router.get("/communities/{community_id}/events")
def list_events(community_id: int, who: Caller) -> list[schemas.EventOut]:
    """A community's events (coming first), each with seats left, the waitlist and the
    caller's sign-up. Its members and the operator; drafts for its leader and admins."""
    with unit_of_work(readonly=True) as session:
        found = events.events_of(session, community_id, user_id=who.user_id, role=who.role)
        return [event_out(session, e, who.user_id) for e in found]


@router.get("/events/{event_id}")
def get_event(event_id: int, who: Caller) -> schemas.EventOut:
    """An event with its seats left, waitlist length, and the caller's state and code."""
    with unit_of_work(readonly=True) as session:
        event = events.visible_event(session, event_id, user_id=who.user_id, role=who.role)
        return event_out(session, event, who.user_id)


@router.post("/events/{event_id}/signup", response_model=schemas.SignupOut)
def sign_up(event_id: int, request: Request, who: Member, key: IdemKey = None) -> Response:
    """Sign up (one seat per member). A seat while any is left: a free event's at once
    (``signed_up``, with the check-in code), a paid one's held for its payment (``held``,
    with the payment to make). Full: a 200 whose ``signup.status`` is ``waitlisted``, with
    the ``position``. Refusals: ``event_not_open``, ``signup_closed``,
    ``already_signed_up``."""

    def work(session: Session) -> dict[str, Any]:
        done = events.sign_up(session, user_id=who.user_id, event_id=event_id)
        return schemas.SignupOut(
            event=event_out(session, done.event, None),
            signup=schemas.MySignupOut.of(done.signup, events.position_of(session, done.signup)),
            payment=PaymentOut.of(done.started.payment) if done.started else None,
            pay_url=done.started.pay_url if done.started else None,
        ).model_dump()

    return idempotent(request, who=who, key=key, body={}, work=work)


@router.delete("/events/{event_id}/signup", response_model=schemas.MySignupOut)
def cancel_signup(event_id: int, request: Request, who: Member, key: IdemKey = None) -> Response:
    """Cancel your sign-up before sign-up closes: a paid seat is refunded in full; your seat
    goes to the next in line. ``not_signed_up``, ``signup_closed``."""

    def work(session: Session) -> dict[str, Any]:
        signup = events.cancel_signup(session, user_id=who.user_id, event_id=event_id)
        return schemas.MySignupOut.of(signup, None).model_dump()

    return idempotent(request, who=who, key=key, body={}, work=work)


# ---------------------------------------------------------------- the leader's


@router.post(
    "/leader/communities/{community_id}/events",
    status_code=201,
    tags=["leaders"],
    response_model=schemas.EventOut,
)
def create_event(
    community_id: int,
    body: schemas.EventIn,
    request: Request,
    who: Member,
    key: IdemKey = None,
) -> Response:
    """A draft event of your community (its leader or an admin)."""

    def work(session: Session) -> dict[str, Any]:
        event = events.create_event(
            session,
            user_id=who.user_id,
            community_id=community_id,
            data=events.EventInput(**body.model_dump()),
        )
        return event_out(session, event, None).model_dump()

    return idempotent(
        request, who=who, key=key, body=body.model_dump(mode="json"), work=work, status_code=201
    )


@router.patch("/leader/events/{event_id}", tags=["leaders"], response_model=schemas.EventOut)
def update_event(
    event_id: int, body: schemas.EventPatchIn, request: Request, who: Member, key: IdemKey = None
) -> Response:
    """Change an event (draft or published). Seats below the seats held:
    ``event_seats_below_taken``; more seats go to the waitlist at once; the fee is fixed once
    published (``event_fee_locked``)."""

    def work(session: Session) -> dict[str, Any]:
        event = events.update_event(
            session,
            user_id=who.user_id,
            event_id=event_id,
            changes=body.model_dump(exclude_unset=True),
        )
        return event_out(session, event, None).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(mode="json"), work=work)


@router.post("/leader/events/{event_id}/publish", tags=["leaders"], response_model=schemas.EventOut)
def publish(event_id: int, request: Request, who: Member, key: IdemKey = None) -> Response:
    """draft → published: the community's members see it and may sign up."""

    def work(session: Session) -> dict[str, Any]:
        event = events.publish(session, user_id=who.user_id, event_id=event_id)
        return event_out(session, event, None).model_dump()

    return idempotent(request, who=who, key=key, body={}, work=work)


@router.post("/leader/events/{event_id}/cancel", tags=["leaders"], response_model=schemas.EventOut)
def cancel(event_id: int, request: Request, who: Member, key: IdemKey = None) -> Response:
    """Cancel the event: everyone signed up or waiting is told; paid seats are refunded in
    full, once (by the worker, within seconds)."""

    def work(session: Session) -> dict[str, Any]:
        event = events.cancel_event(session, user_id=who.user_id, event_id=event_id)
        return event_out(session, event, None).model_dump()

    return idempotent(request, who=who, key=key, body={}, work=work)


@router.get("/leader/events/{event_id}/attendees", tags=["leaders"])
def attendees(event_id: int, who: Member) -> list[schemas.AttendeeOut]:
    """Everyone who signed up, in their order of arrival: seats, the waitlist with
    positions, cancellations, and who checked in."""
    with unit_of_work(readonly=True) as session:
        return attendee_rows(session, who.user_id, event_id)


def attendee_rows(session: Session, user_id: int, event_id: int) -> list[schemas.AttendeeOut]:
    event = events.managed_event(session, user_id, event_id)
    rows = events.signups(session, event.id)
    names = accounts.masked_names(session, [r.user_id for r in rows])
    places = schemas.positions(rows)
    order_ids = [r.order_id for r in rows if r.order_id is not None]
    paid = {o.id for o in orders.get_many(session, order_ids) if o.paid_at is not None}
    return [
        schemas.attendee(r, names.get(r.user_id, ""), places.get(r.id), r.order_id in paid)
        for r in rows
    ]


@router.post(
    "/leader/events/{event_id}/checkin", tags=["leaders"], response_model=schemas.CheckinOut
)
def check_in(
    event_id: int, body: schemas.CheckinIn, request: Request, who: Member, key: IdemKey = None
) -> Response:
    """Verify a member's check-in code at the door: attendance recorded, once.
    ``checkin_code_invalid``, ``checkin_code_used`` (with when), ``not_signed_up``."""

    def work(session: Session) -> dict[str, Any]:
        done = events.check_in(session, user_id=who.user_id, event_id=event_id, code=body.code)
        assert done.signup.attended_at is not None
        return schemas.CheckinOut(
            signup_id=done.signup.id,
            user_id=done.signup.user_id,
            name=done.name,
            attended_at=clock.iso(done.signup.attended_at),
        ).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)
