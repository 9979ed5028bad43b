"""Community pre-sale waves (社区团购 团期 / 接龙): publishing, adopting, ordering, settling.

Guarded writes as everywhere: an item's stock (``sold + held + q <= stock``), a member's
limit per item (an upsert guarded by the limit), the chain number per listing (a counter
row), and the wave's status (compare-and-set), so each wave settles exactly once. Settlement
runs in chunks: the first transaction fixes every item's outcome and moves the wave to
``settling``; each later one settles a chunk of orders (compare-and-set on each order), and
the last marks the wave ``settled``; a crash in between is finished by the next round.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock, locks, outbox
from tuangou.core.db import is_sqlite, read, run_in_transaction, table, upsert_insert
from tuangou.core.errors import Forbidden, InvalidInput
from tuangou.core.locks import Rank
from tuangou.orders import service as orders
from tuangou.orders.service import OrderStatus
from tuangou.payments import service as payments
from tuangou.pools import errors, rules
from tuangou.pools.models import (
    Wave,
    WaveItem,
    WaveListing,
    WaveOrderInfo,
    WaveOrderLine,
    WaveUsage,
)
from tuangou.pools.rules import ItemStatus, LineStatus, WaveStatus
from tuangou.pools.rules import WithdrawalStatus as WithdrawalStatus

if TYPE_CHECKING:
    from tuangou.orders.models import Order

SETTLE_CHUNK = 500


_insert = upsert_insert  # the dialect's INSERT, for ON CONFLICT


# ---------------------------------------------------------------- publishing


@dataclass
class ItemInput:
    sku_id: int
    price: int
    moq: int
    stock: int
    per_member_limit: int = 10
    tiers: list[tuple[int, int]] = field(default_factory=list)
    title: str = ""
    commission_bps: int | None = None


@dataclass
class WaveInput:
    title: str
    cutoff_at: datetime
    delivery_date: date
    items: list[ItemInput]
    description: str = ""
    commission_bps: int = rules.DEFAULT_COMMISSION_BPS
    unpicked_policy: str = "refund"
    unpicked_days: int = 3
    arrival_grace_days: int = 2
    auto_refund_undelivered: bool = True
    hold_minutes: int = 15


def _invalid(exc: rules.RuleViolation, index: int | None = None) -> errors.InvalidWave:
    where = exc.field if index is None else f"items[{index}].{exc.field}"
    return errors.InvalidWave(exc.message, field=where)


def _create_wave(session: Session, data: WaveInput, *, source: str, created_by: int) -> Wave:
    now = clock.now()
    if not data.title.strip():
        raise errors.InvalidWave("a wave needs a title", field="title")
    if data.cutoff_at <= now:
        raise errors.InvalidWave("the cut-off must be in the future", field="cutoff_at")
    if data.delivery_date < clock.local_date(data.cutoff_at):
        raise errors.InvalidWave("delivery cannot be before the cut-off", field="delivery_date")
    if not data.items:
        raise errors.InvalidWave("a wave needs at least one item", field="items")
    if data.unpicked_policy not in rules.UNPICKED_POLICIES:
        raise errors.InvalidWave("the policy must be refund or keep", field="unpicked_policy")
    if not 1 <= data.unpicked_days <= 30 or not 0 <= data.arrival_grace_days <= 14:
        raise errors.InvalidWave("unpicked days 1–30, arrival grace 0–14", field="unpicked_days")
    if not 1 <= data.hold_minutes <= 120:
        raise errors.InvalidWave("hold minutes must be 1 to 120", field="hold_minutes")
    try:
        rules.validate_commission(data.commission_bps)
    except rules.RuleViolation as exc:
        raise _invalid(exc) from exc
    supplier_ids = set()
    skus = []
    for i, item in enumerate(data.items):
        sku = catalog.get_sku(session, item.sku_id)
        product = catalog.get_product(session, sku.product_id)
        supplier_ids.add(product.supplier_id)
        try:
            rules.validate_item(
                price=item.price,
                tiers=rules.ordered_pairs(item.tiers),
                moq=item.moq,
                stock=item.stock,
                per_member_limit=item.per_member_limit,
            )
            if item.commission_bps is not None:
                rules.validate_commission(item.commission_bps)
        except rules.RuleViolation as exc:
            raise _invalid(exc, i) from exc
        skus.append((item, sku, product))
    if len(supplier_ids) != 1:
        raise errors.InvalidWave("all items of a wave come from one supplier", field="items")
    if len({item.sku_id for item in data.items}) != len(data.items):
        raise errors.InvalidWave("each SKU appears once in a wave", field="items")
    wave = Wave(
        supplier_id=supplier_ids.pop(),
        source=source,
        created_by=created_by,
        title=data.title.strip(),
        description=data.description,
        cutoff_at=data.cutoff_at,
        delivery_date=data.delivery_date,
        status=WaveStatus.OPEN,
        commission_bps=data.commission_bps,
        unpicked_policy=data.unpicked_policy,
        unpicked_days=data.unpicked_days,
        arrival_grace_days=data.arrival_grace_days,
        auto_refund_undelivered=data.auto_refund_undelivered,
        hold_minutes=data.hold_minutes,
        created_at=now,
    )
    session.add(wave)
    session.flush()
    for item, sku, product in skus:
        catalog.allocate(session, sku_id=sku.id, quantity=item.stock)
        session.add(
            WaveItem(
                wave_id=wave.id,
                sku_id=sku.id,
                title=item.title.strip() or f"{product.title} {sku.name}".strip(),
                price=item.price,
                tiers=[list(t) for t in rules.ordered_pairs(item.tiers)],
                moq=item.moq,
                stock=item.stock,
                sold=0,
                held=0,
                per_member_limit=item.per_member_limit,
                commission_bps=item.commission_bps,
                status=ItemStatus.OPEN,
            )
        )
    session.flush()
    return wave


def _listing(
    session: Session,
    wave: Wave,
    *,
    leader_user_id: int,
    community_id: int,
    pickup_point_id: int,
) -> WaveListing:
    leader = communities.require_publishing_leader(session, leader_user_id)
    community = communities.assert_can_manage(session, leader_user_id, community_id)
    if community.leader_id != leader.id:
        raise Forbidden("only the community's own leader publishes waves to it")
    communities.require_own_pickup_point(session, leader.id, pickup_point_id)
    exists = session.scalar(
        select(WaveListing.id).where(
            WaveListing.wave_id == wave.id, WaveListing.community_id == community_id
        )
    )
    if exists is not None:
        raise errors.AlreadyAdopted()
    listing = WaveListing(
        wave_id=wave.id,
        community_id=community_id,
        leader_id=leader.id,
        pickup_point_id=pickup_point_id,
        commission_bps=wave.commission_bps,
        next_seq=0,
        created_at=clock.now(),
    )
    session.add(listing)
    session.flush()
    return listing


def _require_credit(session: Session, user_id: int) -> None:
    """A paused leader (``leader_paused``) or one whose credit is below the threshold
    (``credit_below_threshold``) may not publish or adopt a wave."""
    from tuangou.communities import credit  # credit reads this module's queries

    leader = communities.require_publishing_leader(session, user_id)
    credit.require_good_standing(session, leader.id)


def publish_wave(
    session: Session,
    *,
    user_id: int,
    community_id: int,
    pickup_point_id: int,
    data: WaveInput,
) -> tuple[Wave, WaveListing]:
    """A leader publishes their own wave to one of their communities."""
    _require_credit(session, user_id)
    wave = _create_wave(session, data, source="leader", created_by=user_id)
    listing = _listing(
        session,
        wave,
        leader_user_id=user_id,
        community_id=community_id,
        pickup_point_id=pickup_point_id,
    )
    return wave, listing


def create_catalogue_wave(
    session: Session, *, user_id: int, supplier_id: int, data: WaveInput
) -> Wave:
    """A supplier offers a wave to leaders (帮卖), with the commission rate it pays them."""
    wave = _create_wave(session, data, source="catalogue", created_by=user_id)
    if wave.supplier_id != supplier_id:
        raise Forbidden("a supplier offers only its own products")
    return wave


def adopt_wave(
    session: Session, *, user_id: int, wave_id: int, community_id: int, pickup_point_id: int
) -> WaveListing:
    """A leader resells a supplier's catalogue wave in their community (帮卖)."""
    _require_credit(session, user_id)
    wave = get_wave(session, wave_id)
    if wave.source != "catalogue":
        raise errors.NotCatalogue()
    if wave.status != WaveStatus.OPEN or wave.cutoff_at <= clock.now():
        raise errors.WaveClosed()
    return _listing(
        session,
        wave,
        leader_user_id=user_id,
        community_id=community_id,
        pickup_point_id=pickup_point_id,
    )


def get_wave(session: Session, wave_id: int) -> Wave:
    wave = session.get(Wave, wave_id)
    if wave is None:
        raise errors.WaveNotFound()
    return wave


def get_listing(session: Session, listing_id: int) -> WaveListing:
    listing = session.get(WaveListing, listing_id)
    if listing is None:
        raise errors.ListingNotFound()
    return listing


def items_of(session: Session, wave_id: int) -> list[WaveItem]:
    return list(
        session.scalars(select(WaveItem).where(WaveItem.wave_id == wave_id).order_by(WaveItem.id))
    )


def listings_of_wave(session: Session, wave_id: int) -> list[WaveListing]:
    return list(
        session.scalars(
            select(WaveListing).where(WaveListing.wave_id == wave_id).order_by(WaveListing.id)
        )
    )


def listings_of_community(
    session: Session, community_id: int, *, open_only: bool = False
) -> list[tuple[WaveListing, Wave]]:
    query = (
        select(WaveListing, Wave)
        .join(Wave, Wave.id == WaveListing.wave_id)
        .where(WaveListing.community_id == community_id)
        .order_by(Wave.cutoff_at.desc())
    )
    if open_only:
        query = query.where(Wave.status == WaveStatus.OPEN, Wave.cutoff_at > clock.now())
    return [(listing, wave) for listing, wave in session.execute(query)]


def listings_of_leader(session: Session, leader_id: int) -> list[tuple[WaveListing, Wave]]:
    query = (
        select(WaveListing, Wave)
        .join(Wave, Wave.id == WaveListing.wave_id)
        .where(WaveListing.leader_id == leader_id)
        .order_by(Wave.cutoff_at.desc())
        .limit(200)
    )
    return [(listing, wave) for listing, wave in session.execute(query)]


def catalogue(session: Session) -> list[Wave]:
    """Catalogue waves still open, for leaders to adopt."""
    return list(
        session.scalars(
            select(Wave)
            .where(
                Wave.source == "catalogue",
                Wave.status == WaveStatus.OPEN,
                Wave.cutoff_at > clock.now(),
            )
            .order_by(Wave.cutoff_at)
        )
    )


def all_waves(session: Session, *, limit: int = 200) -> list[Wave]:
    return list(session.scalars(select(Wave).order_by(Wave.id.desc()).limit(limit)))


def waves_of_supplier(session: Session, supplier_id: int) -> list[Wave]:
    return list(
        session.scalars(
            select(Wave).where(Wave.supplier_id == supplier_id).order_by(Wave.id.desc()).limit(200)
        )
    )


# ---------------------------------------------------------------- ordering


@dataclass(frozen=True)
class Placed:
    order: Order
    info: WaveOrderInfo
    lines: list[WaveOrderLine]
    started: payments.Started


def _reserve(session: Session, item: WaveItem, user_id: int, quantity: int) -> None:
    """Count ``quantity`` against the member's limit for the item (a guarded upsert)."""
    if quantity > item.per_member_limit:
        raise errors.AboveLimit(f"at most {item.per_member_limit} of {item.title} per member")
    stmt = (
        _insert(session)(table(WaveUsage))
        .values(item_id=item.id, user_id=user_id, quantity=quantity)
        .on_conflict_do_update(
            index_elements=["item_id", "user_id"],
            set_={"quantity": WaveUsage.quantity + quantity},
            where=WaveUsage.quantity + quantity <= item.per_member_limit,
        )
    )
    locks.note(session, Rank.LIMIT, item.id)
    if not session.execute(stmt).rowcount:  # type: ignore[attr-defined]
        raise errors.AboveLimit(f"at most {item.per_member_limit} of {item.title} per member")


def _hold(session: Session, item: WaveItem, quantity: int) -> None:
    """Hold the item's units (a guarded update), or refuse: sold out."""
    locks.note(session, Rank.ITEM, item.id)
    taken = session.execute(
        update(table(WaveItem))
        .where(
            WaveItem.id == item.id,
            WaveItem.status == ItemStatus.OPEN,
            WaveItem.sold + WaveItem.held + quantity <= WaveItem.stock,
        )
        .values(held=WaveItem.held + quantity)
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        raise errors.SoldOut(f"{item.title} is sold out")


def place_order(
    session: Session,
    *,
    user_id: int,
    listing_id: int,
    quantities: dict[int, int],
    remark: str = "",
) -> Placed:
    """A member joins the chain: one order for several items of a wave, paid at once."""
    listing = get_listing(session, listing_id)
    wave = get_wave(session, listing.wave_id)
    now = clock.now()
    if wave.status != WaveStatus.OPEN or wave.cutoff_at <= now:
        raise errors.WaveClosed()
    if not communities.is_member(session, listing.community_id, user_id):
        raise errors.NotCommunityMember()
    remark = remark.strip()
    if len(remark) > 200:
        raise InvalidInput("the remark may have at most 200 characters", field="remark")
    wanted = {int(k): int(v) for k, v in quantities.items() if int(v) != 0}
    if not wanted:
        raise errors.BelowLimit()
    if any(q < 1 for q in wanted.values()):
        raise errors.BelowLimit("quantities must be positive")
    items = {i.id: i for i in items_of(session, wave.id)}
    unknown = set(wanted) - set(items)
    if unknown:
        raise InvalidInput(f"items {sorted(unknown)} are not in this wave", field="items")
    # The one lock order (core.locks): the member's limits, then the items' units, each in
    # ascending item id.
    for item_id in sorted(wanted):
        _reserve(session, items[item_id], user_id, wanted[item_id])
    for item_id in sorted(wanted):
        _hold(session, items[item_id], wanted[item_id])
    point = communities.get_pickup_point(session, listing.pickup_point_id)
    amount = sum(items[i].price * q for i, q in wanted.items())
    order = orders.create_order(
        session,
        user_id=user_id,
        supplier_id=wave.supplier_id,
        kind="wave",
        campaign_id=wave.id,
        sku_id=None,
        quantity=sum(wanted.values()),
        unit_price=0,
        amount=amount,
        address={"pickup_point": point.name, "line": point.address},
        hold_minutes=wave.hold_minutes,
        hold_until=wave.cutoff_at,
    )
    info = WaveOrderInfo(
        order_id=order.id,
        wave_id=wave.id,
        listing_id=listing.id,
        pickup_point_id=listing.pickup_point_id,
        seq=None,
        remark=remark,
    )
    session.add(info)
    lines = [
        WaveOrderLine(
            order_id=order.id,
            item_id=i,
            sku_id=items[i].sku_id,
            quantity=q,
            unit_price=items[i].price,
            status=LineStatus.OPEN,
        )
        for i, q in sorted(wanted.items())
    ]
    session.add_all(lines)
    session.flush()
    try:
        started = payments.start(session, order)
    except orders.errors.OrderNotPayable as exc:
        # The cut-off passed while the order was being made (its hold ends at the cut-off).
        raise errors.WaveClosed() from exc
    return Placed(order, info, lines, started)


def lines_of(session: Session, order_id: int) -> list[WaveOrderLine]:
    return list(
        session.scalars(
            select(WaveOrderLine)
            .where(WaveOrderLine.order_id == order_id)
            .order_by(WaveOrderLine.id)
        )
    )


def info_of(session: Session, order_id: int) -> WaveOrderInfo:
    info = session.get(WaveOrderInfo, order_id)
    if info is None:
        raise errors.ListingNotFound("this order is not a wave order")
    return info


def on_paid(session: Session, paid: list[orders.PaidOrder]) -> None:
    """Wave orders were paid: their units move from held to sold, and each order takes its
    number in the chain."""
    for order in paid:
        lines = lines_of(session, order.id)
        locks.note(session, Rank.ITEM, [line.item_id for line in lines])
        for line in lines:
            session.execute(
                update(table(WaveItem))
                .where(WaveItem.id == line.item_id)
                .values(held=WaveItem.held - line.quantity, sold=WaveItem.sold + line.quantity)
            )
        info = info_of(session, order.id)
        locks.note(session, Rank.COUNTER, info.listing_id)
        info.seq = session.execute(
            update(table(WaveListing))
            .where(WaveListing.id == info.listing_id)
            .values(next_seq=WaveListing.next_seq + 1)
            .returning(WaveListing.next_seq)
        ).scalar_one()
    session.flush()


def on_order_released(session: Session, order: Order) -> None:
    """An unpaid wave order was closed: the member's per-item limits, then the items' held
    units come back."""
    lines = lines_of(session, order.id)
    for line in lines:
        _release_usage(session, line.item_id, order.user_id, line.quantity)
    locks.note(session, Rank.ITEM, [line.item_id for line in lines])
    for line in lines:
        session.execute(
            update(table(WaveItem))
            .where(WaveItem.id == line.item_id)
            .values(held=WaveItem.held - line.quantity)
        )


def _release_usage(session: Session, item_id: int, user_id: int, quantity: int) -> None:
    locks.note(session, Rank.LIMIT, item_id)
    session.execute(
        update(table(WaveUsage))
        .where(WaveUsage.item_id == item_id, WaveUsage.user_id == user_id)
        .values(quantity=WaveUsage.quantity - quantity)
    )


def payees(session: Session, order: Order, amount: int) -> orders.Legs:
    """At pickup the escrow goes to the supplier, the leader's commission (frozen through
    the after-sale window), their upline's override, and the operator's fee."""
    from tuangou.pools import commission

    info = info_of(session, order.id)
    listing = get_listing(session, info.listing_id)
    return commission.accrue(session, order=order, listing=listing, amount=amount)


KIND = orders.KindHooks(
    on_paid=on_paid,
    on_released=on_order_released,
    payees=payees,
    campaign_limit=False,  # per-item limits: wave_usage
)


# ---------------------------------------------------------------- settlement at cut-off


def settle_wave(wave_id: int) -> str | None:
    """Settle a wave past its cut-off, exactly once, in chunks. Returns the final status."""

    def start(session: Session) -> bool:
        wave = get_wave(session, wave_id)
        if wave.status == WaveStatus.SETTLING:
            return True
        if wave.status != WaveStatus.OPEN or wave.cutoff_at > clock.now():
            return False
        moved = session.execute(
            update(table(Wave))
            .where(Wave.id == wave_id, Wave.status == WaveStatus.OPEN)
            .values(status=WaveStatus.SETTLING)
        ).rowcount  # type: ignore[attr-defined]
        if not moved:
            return False
        # Unpaid orders are released first, so the totals are final.
        o = orders.order_table().c
        unpaid = session.scalars(
            select(WaveOrderInfo.order_id)
            .join_from(WaveOrderInfo, orders.order_table(), o.id == WaveOrderInfo.order_id)
            .where(WaveOrderInfo.wave_id == wave_id, o.status == OrderStatus.PENDING_PAYMENT)
            .order_by(WaveOrderInfo.order_id)
        ).all()
        for order in orders.get_many(session, list(unpaid)) if unpaid else []:
            orders.release_unpaid(session, order, reason="wave_cutoff")
        for item in items_of(session, wave_id):
            session.refresh(item)
            outcome = rules.settle_item(
                price=item.price,
                tiers=rules.ordered_pairs(item.tiers),
                moq=item.moq,
                total=item.sold,
            )
            item.status = ItemStatus.CONFIRMED if outcome.confirmed else ItemStatus.CANCELLED
            item.final_unit_price = outcome.final_unit_price
        session.flush()
        return True

    if not run_in_transaction(start):
        return None
    while run_in_transaction(lambda s: _settle_chunk(s, wave_id)):
        pass

    def finish(session: Session) -> str | None:
        moved = session.execute(
            update(table(Wave))
            .where(Wave.id == wave_id, Wave.status == WaveStatus.SETTLING)
            .values(status=WaveStatus.SETTLED, settled_at=clock.now())
        ).rowcount  # type: ignore[attr-defined]
        if not moved:
            return None
        # The wave's books with its SKUs, once (with the move above): the units sold leave
        # each SKU's stock, and the rest of its allotment is free for the next wave.
        for item in items_of(session, wave_id):
            catalog.settle_allocation(
                session, sku_id=item.sku_id, allocated=item.stock, sold=item.sold
            )
        return "settled"

    return run_in_transaction(finish)


def _settle_chunk(session: Session, wave_id: int) -> int:
    """Settle up to SETTLE_CHUNK paid orders (claimed with SKIP LOCKED on PostgreSQL).

    Reads are batched (the chunk's orders and lines in two queries) and so are the writes
    that do not move money: the lines' outcomes (one UPDATE per item), the units of cancelled
    items going back (one UPDATE per item) and the members' limits (one executemany). The
    money (refunds, through the ledger) and each order's compare-and-set stay per order.
    """
    o = orders.order_table().c
    query = (
        select(WaveOrderInfo.order_id)
        .join_from(WaveOrderInfo, orders.order_table(), o.id == WaveOrderInfo.order_id)
        .where(WaveOrderInfo.wave_id == wave_id, o.status == OrderStatus.PAID)
        .order_by(WaveOrderInfo.order_id)
        .limit(SETTLE_CHUNK)
    )
    if not is_sqlite():
        query = query.with_for_update(skip_locked=True)
    order_ids = list(session.scalars(query))
    if not order_ids:
        return 0
    items = {i.id: i for i in items_of(session, wave_id)}
    wave = get_wave(session, wave_id)
    found = {x.id: x for x in orders.get_many(session, order_ids)}
    due = [found[i] for i in order_ids if found[i].status == OrderStatus.PAID]
    if not due:
        return len(order_ids)
    due_ids = [x.id for x in due]
    lines: dict[int, list[WaveOrderLine]] = defaultdict(list)
    for line in session.scalars(
        select(WaveOrderLine).where(WaveOrderLine.order_id.in_(due_ids)).order_by(WaveOrderLine.id)
    ):
        lines[line.order_id].append(line)
    # The lines take their item's outcome; the units of cancelled items go back.
    back: dict[int, int] = defaultdict(int)
    usage: dict[tuple[int, int], int] = defaultdict(int)
    for order in due:
        for line in lines[order.id]:
            if items[line.item_id].status != ItemStatus.CONFIRMED:
                back[line.item_id] += line.quantity
                usage[(line.item_id, order.user_id)] += line.quantity
    for item in items.values():
        confirmed = item.status == ItemStatus.CONFIRMED
        session.execute(
            update(table(WaveOrderLine))
            .where(
                WaveOrderLine.order_id.in_(due_ids),
                WaveOrderLine.item_id == item.id,
                WaveOrderLine.status == LineStatus.OPEN,
            )
            .values(
                status=LineStatus.CONFIRMED if confirmed else LineStatus.REFUNDED,
                final_unit_price=item.final_unit_price if confirmed else None,
            )
        )
    for item_id, quantity in sorted(back.items()):
        session.execute(
            update(table(WaveItem))
            .where(WaveItem.id == item_id)
            .values(sold=WaveItem.sold - quantity)
        )
    if usage:
        session.execute(
            update(table(WaveUsage))
            .where(
                WaveUsage.item_id == bindparam("b_item"),
                WaveUsage.user_id == bindparam("b_user"),
            )
            .values(quantity=WaveUsage.quantity - bindparam("b_quantity")),
            [
                {"b_item": item_id, "b_user": user_id, "b_quantity": quantity}
                for (item_id, user_id), quantity in sorted(usage.items())
            ],
        )
    for order in due:
        _settle_order(session, wave, items, order, lines[order.id])
    return len(order_ids)


def _settle_order(
    session: Session,
    wave: Wave,
    items: dict[int, WaveItem],
    order: Order,
    lines: list[WaveOrderLine],
) -> None:
    """The money of one order at cut-off (its lines were marked by the chunk)."""
    protection = 0
    cancelled = 0
    confirmed: list[tuple[str, int]] = []
    for line in lines:
        item = items[line.item_id]
        if item.status == ItemStatus.CONFIRMED:
            assert item.final_unit_price is not None
            protection += rules.protection_refund(
                line.unit_price, item.final_unit_price, line.quantity
            )
            confirmed.append((item.title, line.quantity))
        else:
            cancelled += line.unit_price * line.quantity
    if not confirmed:
        orders.refund_in_full(session, order, reason="moq_not_met", note="未达成团门槛, 全额退款")
        return
    if cancelled:
        orders.refund(session, order, amount=cancelled, reason="moq_not_met", note="部分商品未成团")
    if protection:
        orders.refund(
            session, order, amount=protection, reason="price_protection", note="阶梯价退差价"
        )
    orders.move(session, order.id, OrderStatus.PAID, OrderStatus.CONFIRMED, settled_at=clock.now())
    outbox.emit(
        session,
        "wave.confirmed",
        {
            "user_ids": [order.user_id],
            "order_id": order.id,
            "wave_id": wave.id,
            "delivery_date": wave.delivery_date.isoformat(),
            "items": confirmed,
            "refund": protection + cancelled,
        },
    )


def due_waves(session: Session, limit: int = 20) -> list[int]:
    return list(
        session.scalars(
            select(Wave.id)
            .where(
                (Wave.status == WaveStatus.SETTLING)
                | ((Wave.status == WaveStatus.OPEN) & (Wave.cutoff_at <= clock.now()))
            )
            .order_by(Wave.cutoff_at)
            .limit(limit)
        )
    )


def settle_due(limit: int = 20) -> int:
    done = 0
    for wave_id in read(lambda s: due_waves(s, limit)):
        done += settle_wave(wave_id) is not None
    return done


# ---------------------------------------------------------------- views


def progress(item: WaveItem) -> dict[str, Any]:
    tiers = rules.ordered_pairs(item.tiers)
    nxt = rules.next_tier(tiers, item.sold)
    return {
        "item_id": item.id,
        "title": item.title,
        "sku_id": item.sku_id,
        "price": item.price,
        "tiers": [{"quantity": q, "unit_price": p} for q, p in tiers],
        "current_unit_price": rules.unit_price_at(item.price, tiers, item.sold),
        "next_tier": {"quantity": nxt[0], "unit_price": nxt[1], "more_needed": nxt[0] - item.sold}
        if nxt
        else None,
        "moq": item.moq,
        "ordered": item.sold,
        "held": item.held,
        "reached_moq": item.sold >= item.moq,
        "available": item.stock - item.sold - item.held,
        "per_member_limit": item.per_member_limit,
        "status": item.status,
        "final_unit_price": item.final_unit_price,
    }


def chain(session: Session, listing_id: int, *, limit: int = 500) -> list[dict[str, Any]]:
    """The chain list (接龙) of one community: ``1. 李*姨 苹果×2 · 3分钟前``."""
    rows = session.execute(
        select(
            WaveOrderInfo.order_id,
            WaveOrderInfo.seq,
            orders.order_table().c.user_id,
            orders.order_table().c.paid_at,
            orders.order_table().c.status,
        )
        .join_from(
            WaveOrderInfo, orders.order_table(), orders.order_table().c.id == WaveOrderInfo.order_id
        )
        .where(WaveOrderInfo.listing_id == listing_id, WaveOrderInfo.seq.is_not(None))
        .order_by(WaveOrderInfo.seq)
        .limit(limit)
    ).all()
    names = accounts.masked_names(session, [r.user_id for r in rows])
    titles: dict[int, str] = {}
    lines_by_order: dict[int, list[WaveOrderLine]] = defaultdict(list)
    if rows:
        for line in session.scalars(
            select(WaveOrderLine).where(WaveOrderLine.order_id.in_([r.order_id for r in rows]))
        ):
            lines_by_order[line.order_id].append(line)
        item_ids = {line.item_id for ls in lines_by_order.values() for line in ls}
        titles = dict(
            session.execute(
                select(WaveItem.id, WaveItem.title).where(WaveItem.id.in_(item_ids))
            ).all()
        )
    return [
        {
            "seq": r.seq,
            "name": names.get(r.user_id, "*"),
            "items": [
                {"title": titles.get(line.item_id, ""), "quantity": line.quantity}
                for line in sorted(lines_by_order[r.order_id], key=lambda x: x.id)
            ],
            "paid_at": r.paid_at,
            "refunded": r.status == OrderStatus.REFUNDED,
        }
        for r in rows
    ]


def purchase_order(session: Session, wave_id: int) -> dict[str, Any]:
    """The supplier's purchase order: confirmed quantities per SKU, split per pickup point."""
    wave = get_wave(session, wave_id)
    items = items_of(session, wave_id)
    o = orders.order_table().c
    rows = session.execute(
        select(
            WaveOrderInfo.pickup_point_id,
            WaveOrderLine.item_id,
            func.sum(WaveOrderLine.quantity),
            func.count(func.distinct(WaveOrderLine.order_id)),
        )
        .join_from(WaveOrderLine, WaveOrderInfo, WaveOrderInfo.order_id == WaveOrderLine.order_id)
        .join(orders.order_table(), o.id == WaveOrderLine.order_id)
        .where(
            WaveOrderInfo.wave_id == wave_id,
            WaveOrderLine.status == LineStatus.CONFIRMED,
            o.status.in_(orders.CONFIRMED_OR_LATER),
        )
        .group_by(WaveOrderInfo.pickup_point_id, WaveOrderLine.item_id)
    ).all()
    per_point: dict[int, dict[int, int]] = defaultdict(dict)
    orders_per_point: dict[int, int] = defaultdict(int)
    totals: dict[int, int] = defaultdict(int)
    for point_id, item_id, qty, n in rows:
        per_point[point_id][item_id] = int(qty)
        totals[item_id] += int(qty)
        orders_per_point[point_id] = max(orders_per_point[point_id], int(n))
    points = {pid: communities.get_pickup_point(session, pid) for pid in per_point}
    return {
        "wave_id": wave.id,
        "title": wave.title,
        "supplier_id": wave.supplier_id,
        "status": wave.status,
        "cutoff_at": wave.cutoff_at,
        "delivery_date": wave.delivery_date.isoformat(),
        "items": [
            {
                "item_id": i.id,
                "sku_id": i.sku_id,
                "title": i.title,
                "status": i.status,
                "unit_price": i.final_unit_price,
                "quantity": totals.get(i.id, 0),
            }
            for i in items
        ],
        "pickup_points": [
            {
                "pickup_point_id": pid,
                "name": points[pid].name if pid in points else "",
                "address": points[pid].address if pid in points else "",
                "items": [
                    {"item_id": iid, "quantity": q} for iid, q in sorted(per_point[pid].items())
                ],
            }
            for pid in sorted(per_point)
        ],
    }


def wave_orders(
    session: Session,
    wave_id: int,
    *,
    pickup_point_id: int | None = None,
    listing_id: int | None = None,
) -> list[tuple[WaveOrderInfo, Order, list[WaveOrderLine]]]:
    """Orders of a wave that were paid (manifests and exports), in chain order."""
    o = orders.order_table().c
    query = (
        select(WaveOrderInfo.order_id)
        .join_from(WaveOrderInfo, orders.order_table(), o.id == WaveOrderInfo.order_id)
        .where(WaveOrderInfo.wave_id == wave_id, o.paid_at.is_not(None))
        .order_by(WaveOrderInfo.listing_id, WaveOrderInfo.seq)
    )
    if pickup_point_id is not None:
        query = query.where(WaveOrderInfo.pickup_point_id == pickup_point_id)
    if listing_id is not None:
        query = query.where(WaveOrderInfo.listing_id == listing_id)
    ids = list(session.scalars(query))
    if not ids:
        return []
    infos = {
        i.order_id: i
        for i in session.scalars(select(WaveOrderInfo).where(WaveOrderInfo.order_id.in_(ids)))
    }
    found = {x.id: x for x in orders.get_many(session, ids)}
    lines: dict[int, list[WaveOrderLine]] = defaultdict(list)
    for line in session.scalars(
        select(WaveOrderLine).where(WaveOrderLine.order_id.in_(ids)).order_by(WaveOrderLine.id)
    ):
        lines[line.order_id].append(line)
    return [(infos[i], found[i], lines[i]) for i in ids]


def delivery_deadline(wave: Wave) -> datetime:
    """After this instant, goods not received at a pickup point may be refunded: the end of
    the delivery day plus the grace days, in the deployment's time zone."""
    return clock.local_midnight(wave.delivery_date + timedelta(days=1 + wave.arrival_grace_days))


# ---------------------------------------------------------------- leader history (credit)


@dataclass(frozen=True)
class LeaderOrderStats:
    """A leader's wave orders confirmed at cut-off since a date, and how they ended."""

    orders: int  # confirmed at cut-off
    completed: int  # picked up
    unpicked: int  # closed as not picked up (by the wave's policy)


def leader_order_stats(session: Session, leader_id: int, *, since: datetime) -> LeaderOrderStats:
    o = orders.order_table().c
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((o.status == OrderStatus.COMPLETED, 1), else_=0)), 0),
            func.coalesce(func.sum(case((o.close_reason == "not_picked_up", 1), else_=0)), 0),
        )
        .select_from(WaveOrderInfo)
        .join(WaveListing, WaveListing.id == WaveOrderInfo.listing_id)
        .join(orders.order_table(), o.id == WaveOrderInfo.order_id)
        .where(WaveListing.leader_id == leader_id, o.settled_at >= since)
    ).one()
    return LeaderOrderStats(int(row[0]), int(row[1]), int(row[2]))


@dataclass(frozen=True)
class PickupShipment:
    """One wave's goods for one of a leader's pickup points, as its orders tell it."""

    wave_id: int
    pickup_point_id: int
    delivery_date: date
    due_at: datetime  # the end of the delivery date, in the deployment's time zone
    arrived: bool  # some order reached the pickup point (arrived, picked up, or unpicked)
    first_pickup_at: datetime | None  # the earliest pickup verified there
    undelivered: bool  # its orders were refunded because the goods never arrived


def pickup_shipments(session: Session, leader_id: int, *, since: datetime) -> list[PickupShipment]:
    o = orders.order_table().c
    reached = o.status.in_((OrderStatus.ARRIVED, OrderStatus.COMPLETED)) | (
        o.close_reason == "not_picked_up"
    )
    rows = session.execute(
        select(
            WaveOrderInfo.wave_id,
            WaveOrderInfo.pickup_point_id,
            Wave.delivery_date,
            func.max(case((reached, 1), else_=0)),
            func.min(o.completed_at),
            func.max(case((o.close_reason == "not_delivered", 1), else_=0)),
        )
        .select_from(WaveOrderInfo)
        .join(WaveListing, WaveListing.id == WaveOrderInfo.listing_id)
        .join(Wave, Wave.id == WaveOrderInfo.wave_id)
        .join(orders.order_table(), o.id == WaveOrderInfo.order_id)
        .where(WaveListing.leader_id == leader_id, o.settled_at >= since)
        .group_by(WaveOrderInfo.wave_id, WaveOrderInfo.pickup_point_id, Wave.delivery_date)
        .order_by(WaveOrderInfo.wave_id, WaveOrderInfo.pickup_point_id)
    ).all()
    return [
        PickupShipment(
            wave_id=wave_id,
            pickup_point_id=point_id,
            delivery_date=day,
            due_at=clock.local_midnight(day + timedelta(days=1)),
            arrived=bool(arrived),
            first_pickup_at=first,
            undelivered=bool(undelivered),
        )
        for wave_id, point_id, day, arrived, first, undelivered in rows
    ]


# ---------------------------------------------------------------- the leader console (reads)


@dataclass(frozen=True)
class SkuChoice:
    """A SKU a leader may put in a wave of their own, with its supplier."""

    sku_id: int
    title: str
    supplier: str
    price: int  # the SKU's single price, fen
    available: int  # stock not yet allocated to a campaign or wave


def sku_choices(session: Session) -> list[SkuChoice]:
    """Every SKU of every supplier, grouped by supplier, for the leader's publish form."""
    found: list[SkuChoice] = []
    for supplier in catalog.list_suppliers(session):
        for product in catalog.list_products(session, supplier_id=supplier.id):
            for sku in catalog.skus_of(session, product.id):
                found.append(
                    SkuChoice(
                        sku_id=sku.id,
                        title=f"{product.title} {sku.name}".strip(),
                        supplier=supplier.name,
                        price=sku.price,
                        available=sku.stock - sku.allocated,
                    )
                )
    return found


@dataclass(frozen=True)
class OrderLabel:
    """Where an order comes from, as its leader knows it: the wave and the 跟团号."""

    order_id: int
    wave_id: int
    wave_title: str
    listing_id: int
    seq: int | None


def order_labels(session: Session, order_ids: list[int]) -> dict[int, OrderLabel]:
    """The wave and chain number of each wave order (commission lines trace to them)."""
    if not order_ids:
        return {}
    rows = session.execute(
        select(WaveOrderInfo, Wave.title)
        .join(Wave, Wave.id == WaveOrderInfo.wave_id)
        .where(WaveOrderInfo.order_id.in_(set(order_ids)))
    ).all()
    return {
        info.order_id: OrderLabel(info.order_id, info.wave_id, title, info.listing_id, info.seq)
        for info, title in rows
    }
