"""Community events with sign-up (活动报名): a leader's event, members' sign-ups with a
waitlist, paid seats through the one order, payment and escrow path (the order kind
``event``, :data:`KIND`, registered in the composition root), check-in codes, reminders and
cancellation.

**Seats never over-allocate.** Every change of a seat goes through the event's row
(``events``, lock rank STOCK: held only to the commit): a sign-up first draws its place in
line with ``UPDATE events SET queue_seq = queue_seq + 1 WHERE id = :id AND status =
'published' AND closes_at > :now`` (which locks the row: sign-ups of one event take turns),
then takes a seat with ``UPDATE events SET taken = taken + 1 WHERE id = :id AND taken <
seats``; a freed seat is ``taken - 1`` and, in the same transaction, goes to the first in line
(:func:`_promote`). A path that also changes an order (a paid seat's cancel, its release, the
cancellation of an event) takes the order first, then the event (the one lock order).

**Money.** A paid seat is an order of ``fee`` fen held for the event's ``hold_minutes`` (never
past the start); the orders' job releases an unpaid one (:func:`on_released`: the seat goes to
the next in line), and a payment that arrives after is refunded as late, once, by the orders
domain. The rule of refunds: a paid seat cancelled by its member before sign-up closes, or by
the event's cancellation, is refunded in full (once: the refund's key is the order and reason);
after the closing time a seat is kept, and its fee goes to the leader (their own supplier
record, minus the operator's fee) at check-in or when the event is over, attended or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.communities import errors as community_errors
from tuangou.communities import service as communities
from tuangou.core import clock, locks, outbox
from tuangou.core.db import execute, expire_loaded, get_or_404, table
from tuangou.core.errors import DomainError, InvalidInput
from tuangou.core.locks import Rank
from tuangou.events import errors, rules
from tuangou.events.models import Event, EventSignup
from tuangou.events.rules import HOLDING as HOLDING
from tuangou.events.rules import LIVE as LIVE
from tuangou.events.rules import EventStatus as EventStatus
from tuangou.events.rules import SignupStatus as SignupStatus
from tuangou.orders import service as orders
from tuangou.payments import service as payments

KIND_NAME = "event"
OPERATOR = "operator"

_events = table(Event)
_signups = table(EventSignup)

# The event's row, locked, and a place in line drawn: only while sign-up is open.
_DRAW = (
    update(_events)
    .where(
        _events.c.id == bindparam("b_event"),
        _events.c.status == EventStatus.PUBLISHED,
        _events.c.closes_at > bindparam("b_now"),
    )
    .values(queue_seq=_events.c.queue_seq + 1)
    .returning(_events.c.queue_seq)
)
_TAKE = (
    update(_events)
    .where(_events.c.id == bindparam("b_event"), _events.c.taken < _events.c.seats)
    .values(taken=_events.c.taken + 1)
)
_FREE = (
    update(_events)
    .where(_events.c.id == bindparam("b_event"), _events.c.taken > 0)
    .values(taken=_events.c.taken - 1)
)
# A guarded no-op: the event's row locked (a cancel, a release, an edit of the seats).
_HOLD = (
    update(_events)
    .where(_events.c.id == bindparam("b_event"))
    .values(queue_seq=_events.c.queue_seq)
    .returning(_events.c.status, _events.c.seats, _events.c.taken)
)


# A paid seat's order whose fee is still in escrow, refundable in full.
_REFUNDABLE = (orders.OrderStatus.PAID, orders.OrderStatus.CONFIRMED, orders.OrderStatus.ARRIVED)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


# ---------------------------------------------------------------- reading


def get_event(session: Session, event_id: int) -> Event:
    return get_or_404(session, Event, event_id, errors.EventNotFound)


def may_manage(session: Session, user_id: int, community_id: int) -> bool:
    try:
        communities.assert_can_manage(session, user_id, community_id)
    except DomainError:
        return False
    return True


def visible_event(session: Session, event_id: int, *, user_id: int, role: str) -> Event:
    """The event if the caller may see it: its community's members (a draft: its managers
    only) and the operator; anyone else is answered as if there were none."""
    event = get_event(session, event_id)
    if role == OPERATOR:
        return event
    if event.status == EventStatus.DRAFT:
        if not may_manage(session, user_id, event.community_id):
            raise errors.EventNotFound()
        return event
    if not communities.is_member(session, event.community_id, user_id):
        raise errors.EventNotFound()
    return event


def managed_event(session: Session, user_id: int, event_id: int) -> Event:
    """The event, if the caller is its community's leader or admin (404 for others)."""
    event = get_event(session, event_id)
    try:
        communities.assert_can_manage(session, user_id, event.community_id)
    except community_errors.NotCommunityManager as exc:
        raise errors.NotEventManager() from exc
    except DomainError as exc:
        raise errors.EventNotFound() from exc
    return event


def events_of(
    session: Session, community_id: int, *, user_id: int, role: str, limit: int = 100
) -> list[Event]:
    """A community's events, the coming ones first (by start), then the past ones; drafts
    for its managers only. Members and the operator only (404 for others)."""
    communities.get_community(session, community_id)
    manager = role == OPERATOR or may_manage(session, user_id, community_id)
    if role != OPERATOR and not communities.is_member(session, community_id, user_id):
        raise community_errors.CommunityNotFound()
    query = select(Event).where(Event.community_id == community_id)
    if not manager:
        query = query.where(Event.status != EventStatus.DRAFT)
    found = list(session.scalars(query.order_by(Event.starts_at.desc(), Event.id).limit(limit)))
    now = clock.now()
    coming = sorted((e for e in found if e.ends_at > now), key=lambda e: (e.starts_at, e.id))
    return coming + [e for e in found if e.ends_at <= now]


def signup_of(session: Session, event_id: int, user_id: int) -> EventSignup | None:
    return session.scalar(
        select(EventSignup).where(EventSignup.event_id == event_id, EventSignup.user_id == user_id)
    )


def waitlist_length(session: Session, event_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                EventSignup.event_id == event_id, EventSignup.status == SignupStatus.WAITLISTED
            )
        )
        or 0
    )


def position_of(session: Session, signup: EventSignup) -> int | None:
    """A waitlisted member's place in line (1 = next), else None."""
    if signup.status != SignupStatus.WAITLISTED:
        return None
    ahead = session.scalar(
        select(func.count()).where(
            EventSignup.event_id == signup.event_id,
            EventSignup.status == SignupStatus.WAITLISTED,
            EventSignup.seq < signup.seq,
        )
    )
    return int(ahead or 0) + 1


def signups(session: Session, event_id: int) -> list[EventSignup]:
    """Every sign-up of an event, in their order of arrival."""
    return list(
        session.scalars(
            select(EventSignup).where(EventSignup.event_id == event_id).order_by(EventSignup.seq)
        )
    )


def my_signups(session: Session, user_id: int, *, limit: int = 100) -> list[EventSignup]:
    return list(
        session.scalars(
            select(EventSignup)
            .where(EventSignup.user_id == user_id)
            .order_by(EventSignup.created_at.desc(), EventSignup.id.desc())
            .limit(limit)
        )
    )


def get_many(session: Session, event_ids: list[int]) -> dict[int, Event]:
    if not event_ids:
        return {}
    return {e.id: e for e in session.scalars(select(Event).where(Event.id.in_(set(event_ids))))}


def attendance_of(session: Session, event_id: int) -> list[tuple[int, datetime]]:
    """(user id, checked in at) of each member who attended the event, in check-in order
    (for points, issue 14; the ``event.attended`` outbox event tells the same, once each)."""
    return [
        (int(uid), at)
        for uid, at in session.execute(
            select(EventSignup.user_id, EventSignup.attended_at)
            .where(EventSignup.event_id == event_id, EventSignup.attended_at.is_not(None))
            .order_by(EventSignup.attended_at, EventSignup.id)
        )
        if at is not None
    ]


# ---------------------------------------------------------------- the leader's event


@dataclass(frozen=True)
class EventInput:
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    seats: int
    fee: int = 0
    closes_at: datetime | None = None
    pickup_point_id: int | None = None
    hold_minutes: int = rules.DEFAULT_HOLD_MINUTES


def _clean(value: str, *, field: str, max_len: int, required: bool = True) -> str:
    text = " ".join(value.split()) if field != "description" else value.strip()
    if required and not text:
        raise InvalidInput(f"give the event a {field}", field=field)
    if len(text) > max_len:
        raise InvalidInput(f"{field} is at most {max_len} characters", field=field)
    return text


def _check_times(
    starts_at: datetime, ends_at: datetime, closes_at: datetime, *, now: datetime
) -> None:
    problem = rules.schedule_problem(now, starts_at, ends_at, closes_at)
    if problem is not None:
        raise InvalidInput(problem[1], field=problem[0])


def _place(session: Session, leader_id: int, data: EventInput) -> tuple[str, int | None]:
    place = data.place
    if data.pickup_point_id is not None:
        point = communities.require_own_pickup_point(session, leader_id, data.pickup_point_id)
        place = place.strip() or f"{point.name} · {point.address}"
    return _clean(place, field="place", max_len=rules.PLACE_MAX), data.pickup_point_id


def create_event(session: Session, *, user_id: int, community_id: int, data: EventInput) -> Event:
    """A draft event of the community (its leader or an admin)."""
    community = communities.assert_can_manage(session, user_id, community_id)
    now = clock.now()
    closes = data.closes_at or data.starts_at
    _check_times(data.starts_at, data.ends_at, closes, now=now)
    problem = rules.seats_problem(data.seats)
    if problem:
        raise InvalidInput(problem, field="seats")
    if not 0 <= data.fee <= rules.MAX_FEE:
        raise InvalidInput("a fee is 0 (free) to ¥10,000", field="fee")
    if not 1 <= data.hold_minutes <= rules.MAX_HOLD_MINUTES:
        raise InvalidInput("a paid seat is held 1 minute to a day", field="hold_minutes")
    place, point = _place(session, community.leader_id, data)
    event = Event(
        community_id=community.id,
        leader_id=community.leader_id,
        created_by=user_id,
        title=_clean(data.title, field="title", max_len=rules.TITLE_MAX),
        description=_clean(
            data.description, field="description", max_len=rules.DESCRIPTION_MAX, required=False
        ),
        place=place,
        pickup_point_id=point,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        closes_at=closes,
        seats=data.seats,
        taken=0,
        queue_seq=0,
        fee=data.fee,
        hold_minutes=data.hold_minutes,
        status=EventStatus.DRAFT,
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event


def update_event(
    session: Session, *, user_id: int, event_id: int, changes: dict[str, Any]
) -> Event:
    """Change a draft or published event. Seats below the seats held are refused
    (``event_seats_below_taken``); more seats go to the waitlist at once; the fee is fixed
    once published (``event_fee_locked``)."""
    event = managed_event(session, user_id, event_id)
    if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
        raise errors.EventNotEditable()
    now = clock.now()
    values: dict[str, Any] = {}
    for name, max_len, required in (
        ("title", rules.TITLE_MAX, True),
        ("description", rules.DESCRIPTION_MAX, False),
        ("place", rules.PLACE_MAX, True),
    ):
        if changes.get(name) is not None:
            values[name] = _clean(changes[name], field=name, max_len=max_len, required=required)
    if "fee" in changes and changes["fee"] is not None and changes["fee"] != event.fee:
        if event.status != EventStatus.DRAFT:
            raise errors.FeeLocked(field="fee")
        if not 0 <= changes["fee"] <= rules.MAX_FEE:
            raise InvalidInput("a fee is 0 (free) to ¥10,000", field="fee")
        values["fee"] = changes["fee"]
    if changes.get("hold_minutes") is not None:
        if not 1 <= changes["hold_minutes"] <= rules.MAX_HOLD_MINUTES:
            raise InvalidInput("a paid seat is held 1 minute to a day", field="hold_minutes")
        values["hold_minutes"] = changes["hold_minutes"]
    starts = changes.get("starts_at") or event.starts_at
    ends = changes.get("ends_at") or event.ends_at
    closes = changes.get("closes_at") or (
        starts if changes.get("starts_at") and event.closes_at == event.starts_at else None
    )
    closes = closes or event.closes_at
    if (starts, ends, closes) != (event.starts_at, event.ends_at, event.closes_at):
        _check_times(starts, ends, closes, now=now)
        values.update(starts_at=starts, ends_at=ends, closes_at=closes)
    seats = changes.get("seats")
    if seats is not None and seats != event.seats:
        problem = rules.seats_problem(seats)
        if problem:
            raise InvalidInput(problem, field="seats")
        locks.note(session, Rank.STOCK, event.id)
        moved = _rowcount(
            session.execute(
                update(_events)
                .where(_events.c.id == event.id, _events.c.taken <= seats)
                .values(seats=seats)
            )
        )
        if not moved:
            session.refresh(event)
            raise errors.SeatsBelowTaken(
                f"{event.taken} members hold a seat: seats cannot go below {event.taken}",
                taken=event.taken,
                field="seats",
            )
    if values:
        locks.note(session, Rank.STOCK, event.id)
        session.execute(update(_events).where(_events.c.id == event.id).values(**values))
    expire_loaded(session, Event)
    session.refresh(event)
    if seats is not None and event.status == EventStatus.PUBLISHED:
        _promote(session, event)
    return event


def _payee(session: Session, event: Event) -> int:
    """The leader's own supplier record, made the first time they charge a fee."""
    found = catalog.supplier_of_leader(session, event.leader_id)
    if found is not None:
        return int(found.id)
    made = catalog.create_supplier(
        session, name=f"团长自营 #{event.leader_id}", leader_id=event.leader_id
    )
    return int(made.id)


def publish(session: Session, *, user_id: int, event_id: int) -> Event:
    """draft → published: its community's members see it and may sign up."""
    event = managed_event(session, user_id, event_id)
    if event.status != EventStatus.DRAFT:
        raise errors.EventNotEditable("only a draft is published")
    if event.closes_at <= clock.now():
        raise InvalidInput("sign-up would be closed already: change the times", field="closes_at")
    supplier_id = _payee(session, event) if event.fee else None
    locks.note(session, Rank.STOCK, event.id)
    moved = _rowcount(
        session.execute(
            update(_events)
            .where(_events.c.id == event.id, _events.c.status == EventStatus.DRAFT)
            .values(status=EventStatus.PUBLISHED, published_at=clock.now(), supplier_id=supplier_id)
        )
    )
    if not moved:
        raise errors.EventNotEditable("only a draft is published")
    session.refresh(event)
    return event


def cancel_event(session: Session, *, user_id: int, event_id: int) -> Event:
    """The leader cancels: everyone signed up or waiting is told at once; the seats' orders
    (refunds in full of the paid ones, releases of the unpaid) follow in the worker
    (:func:`settle_cancelled`), each once."""
    event = managed_event(session, user_id, event_id)
    locks.note(session, Rank.STOCK, event.id)
    moved = _rowcount(
        session.execute(
            update(_events)
            .where(
                _events.c.id == event.id,
                _events.c.status.in_((EventStatus.DRAFT, EventStatus.PUBLISHED)),
            )
            .values(status=EventStatus.CANCELLED, cancelled_at=clock.now())
        )
    )
    if not moved:
        raise errors.EventNotEditable("this event is over or already cancelled")
    session.refresh(event)
    told = [
        int(uid)
        for uid in session.scalars(
            select(EventSignup.user_id).where(
                EventSignup.event_id == event.id, EventSignup.status.in_(LIVE)
            )
        )
    ]
    if told:
        outbox.emit(
            session,
            "event.cancelled",
            {"user_ids": told, "event_id": event.id, "title": event.title},
        )
    return event


# ---------------------------------------------------------------- sign-up


@dataclass(frozen=True)
class SignedUp:
    event: Event
    signup: EventSignup
    order: Any | None  # orders' Order of a paid seat
    started: payments.Started | None


def _issue_code(session: Session, signup: EventSignup) -> None:
    """A check-in code, unique in the event (a collision draws again)."""
    for _ in range(5):
        taken = {
            str(c)
            for c in session.scalars(
                select(EventSignup.code).where(
                    EventSignup.event_id == signup.event_id, EventSignup.code.is_not(None)
                )
            )
        }
        code = rules.draw_code(taken)
        try:
            with session.begin_nested():
                session.execute(
                    update(_signups)
                    .where(_signups.c.id == signup.id, _signups.c.code.is_(None))
                    .values(code=code)
                )
            return
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a free check-in code")


def _seat_order(session: Session, event: Event, user_id: int) -> Any:
    """The order of a paid seat, held for the event's window (never past its start)."""
    assert event.supplier_id is not None
    return orders.create_order(
        session,
        user_id=user_id,
        supplier_id=event.supplier_id,
        kind=KIND_NAME,
        campaign_id=event.id,
        sku_id=None,
        quantity=1,
        unit_price=event.fee,
        address={"event": event.title, "place": event.place},
        hold_minutes=event.hold_minutes,
        hold_until=event.starts_at,
    )


def sign_up(session: Session, *, user_id: int, event_id: int) -> SignedUp:
    """One seat per member. A seat while any is left (a free event's at once; a paid
    event's held for its payment), else a place on the waitlist (a 200 whose status says
    ``waitlisted``, with the position). Refusals: ``event_not_open``, ``signup_closed``,
    ``already_signed_up``; a non-member gets ``event_not_found``."""
    event = visible_event(session, event_id, user_id=user_id, role="member")
    now = clock.now()
    if event.status != EventStatus.PUBLISHED:
        raise errors.EventNotOpen()
    if not rules.can_sign_up(event.status, now, event.closes_at):
        raise errors.SignupClosed()
    mine = signup_of(session, event.id, user_id)
    if mine is not None and mine.status in LIVE:
        raise errors.AlreadySignedUp(status=mine.status)
    locks.note(session, Rank.STOCK, event.id)
    seq = session.execute(_DRAW, {"b_event": event.id, "b_now": now}).scalar()
    if seq is None:  # cancelled or closed meanwhile
        raise errors.SignupClosed()
    # Under the event's lock: the member's row is stable now.
    mine = signup_of(session, event.id, user_id)
    if mine is not None:
        session.refresh(mine)
        if mine.status in LIVE:
            raise errors.AlreadySignedUp(status=mine.status)
    seated = bool(_rowcount(execute(session, _TAKE, {"b_event": event.id})))
    status = SignupStatus.WAITLISTED
    if seated:
        status = SignupStatus.HELD if event.fee else SignupStatus.SIGNED_UP
    values = {
        "status": status,
        "seq": int(seq),
        "order_id": None,
        "code": None,
        "created_at": now,
        "seated_at": now if seated else None,
        "promoted": 0,
        "ended_at": None,
        "end_reason": None,
        "attended_at": None,
        "checked_in_by": None,
        "reminded_at": None,
    }
    if mine is None:
        mine = EventSignup(event_id=event.id, user_id=user_id, **values)
        session.add(mine)
        session.flush()
    else:
        for name, value in values.items():
            setattr(mine, name, value)
        session.flush()
    order = started = None
    if status == SignupStatus.HELD:
        order = _seat_order(session, event, user_id)
        mine.order_id = order.id
        session.flush()
        started = payments.start(session, order)
    elif status == SignupStatus.SIGNED_UP:
        _issue_code(session, mine)
        _confirmed(session, event, [user_id])
    expire_loaded(session, Event)
    session.refresh(event)
    session.refresh(mine)
    return SignedUp(event, mine, order, started)


def _confirmed(session: Session, event: Event, user_ids: list[int]) -> None:
    outbox.emit(
        session,
        "event.signed_up",
        {"user_ids": user_ids, "event_id": event.id, "title": event.title},
    )


def _free_seat(session: Session, event_id: int) -> None:
    locks.note(session, Rank.STOCK, event_id)
    execute(session, _FREE, {"b_event": event_id})


def _promote(session: Session, event: Event) -> list[int]:
    """While a seat is free and someone waits: the first in line takes it (a free event's
    at once, a paid one's with a payment window of its own) and is told. Under the event's
    lock (the caller holds it). Returns the users promoted."""
    promoted: list[int] = []
    now = clock.now()
    session.refresh(event)
    if not rules.promotes(event.status, now, event.starts_at):
        return promoted
    while True:
        first = session.scalar(
            select(EventSignup)
            .where(EventSignup.event_id == event.id, EventSignup.status == SignupStatus.WAITLISTED)
            .order_by(EventSignup.seq)
            .limit(1)
        )
        if first is None:
            break
        if not _rowcount(execute(session, _TAKE, {"b_event": event.id})):
            break
        status = SignupStatus.HELD if event.fee else SignupStatus.SIGNED_UP
        session.execute(
            update(_signups)
            .where(_signups.c.id == first.id, _signups.c.status == SignupStatus.WAITLISTED)
            .values(status=status, seated_at=now, promoted=1)
        )
        session.refresh(first)
        payload: dict[str, Any] = {
            "user_ids": [first.user_id],
            "event_id": event.id,
            "title": event.title,
        }
        if status == SignupStatus.HELD:
            order = _seat_order(session, event, first.user_id)
            first.order_id = order.id
            session.flush()
            payload["order_id"] = order.id
            payload["amount"] = event.fee
            payload["pay_by"] = clock.iso(order.expires_at)
        else:
            _issue_code(session, first)
        outbox.emit(session, "event.promoted", payload)
        promoted.append(first.user_id)
    expire_loaded(session, Event)
    session.refresh(event)
    return promoted


def cancel_signup(session: Session, *, user_id: int, event_id: int) -> EventSignup:
    """The member gives up their seat or place in line, while sign-up is open: a paid seat
    is refunded in full, and a freed seat goes to the next in line."""
    event = visible_event(session, event_id, user_id=user_id, role="member")
    mine = signup_of(session, event.id, user_id)
    if mine is None or mine.status not in LIVE:
        raise errors.NotSignedUp()
    if not rules.can_cancel_signup(event.status, clock.now(), event.closes_at):
        raise errors.SignupClosed("sign-up has closed: the seat can no longer be cancelled")
    if mine.attended_at is not None:
        raise errors.CheckinCodeUsed()
    order_id = mine.order_id
    if order_id is not None:  # the order before the event (the one lock order)
        orders.lock_orders(session, [order_id])
    locks.note(session, Rank.STOCK, event.id)
    session.execute(_HOLD, {"b_event": event.id}).first()
    session.refresh(mine)
    frm = mine.status
    if frm not in LIVE:
        raise errors.NotSignedUp()
    _end(session, mine, frm, SignupStatus.CANCELLED, "cancelled_by_member")
    if frm in HOLDING:
        _free_seat(session, event.id)
    if order_id is not None:
        order = orders.get(session, order_id)
        if order.status == orders.OrderStatus.PENDING_PAYMENT:
            orders.release_unpaid(session, order, reason="cancelled_by_member")
        elif order.status in _REFUNDABLE:
            orders.refund_in_full(
                session, order, reason="cancelled_by_member", note="活动报名已取消, 全额退款"
            )
    if frm in HOLDING:
        _promote(session, event)
    session.refresh(mine)
    return mine


def _end(session: Session, signup: EventSignup, frm: str, to: str, reason: str) -> bool:
    return bool(
        _rowcount(
            session.execute(
                update(_signups)
                .where(_signups.c.id == signup.id, _signups.c.status == frm)
                .values(status=to, ended_at=clock.now(), end_reason=reason)
            )
        )
    )


# ---------------------------------------------------------------- the kind of order


def on_paid(session: Session, paid: list[orders.PaidOrder]) -> None:
    """Paid seats: the sign-up is confirmed with its check-in code, the order confirmed
    (its money stays in escrow until check-in or the event's end)."""
    rows = orders.get_many(session, [o.id for o in paid])
    for order in rows:
        signup = session.scalar(select(EventSignup).where(EventSignup.order_id == order.id))
        if signup is None:
            continue
        moved = _rowcount(
            session.execute(
                update(_signups)
                .where(_signups.c.id == signup.id, _signups.c.status == SignupStatus.HELD)
                .values(status=SignupStatus.SIGNED_UP)
            )
        )
        orders.confirm(session, order, final_unit_price=order.unit_price, ship_within_hours=1)
        if moved:
            session.refresh(signup)
            _issue_code(session, signup)
            event = get_event(session, signup.event_id)
            _confirmed(session, event, [signup.user_id])


def on_released(session: Session, order: Any) -> None:
    """An unpaid seat's hold ran out (or its member cancelled): the seat is freed and goes to
    the next in line. Locks: the order (held by the caller), then the event."""
    signup = session.scalar(select(EventSignup).where(EventSignup.order_id == order.id))
    if signup is None or signup.status != SignupStatus.HELD:
        return  # its member cancelled (the seat was freed then), or never held
    locks.note(session, Rank.STOCK, signup.event_id)
    session.execute(_HOLD, {"b_event": signup.event_id}).first()
    if not _end(session, signup, SignupStatus.HELD, SignupStatus.RELEASED, "payment_timeout"):
        return
    _free_seat(session, signup.event_id)
    _promote(session, get_event(session, signup.event_id))


KIND = orders.KindHooks(on_paid=on_paid, on_released=on_released, campaign_limit=False)


# ---------------------------------------------------------------- check-in


@dataclass(frozen=True)
class CheckedIn:
    signup: EventSignup
    name: str


def check_in(session: Session, *, user_id: int, event_id: int, code: str) -> CheckedIn:
    """The leader (or an admin) verifies a member's code at the door: attendance recorded,
    once. ``checkin_code_invalid`` (no such code here), ``checkin_code_used`` (with when),
    ``not_signed_up`` (the code's sign-up was cancelled, or the event is not on)."""
    event = managed_event(session, user_id, event_id)
    code = rules.normalise_code(code)
    if not rules.is_code(code):
        raise errors.CheckinCodeInvalid(
            f"签到码是 {rules.CODE_DIGITS} 位数字", digits=rules.CODE_DIGITS, field="code"
        )
    signup = session.scalar(
        select(EventSignup).where(EventSignup.event_id == event.id, EventSignup.code == code)
    )
    if signup is None:
        raise errors.CheckinCodeInvalid(field="code")
    name = accounts.masked_names(session, [signup.user_id]).get(signup.user_id, "")
    if signup.attended_at is not None:
        _raise_used(signup, name)
    if signup.status != SignupStatus.SIGNED_UP or event.status != EventStatus.PUBLISHED:
        raise errors.NotSignedUp(name=name, status=signup.status, field="code")
    now = clock.now()
    moved = _rowcount(
        session.execute(
            update(_signups)
            .where(
                _signups.c.id == signup.id,
                _signups.c.status == SignupStatus.SIGNED_UP,
                _signups.c.attended_at.is_(None),
            )
            .values(attended_at=now, checked_in_by=user_id)
        )
    )
    session.refresh(signup)
    if not moved:
        if signup.attended_at is not None:
            _raise_used(signup, name)
        raise errors.NotSignedUp(name=name, field="code")
    if signup.order_id is not None:
        _release_fee(session, signup.order_id, how="event_attended")
    outbox.emit(
        session,
        "event.attended",
        {"event_id": event.id, "user_id": signup.user_id, "signup_id": signup.id},
    )
    return CheckedIn(signup, name)


def _raise_used(signup: EventSignup, name: str) -> None:
    assert signup.attended_at is not None
    hhmm = clock.to_local(signup.attended_at).strftime("%H:%M")
    raise errors.CheckinCodeUsed(
        f"已签到 {hhmm}",
        attended_at=clock.iso(signup.attended_at),
        attended_local=hhmm,
        name=name,
        field="code",
    )


def _release_fee(session: Session, order_id: int, *, how: str) -> None:
    """A kept seat's fee leaves escrow for the leader (their own supplier record)."""
    order = orders.get(session, order_id, lock=True)
    if order.status == orders.OrderStatus.CONFIRMED:
        orders.move(session, order.id, orders.OrderStatus.CONFIRMED, orders.OrderStatus.ARRIVED)
        session.refresh(order)
    if order.status == orders.OrderStatus.ARRIVED:
        orders.complete(session, order, how=how)


def decode_scan(image: bytes) -> str:
    """The text of a picture of a member's QR (the counter's camera): its code."""
    from tuangou.fulfilment import service as fulfilment

    texts = fulfilment.decode_qr(image)
    codes = [t for t in texts if rules.is_code(rules.normalise_code(t))]
    return rules.normalise_code((codes or texts or [""])[0])[:20]


# ---------------------------------------------------------------- the worker's part


def due_reminders(session: Session, limit: int = 100) -> list[int]:
    now = clock.now()
    return list(
        session.scalars(
            select(Event.id)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.starts_at > now,
                Event.starts_at <= now + rules.REMIND_BEFORE,
            )
            .order_by(Event.starts_at, Event.id)
            .limit(limit)
        )
    )


def remind(session: Session, event_id: int) -> int:
    """Tell each member with a seat that the event starts soon: once per member and event
    (compare-and-set on ``reminded_at``). Returns how many were told now."""
    event = get_event(session, event_id)
    now = clock.now()
    if event.status != EventStatus.PUBLISHED or not rules.reminder_due(now, event.starts_at):
        return 0
    told = [
        int(uid)
        for uid in session.execute(
            update(_signups)
            .where(
                _signups.c.event_id == event.id,
                _signups.c.status == SignupStatus.SIGNED_UP,
                _signups.c.reminded_at.is_(None),
            )
            .values(reminded_at=now)
            .returning(_signups.c.user_id)
        ).scalars()
    ]
    if told:
        outbox.emit(
            session,
            "event.reminder",
            {
                "user_ids": told,
                "event_id": event.id,
                "title": event.title,
                "starts_at": clock.iso(event.starts_at),
                "place": event.place,
            },
        )
    return len(told)


def due_cancelled(session: Session, limit: int = 200) -> list[int]:
    """Sign-ups still live in cancelled events (their orders to refund or release)."""
    return list(
        session.scalars(
            select(EventSignup.id)
            .join(Event, Event.id == EventSignup.event_id)
            .where(Event.status == EventStatus.CANCELLED, EventSignup.status.in_(LIVE))
            .order_by(EventSignup.id)
            .limit(limit)
        )
    )


def settle_cancelled(session: Session, signup_id: int) -> bool:
    """One sign-up of a cancelled event ends: a paid seat refunded in full (once: the
    refund's key), an unpaid hold released. The order first, then the sign-up."""
    signup = session.get(EventSignup, signup_id)
    if signup is None or signup.status not in LIVE:
        return False
    if signup.order_id is not None:
        orders.lock_orders(session, [signup.order_id])
    session.refresh(signup)
    frm = signup.status
    if frm not in LIVE:
        return False
    _end(session, signup, frm, SignupStatus.CANCELLED, "event_cancelled")
    if frm in HOLDING:
        _free_seat(session, signup.event_id)
    if signup.order_id is not None:
        order = orders.get(session, signup.order_id)
        if order.status == orders.OrderStatus.PENDING_PAYMENT:
            orders.release_unpaid(session, order, reason="event_cancelled")
        elif order.status in _REFUNDABLE:
            orders.refund_in_full(session, order, reason="event_cancelled", note="活动已取消")
    return True


def due_over(session: Session, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(Event.id)
            .where(Event.status == EventStatus.PUBLISHED, Event.ends_at <= clock.now())
            .order_by(Event.ends_at, Event.id)
            .limit(limit)
        )
    )


def end_event(session: Session, event_id: int) -> bool:
    """An event whose end passed is over (once); its kept seats' fees go to the leader by
    :func:`release_kept` (in the worker, one order at a time)."""
    locks.note(session, Rank.STOCK, event_id)
    return bool(
        _rowcount(
            session.execute(
                update(_events)
                .where(
                    _events.c.id == event_id,
                    _events.c.status == EventStatus.PUBLISHED,
                    _events.c.ends_at <= clock.now(),
                )
                .values(status=EventStatus.OVER, over_at=clock.now())
            )
        )
    )


def due_kept(session: Session, limit: int = 200) -> list[int]:
    """Orders of seats kept in events over whose fee is still in escrow (no-shows)."""
    return list(
        session.scalars(
            select(EventSignup.order_id)
            .join(Event, Event.id == EventSignup.event_id)
            .where(
                Event.status == EventStatus.OVER,
                EventSignup.status == SignupStatus.SIGNED_UP,
                EventSignup.order_id.is_not(None),
                EventSignup.order_id.in_(
                    orders.ids_query(
                        kind=KIND_NAME,
                        statuses=(orders.OrderStatus.CONFIRMED, orders.OrderStatus.ARRIVED),
                    )
                ),
            )
            .order_by(EventSignup.order_id)
            .limit(limit)
        )
    )


def release_kept(session: Session, order_id: int) -> bool:
    order = orders.get(session, order_id)
    if order.status not in (orders.OrderStatus.CONFIRMED, orders.OrderStatus.ARRIVED):
        return False
    _release_fee(session, order_id, how="event_over")
    return True
