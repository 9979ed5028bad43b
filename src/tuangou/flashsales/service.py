"""Flash sales (秒杀): time slots of a SKU at a deep price with small stock, bought through
the one order, payment and escrow path as the order kind ``flash`` (:data:`KIND`, registered
in the composition root).

Every write is guarded, in the one lock order (:mod:`tuangou.core.locks`): a purchase counts
the member's units in the slot (``flash_usage``, an upsert guarded by the per-member cap:
rank LIMIT), creates the order and its payment, and takes the slot's units last with one
statement, ``UPDATE flash_slots SET available = available - q, held = held + q WHERE id = :id
AND available >= q AND starts_at <= now AND ends_at > now`` (rank STOCK: the hottest row, held
only to the commit). A refusal raises, so the whole unit of work rolls back.

**A sold-out refusal costs no database work.** Each process remembers the slots it saw sold
out (:func:`refusal_from_memory`, through the one mechanism of :mod:`tuangou.core.soldout`
that team campaigns share), and the times of every slot it read (they never change), so
``sold_out``, ``not_started`` and ``over`` are answered from memory. Units come back only when
a hold is released (:func:`on_released`): the process that releases it forgets its mark at
once; every other process reads the slot's ``available`` again (one read, by one request) once
its mark is :data:`core.soldout.RECHECK_SECONDS` old, and forgets it if units are there.
"""

from __future__ import annotations

import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.core import clock, locks, soldout
from tuangou.core.db import (
    execute,
    expire_loaded,
    get_engine,
    get_or_404,
    insert_loaded,
    read,
    table,
    upsert_insert,
)
from tuangou.core.errors import DomainError, InvalidInput
from tuangou.core.locks import Rank
from tuangou.flashsales import errors, rules
from tuangou.flashsales.models import FlashSlot, FlashUsage
from tuangou.flashsales.rules import SlotState as SlotState
from tuangou.orders import service as orders
from tuangou.payments import service as payments

KIND_NAME = "flash"

_slots = table(FlashSlot)
_usage = table(FlashUsage)
_TAKE = (
    update(_slots)
    .where(
        _slots.c.id == bindparam("b_slot"),
        _slots.c.available >= bindparam("b_quantity"),
        _slots.c.starts_at <= bindparam("b_now"),
        _slots.c.ends_at > bindparam("b_now"),
    )
    .values(
        available=_slots.c.available - bindparam("b_quantity"),
        held=_slots.c.held + bindparam("b_quantity"),
    )
)
_SOLD = (
    update(_slots)
    .where(_slots.c.id == bindparam("b_slot"))
    .values(
        held=_slots.c.held - bindparam("b_quantity"),
        sold=_slots.c.sold + bindparam("b_quantity"),
    )
)
_GIVE_BACK = (
    update(_slots)
    .where(_slots.c.id == bindparam("b_slot"))
    .values(
        available=_slots.c.available + bindparam("b_quantity"),
        held=_slots.c.held - bindparam("b_quantity"),
    )
)
_AVAILABLE = select(_slots.c.available).where(_slots.c.id == bindparam("b_slot"))


# ---------------------------------------------------------------- the process's memory


class _Memory:
    """The slots' times this process read (they never change)."""

    def __init__(self) -> None:
        self.times: dict[int, tuple[datetime, datetime]] = {}


# One memory per engine, gone with it: two databases (tests) never share one.
_memories: weakref.WeakKeyDictionary[Engine, _Memory] = weakref.WeakKeyDictionary()


def _memory() -> _Memory:
    engine = get_engine()
    found = _memories.get(engine)
    if found is None:
        found = _memories.setdefault(engine, _Memory())
    return found


def _remember(slot: FlashSlot) -> None:
    _memory().times[slot.id] = (slot.starts_at, slot.ends_at)


def sold_out_key(slot_id: int) -> tuple[str, int]:
    return ("flash", slot_id)


def mark_sold_out(slot_id: int) -> None:
    soldout.mark(sold_out_key(slot_id))


def forget_sold_out(slot_id: int) -> None:
    soldout.forget(sold_out_key(slot_id))


def known_sold_out(slot_id: int) -> bool:
    """Whether this process holds the slot sold out (a mark not older than the recheck)."""
    return soldout.known(sold_out_key(slot_id))


def refusal_from_memory(slot_id: int) -> DomainError | None:
    """The refusal of a purchase of ``slot_id`` that this process can give without writing
    anything: ``not_started`` or ``over`` from the slot's times, ``sold_out`` from its mark
    (``core.soldout``: a stale mark is checked with one read of the slot's ``available``)."""
    times = _memory().times.get(slot_id)
    if times is not None:
        why = rules.timing_refusal(clock.now(), *times)
        if why == "not_started":
            return errors.NotStarted()
        if why == "over":
            return errors.Over()

    def recheck() -> bool | None:
        available = read(lambda s: s.execute(_AVAILABLE, {"b_slot": slot_id}).scalar())
        return None if available else True

    if soldout.refuse(sold_out_key(slot_id), recheck) is not None:
        return errors.SoldOut()
    return None


# ---------------------------------------------------------------- the operator's slots


@dataclass(frozen=True)
class SlotsInput:
    """Slots of one SKU on one day, at the given times of day in the deployment's zone."""

    sku_id: int
    title: str
    price: int
    stock: int
    per_order_cap: int
    per_member_cap: int
    day: date
    times: list[str]
    minutes: int = rules.DEFAULT_MINUTES
    hold_minutes: int = rules.DEFAULT_HOLD_MINUTES
    ship_within_hours: int = 72


def _check(data: SlotsInput, single_price: int) -> list[tuple[int, int]]:
    if not data.title.strip():
        raise InvalidInput("give the flash sale a title", field="title")
    if not 1 <= data.price < single_price:
        raise InvalidInput("a flash price must be below the SKU's own price", field="price")
    if not 1 <= data.stock <= rules.MAX_STOCK:
        raise InvalidInput("stock per slot is 1 to 100000", field="stock")
    if not 1 <= data.per_order_cap <= data.stock:
        raise InvalidInput("the per-order cap is 1 to the slot's stock", field="per_order_cap")
    if not data.per_order_cap <= data.per_member_cap <= data.stock:
        raise InvalidInput(
            "the per-member cap is the per-order cap to the slot's stock",
            field="per_member_cap",
        )
    if not 1 <= data.minutes <= rules.MAX_MINUTES:
        raise InvalidInput("a slot lasts 1 to 720 minutes", field="minutes")
    if not 1 <= data.hold_minutes <= rules.MAX_HOLD_MINUTES:
        raise InvalidInput("an unpaid hold lasts 1 to 30 minutes", field="hold_minutes")
    if not 1 <= data.ship_within_hours <= 24 * 30:
        raise InvalidInput("ship within 1 hour to 30 days", field="ship_within_hours")
    try:
        times = rules.parse_times(data.times)
    except ValueError as exc:
        raise InvalidInput(
            "give times of day as HH:MM, like 10:00, 14:00, each once", field="times"
        ) from exc
    if rules.overlapping(times, data.minutes):
        raise InvalidInput("the slots of a day must not overlap", field="times")
    return times


def create_slots(session: Session, data: SlotsInput) -> list[FlashSlot]:
    """The day's slots, each with its own stock allocated from the SKU (a guarded write:
    ``insufficient_stock`` when the SKU has not that much free)."""
    sku = catalog.get_sku(session, data.sku_id)
    times = _check(data, sku.price)
    now = clock.now()
    midnight = clock.local_midnight(data.day)
    made = []
    for hour, minute in times:
        starts = midnight + timedelta(hours=hour, minutes=minute)
        ends = starts + timedelta(minutes=data.minutes)
        if ends <= now:
            raise InvalidInput(
                "a slot would be over already: choose a later day or time", field="times"
            )
        catalog.allocate(session, sku_id=sku.id, quantity=data.stock)
        slot = FlashSlot(
            sku_id=sku.id,
            supplier_id=catalog.supplier_id_of(session, sku.id),
            title=" ".join(data.title.split())[:200],
            price=data.price,
            stock=data.stock,
            available=data.stock,
            held=0,
            sold=0,
            per_order_cap=data.per_order_cap,
            per_member_cap=data.per_member_cap,
            hold_minutes=data.hold_minutes,
            ship_within_hours=data.ship_within_hours,
            starts_at=starts,
            ends_at=ends,
            created_at=now,
        )
        made.append(insert_loaded(session, slot))
    return made


def get_slot(session: Session, slot_id: int) -> FlashSlot:
    slot = get_or_404(session, FlashSlot, slot_id, errors.SlotNotFound)
    _remember(slot)
    return slot


def slots_for_members(session: Session) -> list[FlashSlot]:
    """Today's slots (in the deployment's zone, the ones over included) and the next week's."""
    today = clock.local_midnight(clock.local_date(clock.now()))
    found = list(
        session.scalars(
            select(FlashSlot)
            .where(FlashSlot.ends_at > today, FlashSlot.starts_at < today + timedelta(days=8))
            .order_by(FlashSlot.starts_at, FlashSlot.id)
            .limit(100)
        )
    )
    for slot in found:
        _remember(slot)
    return found


def all_slots(session: Session, *, limit: int = 200) -> list[FlashSlot]:
    """Every slot, the latest first (the operator's list)."""
    return list(
        session.scalars(
            select(FlashSlot).order_by(FlashSlot.starts_at.desc(), FlashSlot.id).limit(limit)
        )
    )


def state_of(slot: FlashSlot) -> SlotState:
    return rules.state(clock.now(), slot.starts_at, slot.ends_at, slot.available)


def usage_of(session: Session, slot_id: int, user_id: int) -> int:
    """How many units of the slot the member holds or bought."""
    return int(
        session.scalar(
            select(FlashUsage.quantity).where(
                FlashUsage.slot_id == slot_id, FlashUsage.user_id == user_id
            )
        )
        or 0
    )


# ---------------------------------------------------------------- buying


@dataclass(frozen=True)
class Purchase:
    slot: FlashSlot
    order: Any  # orders' Order
    started: payments.Started


_reserve: dict[str, Any] = {}  # the cap's upsert, built once per dialect


def _reserve_statement(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    stmt = _reserve.get(dialect)
    if stmt is None:
        stmt = _reserve[dialect] = (
            upsert_insert(session)(_usage)
            .values(
                slot_id=bindparam("b_slot"),
                user_id=bindparam("b_user"),
                quantity=bindparam("b_quantity"),
            )
            .on_conflict_do_update(
                index_elements=["slot_id", "user_id"],
                set_={"quantity": _usage.c.quantity + bindparam("b_quantity")},
                where=_usage.c.quantity + bindparam("b_quantity") <= bindparam("b_cap"),
            )
        )
    return stmt


def _count_against_cap(session: Session, slot: FlashSlot, user_id: int, quantity: int) -> None:
    """The member's units in the slot, guarded by the cap in the same statement."""
    params = {
        "b_slot": slot.id,
        "b_user": user_id,
        "b_quantity": quantity,
        "b_cap": slot.per_member_cap,
    }
    locks.note(session, Rank.LIMIT, user_id)
    if execute(session, _reserve_statement(session), params).rowcount == 0:
        raise errors.LimitReached(f"at most {slot.per_member_cap} per member in this flash sale")


def _take_stock(session: Session, slot: FlashSlot, quantity: int) -> None:
    """The slot's units, last: one guarded statement, or a refusal (and the mark in memory
    when nothing is left)."""
    now = clock.now()
    locks.note(session, Rank.STOCK, slot.id)
    params = {"b_slot": slot.id, "b_quantity": quantity, "b_now": now}
    if execute(session, _TAKE, params).rowcount:
        return
    why = rules.timing_refusal(now, slot.starts_at, slot.ends_at)
    if why == "not_started":
        raise errors.NotStarted()
    if why == "over":
        raise errors.Over()
    available = int(session.execute(_AVAILABLE, {"b_slot": slot.id}).scalar() or 0)
    if available == 0:
        mark_sold_out(slot.id)
        raise errors.SoldOut()
    raise errors.SoldOut(f"only {available} left")


def buy(
    session: Session,
    *,
    user_id: int,
    slot_id: int,
    quantity: int = 1,
    address: dict[str, Any] | None = None,
    address_id: int | None = None,
    coupon_id: int | None = None,
) -> Purchase:
    """Buy in a slot: the member's count, the order (a hold of ``hold_minutes``), its payment,
    then the slot's units. The order ships to the member's address like a team buy's."""
    slot = get_slot(session, slot_id)
    why = rules.timing_refusal(clock.now(), slot.starts_at, slot.ends_at)
    if why == "not_started":
        raise errors.NotStarted()
    if why == "over":
        raise errors.Over()
    too_many = rules.quantity_refusal(quantity, slot.per_order_cap)
    if too_many is not None:
        if quantity < 1:
            raise InvalidInput(too_many, field="quantity")
        raise errors.LimitReached(too_many, field="quantity")
    if known_sold_out(slot.id):
        raise errors.SoldOut()
    shipping = accounts.shipping_address(session, user_id, address, address_id=address_id)
    _count_against_cap(session, slot, user_id, quantity)
    order = orders.create_order(
        session,
        user_id=user_id,
        supplier_id=slot.supplier_id,
        kind=KIND_NAME,
        campaign_id=slot.id,
        sku_id=slot.sku_id,
        quantity=quantity,
        unit_price=slot.price,
        address=shipping,
        hold_minutes=slot.hold_minutes,
        coupon_id=coupon_id,
    )
    started = payments.start(session, order)
    _take_stock(session, slot, quantity)
    return Purchase(slot, order, started)


# ---------------------------------------------------------------- the kind of order


def on_paid(session: Session, paid: list[orders.PaidOrder]) -> None:
    """Flash orders were paid: each is sold at once (confirmed, to be shipped by its
    supplier), then each slot's units move from held to sold, once per slot."""
    per_slot: Counter[int] = Counter()
    for order in paid:
        per_slot[order.campaign_id] += order.quantity
    ship = {
        slot_id: int(hours)
        for slot_id, hours in session.execute(
            select(FlashSlot.id, FlashSlot.ship_within_hours).where(FlashSlot.id.in_(per_slot))
        )
    }
    for row in orders.get_many(session, [o.id for o in paid]):
        orders.confirm(
            session,
            row,
            final_unit_price=row.unit_price,
            ship_within_hours=ship[row.campaign_id],
        )
    for slot_id in sorted(per_slot):
        locks.note(session, Rank.STOCK, slot_id)
        execute(session, _SOLD, {"b_slot": slot_id, "b_quantity": per_slot[slot_id]})
    expire_loaded(session, FlashSlot)


def on_released(session: Session, order: Any) -> None:
    """An unpaid flash order was closed (its hold ran out, or the member cancelled): the
    member's count, then the slot's units come back, and this process stops answering
    "sold out" for the slot (the others re-read it within a second)."""
    locks.note(session, Rank.LIMIT, order.user_id)
    session.execute(
        update(FlashUsage)
        .where(FlashUsage.slot_id == order.campaign_id, FlashUsage.user_id == order.user_id)
        .values(quantity=FlashUsage.quantity - order.quantity)
    )
    locks.note(session, Rank.STOCK, order.campaign_id)
    execute(session, _GIVE_BACK, {"b_slot": order.campaign_id, "b_quantity": order.quantity})
    expire_loaded(session, FlashSlot)
    forget_sold_out(order.campaign_id)


KIND = orders.KindHooks(
    on_paid=on_paid,
    on_released=on_released,
    campaign_limit=False,  # the per-member cap is the slot's own (flash_usage)
    shipped=True,
)


# ---------------------------------------------------------------- the end of a slot


def due_settlement(session: Session, limit: int = 100) -> list[int]:
    """Slots over, with no unit held by an unpaid order, whose allocation is not settled."""
    return list(
        session.scalars(
            select(FlashSlot.id)
            .where(
                FlashSlot.settled_at.is_(None),
                FlashSlot.ends_at <= clock.now(),
                FlashSlot.held == 0,
            )
            .order_by(FlashSlot.id)
            .limit(limit)
        )
    )


def settle(session: Session, slot_id: int) -> bool:
    """A slot over with nothing held gives its allocation back to the SKU: the units sold
    leave the SKU's stock, the rest are free again. Once (compare-and-set)."""
    now = clock.now()
    locks.note(session, Rank.STOCK, slot_id)
    row = session.execute(
        update(_slots)
        .where(
            _slots.c.id == slot_id,
            _slots.c.settled_at.is_(None),
            _slots.c.held == 0,
            _slots.c.ends_at <= now,
        )
        .values(settled_at=now)
        .returning(_slots.c.sku_id, _slots.c.stock, _slots.c.sold)
    ).first()
    if row is None:
        return False
    sku_id, stock, sold = row
    locks.note(session, Rank.SKU, sku_id)
    catalog.settle_allocation(session, sku_id=sku_id, allocated=stock, sold=sold)
    expire_loaded(session, FlashSlot)
    return True
