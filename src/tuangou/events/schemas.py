"""Request and reply shapes of community events."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.events import rules
from tuangou.events.models import Event, EventSignup
from tuangou.payments.schemas import PaymentOut


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is not None:
        try:
            return clock.as_utc(value).replace(tzinfo=None)
        except OverflowError as exc:  # the first or last instant of the calendar, shifted
            raise ValueError("a time out of range") from exc
    return value


class EventIn(In):
    title: str = Field(min_length=1, max_length=rules.TITLE_MAX)
    description: str = Field(default="", max_length=rules.DESCRIPTION_MAX)
    place: str = Field(default="", max_length=rules.PLACE_MAX, description="where (text)")
    pickup_point_id: int | None = Field(
        default=None, description="one of the leader's pickup points (its address by default)"
    )
    starts_at: datetime
    ends_at: datetime
    closes_at: datetime | None = Field(default=None, description="sign-up closes (default: start)")
    seats: int = Field(ge=rules.MIN_SEATS, le=rules.MAX_SEATS)
    fee: int = Field(default=0, ge=0, le=rules.MAX_FEE, description="fen per seat; 0 = free")
    hold_minutes: int = Field(
        default=rules.DEFAULT_HOLD_MINUTES,
        ge=1,
        le=rules.MAX_HOLD_MINUTES,
        description="how long a paid seat waits for its payment",
    )

    @model_validator(mode="after")
    def _times(self) -> EventIn:
        self.starts_at = _utc(self.starts_at) or self.starts_at
        self.ends_at = _utc(self.ends_at) or self.ends_at
        self.closes_at = _utc(self.closes_at)
        return self


class EventPatchIn(In):
    title: str | None = Field(default=None, min_length=1, max_length=rules.TITLE_MAX)
    description: str | None = Field(default=None, max_length=rules.DESCRIPTION_MAX)
    place: str | None = Field(default=None, min_length=1, max_length=rules.PLACE_MAX)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    closes_at: datetime | None = None
    seats: int | None = Field(default=None, ge=rules.MIN_SEATS, le=rules.MAX_SEATS)
    fee: int | None = Field(default=None, ge=0, le=rules.MAX_FEE)
    hold_minutes: int | None = Field(default=None, ge=1, le=rules.MAX_HOLD_MINUTES)

    @model_validator(mode="after")
    def _times(self) -> EventPatchIn:
        self.starts_at = _utc(self.starts_at)
        self.ends_at = _utc(self.ends_at)
        self.closes_at = _utc(self.closes_at)
        return self


class CheckinIn(In):
    code: str = Field(min_length=1, max_length=20, description="the member's check-in code")


class MySignupOut(Out):
    status: str = Field(description="held | signed_up | waitlisted | cancelled | released")
    position: int | None = Field(description="place on the waitlist (1 = next)")
    code: str | None = Field(description="the check-in code (a seat, paid if there is a fee)")
    order_id: int | None
    attended_at: Iso | None
    promoted: bool

    @classmethod
    def of(cls, signup: EventSignup, position: int | None) -> MySignupOut:
        live = signup.status == rules.SignupStatus.SIGNED_UP
        return cls(
            status=signup.status,
            position=position,
            code=signup.code if live or signup.attended_at else None,
            order_id=signup.order_id,
            attended_at=clock.iso(signup.attended_at),
            promoted=bool(signup.promoted),
        )


class EventOut(Out):
    id: int
    community_id: int
    title: str
    description: str
    place: str
    pickup_point_id: int | None
    starts_at: Iso
    ends_at: Iso
    closes_at: Iso
    seats: int
    taken: int
    seats_left: int
    waitlist: int = Field(description="members waiting for a seat")
    fee: int
    hold_minutes: int
    status: str = Field(description="draft | published | cancelled | over")
    signup_open: bool
    mine: MySignupOut | None = Field(description="the caller's sign-up, if any")

    @classmethod
    def of(cls, event: Event, *, waitlist: int, mine: MySignupOut | None = None) -> EventOut:
        return cls(
            id=event.id,
            community_id=event.community_id,
            title=event.title,
            description=event.description,
            place=event.place,
            pickup_point_id=event.pickup_point_id,
            starts_at=clock.iso(event.starts_at),
            ends_at=clock.iso(event.ends_at),
            closes_at=clock.iso(event.closes_at),
            seats=event.seats,
            taken=event.taken,
            seats_left=max(0, event.seats - event.taken),
            waitlist=waitlist,
            fee=event.fee,
            hold_minutes=event.hold_minutes,
            status=event.status,
            signup_open=rules.can_sign_up(event.status, clock.now(), event.closes_at),
            mine=mine,
        )


class SignupOut(Out):
    event: EventOut
    signup: MySignupOut
    payment: PaymentOut | None = Field(description="a paid seat's payment to make")
    pay_url: str | None


class AttendeeOut(Out):
    user_id: int
    name: str = Field(description="masked")
    status: str
    seq: int
    position: int | None
    paid: bool
    attended_at: Iso | None


class CheckinOut(Out):
    signup_id: int
    user_id: int
    name: str
    attended_at: Iso


def attendee(signup: EventSignup, name: str, position: int | None, paid: bool) -> AttendeeOut:
    return AttendeeOut(
        user_id=signup.user_id,
        name=name,
        status=signup.status,
        seq=signup.seq,
        position=position,
        paid=paid,
        attended_at=clock.iso(signup.attended_at),
    )


def positions(rows: list[EventSignup]) -> dict[int, int]:
    """Each waitlisted sign-up's place in line, from the event's sign-ups in order."""
    found: dict[int, int] = {}
    for row in rows:
        if row.status == rules.SignupStatus.WAITLISTED:
            found[row.id] = len(found) + 1
    return found
