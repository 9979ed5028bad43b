"""Delivery tracking of a wave's shipment to a pickup point: 已发货 → 运输中 → 已到达.

A shipment (one per wave and pickup point, ``fulfilment.models.Shipment``) carries the
carrier the supplier named and its tracking number. Its step moves forward only
(``rules.tracking_steps_to``), by a guarded write (compare-and-set on the step read), and
each step reached is one row of ``shipment_tracking_events`` (unique on the shipment and
the step) with its time and who said so.

Who moves it is the carrier's business: a :class:`Carrier` answers ``track(tracking_no)``
with the events it knows. The default, :class:`ManualCarrier`, knows nothing: the supplier's
staff (or an operator) moves the shipment by hand. A carrier registered under its name
(:func:`register_carrier`) with ``polled = True`` is asked by the worker's job
(``fulfilment.tasks.poll_carriers``) at most every :data:`POLL_EVERY`. None ships besides the
manual one; the tests register a fake.

Arrival here is the carrier's word that the goods reached the pickup point; the leader's
receipt (``service.receive``: pickup codes, orders ``arrived``) stays its own step and may
come before or after it. A shipment refunded as undelivered takes no more steps.

This module imports no other part of fulfilment but its models, rules and errors, so that
``service`` can re-export it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.db import is_sqlite, table, upsert_insert
from tuangou.fulfilment import errors, rules
from tuangou.fulfilment.models import Shipment, TrackingEvent
from tuangou.fulfilment.rules import TrackingStatus
from tuangou.orders import errors as order_errors
from tuangou.orders import service as orders
from tuangou.pools import service as pools

log = logging.getLogger(__name__)

POLL_EVERY = timedelta(minutes=30)


# ---------------------------------------------------------------- carriers


@dataclass(frozen=True)
class CarrierEvent:
    """What a carrier says of a parcel: it reached ``status`` at ``at`` (naive UTC)."""

    status: TrackingStatus
    at: datetime
    note: str = ""


class Carrier(Protocol):
    """A carrier's tracking service. ``polled``: whether the worker asks it (the manual
    carrier is never asked: people move its shipments)."""

    polled: bool

    def track(self, tracking_no: str) -> list[CarrierEvent]: ...


class ManualCarrier:
    """The default: the supplier (or an operator) moves the shipment by hand."""

    polled = False

    def track(self, tracking_no: str) -> list[CarrierEvent]:
        return []


MANUAL = ManualCarrier()
_carriers: dict[str, Carrier] = {}


def _key(name: str) -> str:
    return name.strip().casefold()


def register_carrier(name: str, carrier: Carrier) -> None:
    """A carrier known by ``name`` (as suppliers type it, case ignored)."""
    _carriers[_key(name)] = carrier


def unregister_carrier(name: str) -> None:
    _carriers.pop(_key(name), None)


def carrier_for(name: str | None) -> Carrier:
    """The carrier registered under ``name``; any other name is moved by hand."""
    return _carriers.get(_key(name or ""), MANUAL)


# ---------------------------------------------------------------- reads


def events_of(session: Session, shipment_ids: list[int]) -> dict[int, list[TrackingEvent]]:
    found: dict[int, list[TrackingEvent]] = {i: [] for i in shipment_ids}
    if not shipment_ids:
        return found
    for event in session.scalars(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id.in_(shipment_ids))
        .order_by(TrackingEvent.shipment_id, TrackingEvent.id)
    ):
        found[event.shipment_id].append(event)
    return found


def view(
    shipment: Shipment | None, events: list[TrackingEvent], *, raw: bool = False
) -> dict[str, Any]:
    """A shipment's tracking as the API shows it: every step, reached or not, with ISO
    times (``raw``: the stored times, for the pages' own formatting)."""
    at = {e.status: e.at for e in events}

    def when(value: datetime | None) -> Any:
        return value if raw else clock.iso(value)

    return {
        "carrier": shipment.carrier if shipment else None,
        "tracking_no": shipment.tracking_no if shipment else None,
        "status": shipment.tracking_status if shipment else None,
        "manual": not carrier_for(shipment.carrier if shipment else None).polled,
        "steps": [
            {"status": str(step), "at": when(at.get(step)), "done": step in at}
            for step in rules.TRACKING_STEPS
        ],
        "received_at": when(shipment.received_at) if shipment else None,
        "refunded_at": when(shipment.refunded_at) if shipment else None,
    }


def shipments_of_waves(session: Session, wave_ids: list[int]) -> dict[tuple[int, int], Shipment]:
    """The shipments of some waves, by (wave, pickup point)."""
    if not wave_ids:
        return {}
    return {
        (s.wave_id, s.pickup_point_id): s
        for s in session.scalars(select(Shipment).where(Shipment.wave_id.in_(wave_ids)))
    }


def wave_tracking(
    session: Session, *, wave_id: int, supplier_id: int | None, raw: bool = False
) -> list[dict[str, Any]]:
    """Each pickup point of a wave with its shipment's tracking (``supplier_id`` None: an
    operator; another supplier's wave is the 404 of a missing one)."""
    wave = pools.get_wave(session, wave_id)
    if supplier_id is not None and wave.supplier_id != supplier_id:
        raise errors.NotYourWave()
    points = sorted({lst.pickup_point_id for lst in pools.listings_of_wave(session, wave_id)})
    rows = shipments_of_waves(session, [wave_id])
    events = events_of(session, [s.id for s in rows.values()])
    found = []
    for pid in points:
        shipment = rows.get((wave_id, pid))
        its = events.get(shipment.id, []) if shipment else []
        found.append({"wave_id": wave_id, "pickup_point_id": pid, **view(shipment, its, raw=raw)})
    return found


def order_tracking(
    session: Session, *, user_id: int, order_id: int, raw: bool = False
) -> dict[str, Any]:
    """Where a member's wave order's goods are (their own order only; anyone else's is the
    404 of a missing order)."""
    order = orders.get(session, order_id)
    if order.user_id != user_id or order.kind != "wave":
        raise order_errors.OrderNotFound()
    info = pools.info_of(session, order_id)
    shipment = shipments_of_waves(session, [info.wave_id]).get((info.wave_id, info.pickup_point_id))
    events = events_of(session, [shipment.id]).get(shipment.id, []) if shipment else []
    return {
        "order_id": order_id,
        "wave_id": info.wave_id,
        "pickup_point_id": info.pickup_point_id,
        **view(shipment, events, raw=raw),
    }


# ---------------------------------------------------------------- writes


def _locked(session: Session, wave_id: int, pickup_point_id: int) -> Shipment | None:
    query = (
        select(Shipment)
        .where(Shipment.wave_id == wave_id, Shipment.pickup_point_id == pickup_point_id)
        .execution_options(populate_existing=True)
    )
    if not is_sqlite():
        query = query.with_for_update()
    return session.scalar(query)


def _advance(
    session: Session,
    shipment: Shipment,
    to: TrackingStatus,
    *,
    at: datetime,
    source: str,
    by: int | None,
    note: str = "",
) -> list[TrackingStatus]:
    """Move the shipment to ``to`` from the step read (compare-and-set), recording each
    step passed. Returns the steps recorded; raises ``tracking_step_not_forward``."""
    current = shipment.tracking_status
    try:
        steps = rules.tracking_steps_to(current, to)
    except rules.TrackingMoveRefused:
        raise errors.TrackingStepNotForward(current=current, to=str(to)) from None
    guard = (
        Shipment.tracking_status.is_(None)
        if current is None
        else Shipment.tracking_status == current
    )
    result: Any = session.execute(
        update(table(Shipment))
        .where(Shipment.id == shipment.id, guard, Shipment.refunded_at.is_(None))
        .values(tracking_status=str(to))
    )
    moved = int(result.rowcount)
    session.refresh(shipment)
    if not moved:  # a concurrent move (or refund) won: say where it is now
        if shipment.refunded_at is not None:
            raise errors.UndeliveredRefunded(refunded_at=clock.iso(shipment.refunded_at))
        raise errors.TrackingStepNotForward(current=shipment.tracking_status, to=str(to))
    session.execute(
        upsert_insert(session)(table(TrackingEvent))
        .values(
            [
                {
                    "shipment_id": shipment.id,
                    "status": str(step),
                    "at": at,
                    "source": source,
                    "by_user": by,
                    "note": note[: rules.TRACKING_NOTE_MAX],
                }
                for step in steps
            ]
        )
        .on_conflict_do_nothing(index_elements=["shipment_id", "status"])
    )
    return list(steps)


def record_shipped(
    session: Session,
    shipment: Shipment,
    *,
    user_id: int,
    carrier: str | None = None,
    tracking_no: str | None = None,
) -> None:
    """The supplier shipped (``service.ship``, on the locked row): tracking starts at
    已发货, with the carrier and number if given (a shipment already shipped keeps its step
    and takes the new number)."""
    assert shipment.shipped_at is not None
    if carrier is not None or tracking_no is not None:
        _check_text(carrier or "", tracking_no or "")
        shipment.carrier = (carrier or "").strip()
        shipment.tracking_no = (tracking_no or "").strip()
        session.flush()
    if shipment.tracking_status is None:
        _advance(
            session,
            shipment,
            TrackingStatus.SHIPPED,
            at=shipment.shipped_at,
            source="manual",
            by=user_id,
        )


def _check_text(carrier: str, tracking_no: str) -> None:
    field = rules.tracking_text_problem(carrier, tracking_no)
    if field is not None:
        raise errors.InvalidTracking(field=field)


def _shipment_to_track(
    session: Session, *, wave_id: int, pickup_point_id: int, supplier_id: int | None
) -> Shipment:
    wave = pools.get_wave(session, wave_id)
    if supplier_id is not None and wave.supplier_id != supplier_id:
        raise errors.NotYourWave()
    if pickup_point_id not in {
        lst.pickup_point_id for lst in pools.listings_of_wave(session, wave_id)
    }:
        raise errors.NotInWave(pickup_point_id=pickup_point_id)
    shipment = _locked(session, wave_id, pickup_point_id)
    if shipment is None or shipment.tracking_status is None:
        raise errors.ShipmentNotShipped(pickup_point_id=pickup_point_id)
    if shipment.refunded_at is not None:
        raise errors.UndeliveredRefunded(refunded_at=clock.iso(shipment.refunded_at))
    return shipment


def set_tracking_number(
    session: Session,
    *,
    wave_id: int,
    pickup_point_id: int,
    supplier_id: int | None,
    carrier: str,
    tracking_no: str,
) -> Shipment:
    """Name (or correct) the carrier and tracking number of goods already shipped, until
    they arrived."""
    _check_text(carrier, tracking_no)
    shipment = _shipment_to_track(
        session, wave_id=wave_id, pickup_point_id=pickup_point_id, supplier_id=supplier_id
    )
    if shipment.tracking_status == TrackingStatus.ARRIVED:
        raise errors.TrackingStepNotForward(
            "the goods arrived: the tracking number is final", current=shipment.tracking_status
        )
    shipment.carrier, shipment.tracking_no = carrier.strip(), tracking_no.strip()
    session.flush()
    return shipment


def move(
    session: Session,
    *,
    wave_id: int,
    pickup_point_id: int,
    supplier_id: int | None,
    user_id: int,
    to: str,
    note: str = "",
) -> Shipment:
    """Move a shipment by hand to a later step (the supplier's staff, or an operator)."""
    try:
        target = TrackingStatus(to)
    except ValueError:
        raise errors.InvalidTracking("the step is in_transit or arrived", field="status") from None
    shipment = _shipment_to_track(
        session, wave_id=wave_id, pickup_point_id=pickup_point_id, supplier_id=supplier_id
    )
    _advance(session, shipment, target, at=clock.now(), source="manual", by=user_id, note=note)
    return shipment


# ---------------------------------------------------------------- polling carriers


def due_polls(session: Session, limit: int = 100) -> list[tuple[int, str, str]]:
    """(shipment, carrier, tracking number) of polled carriers' shipments on their way,
    not asked within :data:`POLL_EVERY`."""
    before = clock.now() - POLL_EVERY
    rows = session.execute(
        select(Shipment.id, Shipment.carrier, Shipment.tracking_no)
        .where(
            Shipment.tracking_status.in_([TrackingStatus.SHIPPED, TrackingStatus.IN_TRANSIT]),
            Shipment.refunded_at.is_(None),
            Shipment.carrier.is_not(None),
            Shipment.tracking_no.is_not(None),
            (Shipment.tracking_polled_at.is_(None)) | (Shipment.tracking_polled_at < before),
        )
        .order_by(
            Shipment.tracking_polled_at.is_not(None), Shipment.tracking_polled_at, Shipment.id
        )
        .limit(limit * 4)
    ).all()
    due = [(int(i), str(c), str(n)) for i, c, n in rows if carrier_for(c).polled]
    return due[:limit]


def apply_carrier_events(session: Session, shipment_id: int, events: list[CarrierEvent]) -> int:
    """Take what a carrier said: the furthest step it reached, if later than the shipment's
    (steps passed are recorded at their own times when the carrier gave them). Returns the
    steps recorded."""
    shipment = session.get(Shipment, shipment_id, populate_existing=True)
    if shipment is None:
        return 0
    shipment.tracking_polled_at = clock.now()
    session.flush()
    if shipment.refunded_at is not None or shipment.tracking_status is None:
        return 0
    recorded = 0
    for event in sorted(events, key=lambda e: rules.TRACKING_STEPS.index(e.status)):
        current = rules.TRACKING_STEPS.index(TrackingStatus(shipment.tracking_status))
        if rules.TRACKING_STEPS.index(event.status) <= current:
            continue
        try:
            recorded += len(
                _advance(
                    session,
                    shipment,
                    event.status,
                    at=min(event.at, clock.now()),
                    source="carrier",
                    by=None,
                    note=event.note,
                )
            )
        except (errors.TrackingStepNotForward, errors.UndeliveredRefunded):
            break  # moved meanwhile by hand, or refunded: the next poll reads it again
    return recorded
