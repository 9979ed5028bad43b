"""Fulfilment of community waves: ship → receive at the pickup point → pickup code → verify.

* The supplier marks a settled wave's goods shipped per pickup point: one ``Shipment`` row per
  (wave, pickup point), its orders move ``confirmed → shipped``.
* The leader confirms receipt at their pickup point (exactly once: compare-and-set on the
  shipment row): its orders move to ``arrived`` and each gets a pickup code (提货码), six
  random digits unique per pickup point and wave (a unique index; a colliding draw is drawn
  again), told to the member through the outbox.
* The leader verifies a code (核销): compare-and-set ``waiting → picked_up`` on the pickup, then
  the order completes and escrow pays the supplier, the leader's commission and the fee.
* Left unpicked past the wave's days, the wave's policy applies (refund in full, or complete
  without pickup); goods never received by the delivery deadline are refunded from escrow, by
  the worker or by an operator. Receipt and that refund exclude each other on the shipment row.

Row locks are taken in one order everywhere: the shipment, then the pickup, then the order.
Services flush, never commit.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.communities import service as communities
from tuangou.core import clock, outbox
from tuangou.core.config import get_settings
from tuangou.core.db import is_sqlite, table, upsert_insert
from tuangou.core.errors import Forbidden, InvalidInput
from tuangou.fulfilment import errors, rules, tracking
from tuangou.fulfilment.models import Pickup, Shipment
from tuangou.fulfilment.rules import PickupStatus
from tuangou.orders import service as orders
from tuangou.orders.service import OrderStatus
from tuangou.pools import service as pools

if TYPE_CHECKING:
    from tuangou.orders.models import Order

log = logging.getLogger(__name__)

CODE_INSERT_ATTEMPTS = 5
# Order statuses whose goods were delivered to the pickup point (manifests list them too).
DELIVERABLE = orders.CONFIRMED_OR_LATER


_insert = upsert_insert  # the dialect's INSERT, for ON CONFLICT


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


# ---------------------------------------------------------------- waves and shipments


def _settled_wave(session: Session, wave_id: int) -> Any:
    wave = pools.get_wave(session, wave_id)
    if wave.status != pools.WaveStatus.SETTLED:
        raise errors.WaveNotSettled(wave_status=wave.status)
    return wave


def points_of_wave(session: Session, wave_id: int) -> list[int]:
    """The pickup points a wave is delivered to: one per community that published it."""
    return sorted({listing.pickup_point_id for listing in pools.listings_of_wave(session, wave_id)})


def _require_point_in_wave(session: Session, wave_id: int, pickup_point_id: int) -> None:
    if pickup_point_id not in points_of_wave(session, wave_id):
        raise errors.NotInWave(pickup_point_id=pickup_point_id)


def _lock_shipment(session: Session, wave_id: int, pickup_point_id: int) -> Shipment:
    """The (wave, pickup point) shipment row, created if missing, locked until commit."""
    session.execute(
        _insert(session)(table(Shipment))
        .values(wave_id=wave_id, pickup_point_id=pickup_point_id, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["wave_id", "pickup_point_id"])
    )
    query = (
        select(Shipment)
        .where(Shipment.wave_id == wave_id, Shipment.pickup_point_id == pickup_point_id)
        .execution_options(populate_existing=True)
    )
    if not is_sqlite():
        query = query.with_for_update()
    row = session.scalar(query)
    assert row is not None
    return row


def shipments_of(session: Session, wave_id: int) -> dict[int, Shipment]:
    return {
        s.pickup_point_id: s
        for s in session.scalars(select(Shipment).where(Shipment.wave_id == wave_id))
    }


def _orders_at(
    session: Session, wave_id: int, pickup_point_id: int, statuses: tuple[str, ...]
) -> list[tuple[Any, Order, list[Any]]]:
    return [
        row
        for row in pools.wave_orders(session, wave_id, pickup_point_id=pickup_point_id)
        if row[1].status in statuses
    ]


@dataclass(frozen=True)
class Shipped:
    shipment: Shipment
    orders_shipped: int
    skipped: str | None = None  # "received" | "refunded": nothing left to ship


def ship(
    session: Session,
    *,
    wave_id: int,
    supplier_id: int,
    user_id: int,
    pickup_point_ids: list[int] | None = None,
    carrier: str | None = None,
    tracking_no: str | None = None,
) -> list[Shipped]:
    """The supplier marks the goods sent to some pickup points (``None``: all of them),
    optionally with the carrier and tracking number (delivery tracking starts at 已发货)."""
    wave = pools.get_wave(session, wave_id)
    if wave.supplier_id != supplier_id:
        raise errors.NotYourWave()
    _settled_wave(session, wave_id)
    points = points_of_wave(session, wave_id)
    if pickup_point_ids is None:
        chosen = points
    else:
        if not pickup_point_ids:
            raise InvalidInput("name at least one pickup point, or null for all", field="body")
        for pid in pickup_point_ids:
            if pid not in points:
                raise errors.NotInWave(pickup_point_id=pid)
        chosen = sorted(set(pickup_point_ids))
    now = clock.now()
    done: list[Shipped] = []
    for pid in chosen:  # one fixed order of row locks
        shipment = _lock_shipment(session, wave_id, pid)
        if shipment.refunded_at is not None:
            if pickup_point_ids is not None:
                raise errors.UndeliveredRefunded(pickup_point_id=pid)
            done.append(Shipped(shipment, 0, "refunded"))
            continue
        if shipment.received_at is not None:
            done.append(Shipped(shipment, 0, "received"))
            continue
        if shipment.shipped_at is None:
            shipment.shipped_at = now
            shipment.shipped_by = user_id
            session.flush()
        tracking.record_shipped(
            session, shipment, user_id=user_id, carrier=carrier, tracking_no=tracking_no
        )
        moved = 0
        for _info, order, _lines in _orders_at(session, wave_id, pid, (OrderStatus.CONFIRMED,)):
            moved += orders.move(
                session, order.id, OrderStatus.CONFIRMED, OrderStatus.SHIPPED, shipped_at=now
            )
        done.append(Shipped(shipment, moved))
    return done


# ---------------------------------------------------------------- receipt and pickup codes


@dataclass(frozen=True)
class Received:
    shipment: Shipment
    pickups: list[Pickup]


def _taken_codes(session: Session, wave_id: int, pickup_point_id: int) -> set[str]:
    """Codes a new one must avoid: this wave's at this point (the unique index), and codes
    still waiting here in other waves, so that a code alone names one order at the counter."""
    return set(
        session.scalars(
            select(Pickup.code).where(
                Pickup.pickup_point_id == pickup_point_id,
                (Pickup.wave_id == wave_id) | (Pickup.status == PickupStatus.WAITING),
            )
        )
    )


def _issue_codes(
    session: Session, wave_id: int, pickup_point_id: int, rows: list[dict[str, Any]]
) -> None:
    """Insert the pickups with fresh random codes; a collision (the unique index) draws
    the codes again."""
    for attempt in range(1, CODE_INSERT_ATTEMPTS + 1):
        codes = rules.draw_codes(len(rows), _taken_codes(session, wave_id, pickup_point_id))
        for row, code in zip(rows, codes, strict=True):
            row["code"] = code
        try:
            with session.begin_nested():
                session.execute(insert(table(Pickup)), rows)
            return
        except IntegrityError:
            log.info("pickup code collision at point %s, drawing again", pickup_point_id)
            if attempt == CODE_INSERT_ATTEMPTS:
                raise


def receive(session: Session, *, user_id: int, wave_id: int, pickup_point_id: int) -> Received:
    """The leader confirms the goods arrived at their pickup point (exactly once).

    Orders still ``confirmed`` (the supplier never marked them shipped, but the goods came)
    or ``shipped`` move to ``arrived``; each gets a pickup code and the member is told.
    """
    leader = communities.get_leader_by_user(session, user_id)
    point = communities.require_own_pickup_point(session, leader.id, pickup_point_id)
    wave = _settled_wave(session, wave_id)
    _require_point_in_wave(session, wave_id, pickup_point_id)
    shipment = _lock_shipment(session, wave_id, pickup_point_id)
    if shipment.refunded_at is not None:
        raise errors.UndeliveredRefunded(refunded_at=clock.iso(shipment.refunded_at))
    now = clock.now()
    moved = _rowcount(
        session.execute(
            update(table(Shipment))
            .where(
                Shipment.id == shipment.id,
                Shipment.received_at.is_(None),
                Shipment.refunded_at.is_(None),
            )
            .values(received_at=now, received_by=user_id)
        )
    )
    if not moved:
        session.refresh(shipment)
        raise errors.AlreadyReceived(received_at=clock.iso(shipment.received_at))
    session.refresh(shipment)
    arrived: list[Order] = []
    for _info, order, _lines in _orders_at(session, wave_id, pickup_point_id, rules.IN_TRANSIT):
        if orders.move(session, order.id, order.status, OrderStatus.ARRIVED):
            arrived.append(order)
    if not arrived:
        return Received(shipment, [])
    unpicked_at = now + timedelta(days=wave.unpicked_days)
    rows: list[dict[str, Any]] = [
        {
            "order_id": order.id,
            "wave_id": wave_id,
            "pickup_point_id": pickup_point_id,
            "status": PickupStatus.WAITING,
            "arrived_at": now,
            "unpicked_at": unpicked_at,
        }
        for order in arrived
    ]
    _issue_codes(session, wave_id, pickup_point_id, rows)
    pickups = list(
        session.scalars(
            select(Pickup)
            .where(Pickup.order_id.in_([o.id for o in arrived]))
            .order_by(Pickup.order_id)
        )
    )
    users = {o.id: o.user_id for o in arrived}
    for pickup in pickups:
        outbox.emit(
            session,
            "pickup.arrived",
            {
                "user_ids": [users[pickup.order_id]],
                "order_id": pickup.order_id,
                "wave_id": wave_id,
                "code": pickup.code,
                "pickup_point_id": point.id,
                "pickup_point": point.name,
                "address": point.address,
                "opening_hours": point.opening_hours,
                "unpicked_at": clock.iso(pickup.unpicked_at),
            },
        )
    return Received(shipment, pickups)


# ---------------------------------------------------------------- verification (核销)


@dataclass(frozen=True)
class Verified:
    pickup: Pickup
    order: Order
    seq: int | None
    name: str
    items: list[dict[str, Any]]


def _local_hhmm(value: datetime) -> str:
    return clock.as_utc(value).astimezone(ZoneInfo(get_settings().timezone)).strftime("%H:%M")


def _items(session: Session, wave_id: int, lines: list[Any]) -> list[dict[str, Any]]:
    """What to hand over: the confirmed lines of an order (a line below its MOQ was refunded)."""
    titles = {i.id: i.title for i in pools.items_of(session, wave_id)}
    return [
        {"item_id": line.item_id, "title": titles.get(line.item_id, ""), "quantity": line.quantity}
        for line in lines
        if line.status == pools.LineStatus.CONFIRMED
    ]


def _who(session: Session, order: Order, pickup: Pickup) -> tuple[int | None, str, list[Any]]:
    info = pools.info_of(session, order.id)
    person = communities.people(session, [order.user_id])[order.user_id]
    return (
        info.seq,
        person.masked_name,
        _items(session, pickup.wave_id, pools.lines_of(session, order.id)),
    )


def verify(
    session: Session,
    *,
    user_id: int,
    pickup_point_id: int,
    code: str,
    wave_id: int | None = None,
    how: rules.HandOver = rules.HandOver.CODE,
) -> Verified:
    """The leader verifies a member's code at the counter: the order completes, once.

    ``how``: the code was typed, read from the member's QR, or taken from the order the
    leader chose after a lookup; it is recorded on the pickup."""
    leader = communities.get_leader_by_user(session, user_id)
    communities.require_own_pickup_point(session, leader.id, pickup_point_id)
    code = rules.normalise_code(code)
    if not rules.is_code(code):
        raise errors.PickupCodeLength(
            f"提货码是 {rules.CODE_DIGITS} 位数字", digits=rules.CODE_DIGITS, field="code"
        )
    query = select(Pickup).where(Pickup.pickup_point_id == pickup_point_id, Pickup.code == code)
    if wave_id is not None:
        query = query.where(Pickup.wave_id == wave_id)
    here = list(session.scalars(query.order_by(Pickup.id.desc())))
    waiting = [p for p in here if p.status == PickupStatus.WAITING]
    if len(waiting) > 1:
        raise errors.PickupCodeAmbiguous(wave_ids=sorted(p.wave_id for p in waiting))
    # A kept order (unpicked, completed by the wave's policy) can still be collected.
    open_ = waiting or [p for p in here if p.status == PickupStatus.KEPT]
    if open_:
        return _hand_over(session, open_[0], user_id, how)
    used = [p for p in here if p.status == PickupStatus.PICKED_UP]
    if used:
        _raise_used(session, used[0])
    if here:
        raise errors.PickupCodeRefunded(order_id=here[0].order_id)
    _raise_if_elsewhere(session, pickup_point_id, code, wave_id)
    raise errors.PickupCodeUnknown()


def _raise_used(session: Session, pickup: Pickup) -> None:
    assert pickup.picked_up_at is not None
    order = orders.get(session, pickup.order_id)
    seq, name, _ = _who(session, order, pickup)
    hhmm = _local_hhmm(pickup.picked_up_at)
    raise errors.PickupCodeUsed(
        f"已提货 {hhmm}",
        picked_up_at=clock.iso(pickup.picked_up_at),
        picked_up_local=hhmm,
        order_id=pickup.order_id,
        seq=seq,
        name=name,
    )


def _raise_if_elsewhere(
    session: Session, pickup_point_id: int, code: str, wave_id: int | None
) -> None:
    """The code belongs to a wave served here, but the order is collected at another point."""
    if wave_id is not None:
        waves: Any = [wave_id]
    else:
        waves = (
            select(Pickup.wave_id).where(Pickup.pickup_point_id == pickup_point_id).distinct()
        ).scalar_subquery()
    other = session.scalar(
        select(Pickup)
        .where(
            Pickup.code == code,
            Pickup.pickup_point_id != pickup_point_id,
            Pickup.wave_id.in_(waves),
        )
        .order_by(Pickup.id.desc())
        .limit(1)
    )
    if other is None:
        return
    point = communities.get_pickup_point(session, other.pickup_point_id)
    raise errors.WrongPickupPoint(
        "不是本提货点的订单",
        pickup_point={"id": point.id, "name": point.name, "address": point.address},
    )


def _hand_over(session: Session, pickup: Pickup, user_id: int, how: rules.HandOver) -> Verified:
    frm = pickup.status
    now = clock.now()
    moved = _rowcount(
        session.execute(
            update(table(Pickup))
            .where(Pickup.id == pickup.id, Pickup.status == frm)
            .values(
                status=PickupStatus.PICKED_UP,
                picked_up_at=now,
                verified_by=user_id,
                verified_how=str(how),
            )
        )
    )
    session.refresh(pickup)
    if not moved:  # a concurrent verification won
        if pickup.status == PickupStatus.PICKED_UP:
            _raise_used(session, pickup)
        raise errors.PickupCodeRefunded(order_id=pickup.order_id)
    order = orders.get(session, pickup.order_id)
    session.refresh(order)
    if frm == PickupStatus.WAITING and not orders.complete(session, order, how="pickup"):
        session.refresh(order)
        if order.status != OrderStatus.COMPLETED:  # refunded meanwhile (an operator's decision)
            raise errors.PickupCodeRefunded(order_id=order.id, order_status=order.status)
    seq, name, items = _who(session, order, pickup)
    outbox.emit(
        session,
        "pickup.completed",
        {
            "user_ids": [order.user_id],
            "order_id": order.id,
            "wave_id": pickup.wave_id,
            "picked_up_at": clock.iso(now),
        },
    )
    return Verified(pickup, order, seq, name, items)


# ---------------------------------------------------------------- scanning and lookup


def decode_qr(data: bytes) -> list[str]:
    """The texts of the QR codes in a picture (JPEG, PNG or WebP), decoded by zxing-cpp.

    Refuses what is not such a picture, or larger than :data:`rules.SCAN_MAX_BYTES` or
    :data:`rules.SCAN_MAX_PIXELS` (checked before the pixels are decoded)."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    if not data or len(data) > rules.SCAN_MAX_BYTES:
        raise errors.PickupScanInvalid(field="image")
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG", "PNG", "WEBP")) as picture:
            if picture.width * picture.height > rules.SCAN_MAX_PIXELS:
                raise errors.PickupScanInvalid(field="image")
            grey = picture.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise errors.PickupScanInvalid(field="image") from exc
    found = zxingcpp.read_barcodes(
        grey, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [b.text for b in found if b.valid and b.text]


def verify_scan(
    session: Session,
    *,
    user_id: int,
    pickup_point_id: int,
    image: bytes,
    wave_id: int | None = None,
) -> tuple[str, Verified]:
    """A picture of a member's QR: decoded on the server (a browser without a barcode
    detector sends a camera frame), then verified exactly as a typed code. Returns the code
    read and the verification; a picture with no QR is ``pickup_scan_unreadable``."""
    leader = communities.get_leader_by_user(session, user_id)
    communities.require_own_pickup_point(session, leader.id, pickup_point_id)
    texts = decode_qr(image)
    if not texts:
        raise errors.PickupScanUnreadable(field="image")
    # A pickup code's QR holds the code alone; a picture with several QRs prefers a code.
    codes = [t for t in texts if rules.is_code(rules.normalise_code(t))]
    code = rules.normalise_code((codes or texts)[0])[:20]
    try:
        verified = verify(
            session,
            user_id=user_id,
            pickup_point_id=pickup_point_id,
            code=code,
            wave_id=wave_id,
            how=rules.HandOver.SCAN,
        )
    except errors.PickupCodeLength as exc:  # a QR, but not of a pickup code
        exc.extra["scanned"] = code
        raise
    return code, verified


def lookup(
    session: Session, *, user_id: int, pickup_point_id: int, phone_tail: str, name: str = ""
) -> list[dict[str, Any]]:
    """For a member who lost their code: this pickup point's orders waiting for pickup whose
    member's phone ends in ``phone_tail`` (4 digits) and whose name contains ``name``. Rows as
    the counter's list shows them (masked names); the leader hands over by choosing one."""
    leader = communities.get_leader_by_user(session, user_id)
    communities.require_own_pickup_point(session, leader.id, pickup_point_id)
    tail = rules.phone_tail(phone_tail)
    if tail is None:
        raise InvalidInput("Type the last 4 digits of the phone", field="phone_tail")
    if len(name) > rules.LOOKUP_NAME_MAX:
        raise InvalidInput("Type part of the name, at most 40 characters", field="name")
    listed = pickup_list(session, user_id=user_id, pickup_point_id=pickup_point_id)
    waiting = [r for r in listed["uncollected"] if r["phone_last4"] == tail]
    if not waiting:
        return []
    people = communities.people(
        session, [orders.get(session, r["order_id"]).user_id for r in waiting]
    )
    found = []
    for row in waiting:
        person = people[orders.get(session, row["order_id"]).user_id]
        if rules.name_matches(name, person.nickname):
            found.append(row)
    return found


def hand_over_found(
    session: Session, *, user_id: int, pickup_point_id: int, order_id: int
) -> Verified:
    """Hand over the order the leader chose after a lookup: through :func:`verify` with the
    order's own code, recorded as handed over by lookup. Only an order of this pickup point
    still waiting for pickup can be chosen (else 404 ``pickup_not_found``)."""
    leader = communities.get_leader_by_user(session, user_id)
    communities.require_own_pickup_point(session, leader.id, pickup_point_id)
    pickup = pickup_of_order(session, order_id)
    if pickup is None or pickup.pickup_point_id != pickup_point_id:
        raise errors.PickupNotFound()
    return verify(
        session,
        user_id=user_id,
        pickup_point_id=pickup_point_id,
        code=pickup.code,
        wave_id=pickup.wave_id,
        how=rules.HandOver.LOOKUP,
    )


# ---------------------------------------------------------------- views


def pickup_of_order(session: Session, order_id: int) -> Pickup | None:
    return session.scalar(select(Pickup).where(Pickup.order_id == order_id))


def member_pickup(session: Session, *, user_id: int, order_id: int) -> dict[str, Any]:
    """A member's pickup code and where to collect (their own order only)."""
    order = orders.get_for_user(session, order_id, user_id)
    info = pools.info_of(session, order_id)
    wave = pools.get_wave(session, info.wave_id)
    point = communities.get_pickup_point(session, info.pickup_point_id)
    pickup = pickup_of_order(session, order_id)
    if pickup is not None:
        status = pickup.status
    elif order.status in orders.CLOSED:
        status = order.status
    else:
        status = "not_arrived"
    return {
        "order_id": order.id,
        "order_status": order.status,
        "wave_id": wave.id,
        "seq": info.seq,
        "delivery_date": wave.delivery_date.isoformat(),
        "status": status,
        "code": pickup.code if pickup is not None else None,
        "arrived_at": clock.iso(pickup.arrived_at) if pickup else None,
        "collect_by": clock.iso(pickup.unpicked_at) if pickup else None,
        "unpicked_policy": wave.unpicked_policy,
        "picked_up_at": clock.iso(pickup.picked_up_at) if pickup else None,
        "items": _items(session, wave.id, pools.lines_of(session, order_id)),
        "pickup_point": {
            "id": point.id,
            "name": point.name,
            "address": point.address,
            "opening_hours": point.opening_hours,
            "latitude": point.latitude,
            "longitude": point.longitude,
            "map_url": rules.map_link(point.latitude, point.longitude, point.name),
        },
    }


def pickup_list(
    session: Session, *, user_id: int, pickup_point_id: int, wave_id: int | None = None
) -> dict[str, Any]:
    """The leader's list at the counter: who collected and who has not yet.

    For one wave, all its pickups here; without one, everything still waiting here plus
    what was collected or closed today. Masked names and the last four phone digits only.
    """
    leader = communities.get_leader_by_user(session, user_id)
    point = communities.require_own_pickup_point(session, leader.id, pickup_point_id)
    query = select(Pickup).where(Pickup.pickup_point_id == pickup_point_id)
    if wave_id is not None:
        query = query.where(Pickup.wave_id == wave_id)
    else:
        today = clock.local_midnight(clock.local_date(clock.now()))
        query = query.where(
            (Pickup.status == PickupStatus.WAITING)
            | (Pickup.picked_up_at >= today)
            | (Pickup.closed_at >= today)
        )
    pickups = list(session.scalars(query.limit(5000)))
    by_order = {p.order_id: p for p in pickups}
    rows: list[dict[str, Any]] = []
    for wid in sorted({p.wave_id for p in pickups}):
        found = [
            r
            for r in pools.wave_orders(session, wid, pickup_point_id=pickup_point_id)
            if r[1].id in by_order
        ]
        people = communities.people(session, [order.user_id for _, order, _ in found])
        for info, order, lines in found:
            p = by_order[order.id]
            person = people[order.user_id]
            rows.append(
                {
                    "order_id": order.id,
                    "wave_id": wid,
                    "seq": info.seq,
                    "name": person.masked_name,
                    "phone_last4": rules.last_four(person.masked_phone),
                    "items": _items(session, wid, lines),
                    "remark": info.remark,
                    "status": p.status,
                    "arrived_at": clock.iso(p.arrived_at),
                    "picked_up_at": clock.iso(p.picked_up_at),
                    "verified_how": p.verified_how,
                }
            )
    collected = [r for r in rows if r["status"] == PickupStatus.PICKED_UP]
    uncollected = [r for r in rows if r["status"] == PickupStatus.WAITING]
    closed = [r for r in rows if r["status"] in (PickupStatus.REFUNDED, PickupStatus.KEPT)]
    return {
        "pickup_point": {"id": point.id, "name": point.name, "address": point.address},
        "wave_id": wave_id,
        "counts": {
            "collected": len(collected),
            "uncollected": len(uncollected),
            "closed": len(closed),
        },
        "uncollected": uncollected,
        "collected": collected,
        "closed": closed,
    }


def manifest(
    session: Session, *, wave_id: int, pickup_point_id: int, supplier_id: int | None
) -> dict[str, Any]:
    """The supplier's delivery manifest for one pickup point (``supplier_id`` None: operator)."""
    wave = pools.get_wave(session, wave_id)
    if supplier_id is not None and wave.supplier_id != supplier_id:
        raise errors.NotYourWave()
    _require_point_in_wave(session, wave_id, pickup_point_id)
    point = communities.get_pickup_point(session, pickup_point_id)
    found = _orders_at(session, wave_id, pickup_point_id, DELIVERABLE)
    people = communities.people(session, [order.user_id for _, order, _ in found])
    totals: dict[int, dict[str, Any]] = {}
    rows = []
    for info, order, lines in found:
        items = _items(session, wave_id, lines)
        for item in items:
            total = totals.setdefault(item["item_id"], {**item, "quantity": 0})
            total["quantity"] += item["quantity"]
        rows.append(
            {
                "seq": info.seq,
                "order_id": order.id,
                "name": people[order.user_id].masked_name,
                "items": items,
                "remark": info.remark,
            }
        )
    shipment = shipments_of(session, wave_id).get(pickup_point_id)
    return {
        "wave_id": wave.id,
        "title": wave.title,
        "delivery_date": wave.delivery_date.isoformat(),
        "pickup_point": {
            "id": point.id,
            "name": point.name,
            "address": point.address,
            "opening_hours": point.opening_hours,
        },
        "shipment": shipment_view(shipment, pickup_point_id),
        "totals": [totals[k] for k in sorted(totals)],
        "orders": rows,
    }


def shipment_view(shipment: Shipment | None, pickup_point_id: int) -> dict[str, Any]:
    return {
        "pickup_point_id": pickup_point_id,
        "shipped_at": clock.iso(shipment.shipped_at) if shipment else None,
        "received_at": clock.iso(shipment.received_at) if shipment else None,
        "refunded_at": clock.iso(shipment.refunded_at) if shipment else None,
    }


def shipments(session: Session, *, wave_id: int, supplier_id: int | None) -> list[dict[str, Any]]:
    """Where a wave's goods are, per pickup point."""
    wave = pools.get_wave(session, wave_id)
    if supplier_id is not None and wave.supplier_id != supplier_id:
        raise errors.NotYourWave()
    rows = shipments_of(session, wave_id)
    return [shipment_view(rows.get(pid), pid) for pid in points_of_wave(session, wave_id)]


# ---------------------------------------------------------------- unpicked and undelivered


def _lock_pickup(session: Session, pickup_id: int) -> Pickup | None:
    query = select(Pickup).where(Pickup.id == pickup_id).execution_options(populate_existing=True)
    if not is_sqlite():
        query = query.with_for_update()
    return session.scalar(query)


def close_unpicked(session: Session, pickup_id: int) -> bool:
    """Apply the wave's policy to a pickup left past its days: refund in full, or complete
    without pickup. Exactly once (compare-and-set from ``waiting``)."""
    pickup = _lock_pickup(session, pickup_id)
    if pickup is None or pickup.status != PickupStatus.WAITING or pickup.unpicked_at > clock.now():
        return False
    wave = pools.get_wave(session, pickup.wave_id)
    order = orders.get(session, pickup.order_id, lock=True)
    session.refresh(order)
    if order.status == OrderStatus.ARRIVED:
        outcome = rules.unpicked_outcome(wave.unpicked_policy)
    elif order.status == OrderStatus.REFUNDED:  # refunded meanwhile by an operator: the row follows
        outcome = PickupStatus.REFUNDED
    elif order.status == OrderStatus.COMPLETED:
        outcome = PickupStatus.KEPT
    else:
        log.warning("pickup %s: order %s is %s", pickup.id, order.id, order.status)
        return False
    moved = _rowcount(
        session.execute(
            update(table(Pickup))
            .where(Pickup.id == pickup.id, Pickup.status == PickupStatus.WAITING)
            .values(status=outcome, closed_at=clock.now())
        )
    )
    if not moved or order.status != OrderStatus.ARRIVED:
        return bool(moved)
    if outcome == PickupStatus.REFUNDED:
        orders.refund_in_full(session, order, reason="not_picked_up", note="超时未提货, 全额退款")
    else:
        orders.complete(session, order, how="unpicked_keep")
    return True


def due_unpicked(session: Session, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(Pickup.id)
            .where(Pickup.status == PickupStatus.WAITING, Pickup.unpicked_at <= clock.now())
            .order_by(Pickup.unpicked_at)
            .limit(limit)
        )
    )


def refund_undelivered(
    session: Session, *, wave_id: int, pickup_point_id: int, operator_id: int | None
) -> list[Order]:
    """Goods never received at a pickup point by the wave's delivery deadline: every order
    there still on its way is refunded in full from escrow. ``operator_id`` None: the worker.
    """
    wave = _settled_wave(session, wave_id)
    deadline = pools.delivery_deadline(wave)
    if clock.now() < deadline:
        raise errors.NotPastDeadline(deadline=clock.iso(deadline))
    _require_point_in_wave(session, wave_id, pickup_point_id)
    shipment = _lock_shipment(session, wave_id, pickup_point_id)
    if shipment.received_at is not None:
        raise errors.AlreadyReceived(received_at=clock.iso(shipment.received_at))
    if shipment.refunded_at is None:
        shipment.refunded_at = clock.now()
        shipment.refunded_by = operator_id
        session.flush()
    refunded: list[Order] = []
    for _info, order, _lines in _orders_at(session, wave_id, pickup_point_id, rules.IN_TRANSIT):
        locked = orders.get(session, order.id, lock=True)
        session.refresh(locked)
        if locked.status not in rules.IN_TRANSIT:
            continue
        orders.refund_in_full(
            session, locked, reason="not_delivered", note="商品未送达自提点, 全额退款"
        )
        refunded.append(locked)
    if operator_id is not None and not refunded:
        raise errors.UndeliveredRefunded(
            "nothing left to refund at this pickup point",
            refunded_at=clock.iso(shipment.refunded_at),
        )
    return refunded


def undelivered_due(session: Session) -> list[tuple[int, int]]:
    """(wave, pickup point) pairs whose goods are overdue and whose wave refunds them
    automatically, with orders still on their way."""
    wave_ids = orders.campaign_ids(session, kind="wave", statuses=rules.IN_TRANSIT)
    now = clock.now()
    due: list[tuple[int, int]] = []
    for wave_id in wave_ids:
        wave = pools.get_wave(session, wave_id)
        if (
            wave.status != pools.WaveStatus.SETTLED
            or not wave.auto_refund_undelivered
            or now < pools.delivery_deadline(wave)
        ):
            continue
        received = {
            pid for pid, s in shipments_of(session, wave_id).items() if s.received_at is not None
        }
        points = {
            info.pickup_point_id
            for info, order, _ in pools.wave_orders(session, wave_id)
            if order.status in rules.IN_TRANSIT
        }
        due.extend((wave_id, pid) for pid in sorted(points - received))
    return due


def require_operator_or_supplier(role: str, supplier_id: int | None) -> int | None:
    """The supplier id a caller is limited to (None for an operator)."""
    if role == "operator":
        return None
    if role == "supplier" and supplier_id is not None:
        return supplier_id
    raise Forbidden("this is for the wave's supplier and operators")


# ---------------------------------------------------------------- the leader's counter (reads)


@dataclass(frozen=True)
class ArrivalDue:
    """Goods the supplier sent to one of a leader's pickup points, not yet received there."""

    wave_id: int
    wave_title: str
    delivery_date: date
    pickup_point_id: int
    pickup_point: str
    shipped_at: datetime
    orders: int  # orders waiting for these goods
    tracking: dict[str, Any] | None = None  # delivery tracking (``tracking.view``)


def arrivals_to_confirm(session: Session, *, user_id: int) -> list[ArrivalDue]:
    """The shipments on their way to the caller's pickup points, for 确认收货 (oldest first)."""
    leader = communities.get_leader_by_user(session, user_id)
    points = {p.id: p for p in communities.pickup_points_of(session, leader.id)}
    if not points:
        return []
    found = list(
        session.scalars(
            select(Shipment)
            .where(
                Shipment.pickup_point_id.in_(list(points)),
                Shipment.shipped_at.is_not(None),
                Shipment.received_at.is_(None),
                Shipment.refunded_at.is_(None),
            )
            .order_by(Shipment.shipped_at, Shipment.id)
        )
    )
    due: list[ArrivalDue] = []
    steps = tracking.events_of(session, [s.id for s in found])
    for shipment in found:
        assert shipment.shipped_at is not None
        wave = pools.get_wave(session, shipment.wave_id)
        waiting = _orders_at(session, wave.id, shipment.pickup_point_id, rules.IN_TRANSIT)
        due.append(
            ArrivalDue(
                wave_id=wave.id,
                wave_title=wave.title,
                delivery_date=wave.delivery_date,
                pickup_point_id=shipment.pickup_point_id,
                pickup_point=points[shipment.pickup_point_id].name,
                shipped_at=shipment.shipped_at,
                orders=len(waiting),
                tracking=tracking.view(shipment, steps[shipment.id], raw=True),
            )
        )
    return due


# ---------------------------------------------------------------- delivery tracking (re-exported)

Carrier = tracking.Carrier
CarrierEvent = tracking.CarrierEvent
TrackingStatus = rules.TrackingStatus
register_carrier = tracking.register_carrier
unregister_carrier = tracking.unregister_carrier
carrier_for = tracking.carrier_for
wave_tracking = tracking.wave_tracking
order_tracking = tracking.order_tracking
shipments_of_waves = tracking.shipments_of_waves
set_tracking_number = tracking.set_tracking_number
move_tracking = tracking.move
due_polls = tracking.due_polls
apply_carrier_events = tracking.apply_carrier_events
