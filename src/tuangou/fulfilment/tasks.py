"""Due fulfilment work: unpicked orders past the wave's days, goods past the delivery deadline."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from tuangou.core.db import run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.fulfilment import service as fulfilment

log = logging.getLogger(__name__)


def close_unpicked(limit: int = 200) -> int:
    """Apply each wave's unpicked policy (refund or keep) to pickups left past its days."""
    done = 0
    for pickup_id in run_in_transaction(lambda s: fulfilment.due_unpicked(s, limit)):

        def close(session: Session, pickup_id: int = pickup_id) -> bool:
            return fulfilment.close_unpicked(session, pickup_id)

        done += bool(run_in_transaction(close))
    return done


def refund_undelivered() -> int:
    """Refund the orders of pickup points whose goods never arrived by the deadline, for
    waves that do so automatically; returns how many orders were refunded."""
    done = 0
    for wave_id, point_id in run_in_transaction(fulfilment.undelivered_due):

        def refund(session: Session, wave_id: int = wave_id, point_id: int = point_id) -> int:
            return len(
                fulfilment.refund_undelivered(
                    session, wave_id=wave_id, pickup_point_id=point_id, operator_id=None
                )
            )

        try:
            done += run_in_transaction(refund)
        except DomainError as exc:  # received meanwhile: nothing to refund
            log.info("wave %s point %s not refunded: %s", wave_id, point_id, exc.code)
    return done


def poll_carriers(limit: int = 100) -> int:
    """Ask each polled carrier (none but the manual one ships; the tests register a fake)
    where its shipments are, and take the steps it reports. The carrier is asked outside
    any transaction; each shipment's steps are written in one of their own."""
    done = 0
    for shipment_id, carrier, tracking_no in run_in_transaction(
        lambda s: fulfilment.due_polls(s, limit)
    ):
        try:
            events = fulfilment.carrier_for(carrier).track(tracking_no)
        except Exception:  # a carrier's outage must not stop the worker: asked again later
            log.warning("carrier %r failed on shipment %s", carrier, shipment_id, exc_info=True)
            events = []

        def apply(
            session: Session,
            shipment_id: int = shipment_id,
            events: list[fulfilment.CarrierEvent] = events,
        ) -> int:
            return fulfilment.apply_carrier_events(session, shipment_id, events)

        done += run_in_transaction(apply)
    return done
