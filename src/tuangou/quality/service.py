"""The supplier quality record (品控) and the operator's thresholds that flag a supplier.

A read over other domains, through their services: the orders of a supplier's goods
(``orders.supplier_ids_query``), the after-sale cases on them (``aftersales.case_counts``),
its verified buyers' reviews (``reviews.supplier_stars``), its settled waves
(``pools.supplier_waves``) and their shipments (``fulfilment.shipments_of_waves``). The
figures' definitions are in ``rules``; nothing is stored but the thresholds (one row,
``quality_thresholds``; the defaults until an operator saves them). Flags are computed on
each read, from the window's figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tuangou.aftersales import service as aftersales
from tuangou.catalog import service as catalog
from tuangou.core import clock
from tuangou.core.db import upsert_insert
from tuangou.fulfilment import service as fulfilment
from tuangou.orders import service as orders
from tuangou.pools import service as pools
from tuangou.quality import errors, rules
from tuangou.quality.models import QualityThresholds
from tuangou.quality.rules import Figures, Flag, FlagReason, Thresholds
from tuangou.reviews import service as reviews

__all__ = [
    "DEFAULTS",
    "Figures",
    "Flag",
    "FlagReason",
    "Record",
    "Thresholds",
    "figures",
    "get_thresholds",
    "record",
    "records",
    "set_thresholds",
]

DEFAULTS = rules.DEFAULTS


# ---------------------------------------------------------------- thresholds


def get_thresholds(session: Session) -> Thresholds:
    row = session.get(QualityThresholds, 1)
    if row is None:
        return DEFAULTS
    return Thresholds(**{name: getattr(row, name) for name, _, _ in rules.BOUNDS})


def set_thresholds(session: Session, thresholds: Thresholds, *, user_id: int) -> Thresholds:
    """Save the operator's thresholds (all of them); one out of bounds changes nothing."""
    problem = rules.thresholds_problem(thresholds)
    if problem is not None:
        name, low, high = problem
        raise errors.InvalidThresholds(
            f"{name} must be between {low} and {high}", field=name, low=low, high=high
        )
    values = {**asdict(thresholds), "updated_at": clock.now(), "updated_by": user_id}
    session.execute(
        upsert_insert(session)(QualityThresholds)
        .values(id=1, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )
    session.expire_all()
    return get_thresholds(session)


# ---------------------------------------------------------------- figures and the record


def figures(
    session: Session, supplier_id: int, *, since: datetime | None, now: datetime | None = None
) -> Figures:
    """The supplier's figures since an instant (None: all time); see ``rules``."""
    now = now or clock.now()
    paid = orders.supplier_ids_query(supplier_id=supplier_id, paid_since=since)
    n_orders = int(session.scalar(select(func.count()).select_from(paid.subquery())) or 0)
    cases = (
        aftersales.case_counts(session, paid) if n_orders else dict.fromkeys(rules.CASE_KINDS, 0)
    )
    stars = reviews.supplier_stars(session, supplier_id, since=since)
    waves = pools.supplier_waves(session, supplier_id, since=since)
    sent = fulfilment.shipments_of_waves(session, [w.wave_id for w in waves])
    due = timely = 0
    for wave in waves:
        due_at = clock.local_midnight(wave.delivery_date + timedelta(days=1))
        for point in sorted(wave.points):
            shipment = sent.get((wave.wave_id, point))
            at = None
            if shipment is not None:
                at = shipment.shipped_at or shipment.received_at
            verdict = rules.on_time(at, due_at, now)
            if verdict is None:
                continue
            due += 1
            timely += verdict
    return Figures(
        orders=n_orders,
        cases={kind: int(cases.get(kind, 0)) for kind in rules.CASE_KINDS},
        stars=stars,
        shipments=due,
        on_time=timely,
        waves=len(waves),
        failed_waves=sum(1 for w in waves if w.confirmed_items == 0),
        partly_failed_waves=sum(1 for w in waves if w.confirmed_items and w.cancelled_items),
    )


@dataclass(frozen=True)
class Record:
    """A supplier's quality record: the window's figures (which the flags judge) and all
    time's, with the thresholds they were judged by."""

    supplier_id: int
    name: str
    window: Figures
    all_time: Figures
    thresholds: Thresholds
    flags: list[Flag]
    since: datetime

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def record(session: Session, supplier_id: int, *, thresholds: Thresholds | None = None) -> Record:
    supplier = catalog.get_supplier(session, supplier_id)
    t = thresholds or get_thresholds(session)
    now = clock.now()
    since = now - timedelta(days=t.window_days)
    window = figures(session, supplier_id, since=since, now=now)
    return Record(
        supplier_id=supplier.id,
        name=supplier.name,
        window=window,
        all_time=figures(session, supplier_id, since=None, now=now),
        thresholds=t,
        flags=rules.flags(window, t),
        since=since,
    )


def records(session: Session, supplier_ids: list[int] | None = None) -> list[Record]:
    """Every supplier's record (or those named), flagged ones first, then by name."""
    t = get_thresholds(session)
    ids = (
        [s.id for s in catalog.list_suppliers(session)]
        if supplier_ids is None
        else sorted(set(supplier_ids))
    )
    found = [record(session, i, thresholds=t) for i in ids]
    return sorted(found, key=lambda r: (not r.flagged, r.name, r.supplier_id))
