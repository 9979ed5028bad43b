"""Reads for the API, the pages and the exports: an item's progress, a listing's chain, a
wave's purchase order and orders, and the leader console's choices.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock, paging
from tuangou.orders import service as orders
from tuangou.pools import errors, rules
from tuangou.pools.models import (
    Wave,
    WaveItem,
    WaveListing,
    WaveOrderInfo,
    WaveOrderLine,
)
from tuangou.pools.rules import LineStatus
from tuangou.pools.service.publishing import get_listing, get_wave, held_back, items_of

if TYPE_CHECKING:
    from tuangou.orders.models import Order


def may_see_listing(
    session: Session,
    listing: WaveListing,
    *,
    user_id: int | None,
    operator: bool = False,
    share: str | None = None,
) -> bool:
    """Who sees a community's wave: operators, its leader, the community's members, and
    invitees (anyone holding the listing's share link, whose token is compared in constant
    time). An early window (``held_back``) keeps it from all but its leader and operators
    until it ends."""
    if user_id is not None and operator:
        return True
    if share and hmac.compare_digest(share.encode(), listing.share_token.encode()):
        pass
    elif user_id is None:
        return False
    elif not communities.is_member(session, listing.community_id, user_id):
        return _leads(session, listing, user_id)
    return not held_back(session, listing.wave_id, user_id) or _leads(session, listing, user_id)


def _leads(session: Session, listing: WaveListing, user_id: int | None) -> bool:
    if user_id is None:
        return False
    return communities.get_leader(session, listing.leader_id).user_id == user_id


def visible_listing(
    session: Session,
    listing_id: int,
    *,
    user_id: int | None,
    operator: bool = False,
    share: str | None = None,
) -> WaveListing:
    """The listing if the caller may see it (``may_see_listing``); else the same 404 as for
    a listing that does not exist, so ids reveal nothing."""
    listing = get_listing(session, listing_id)
    if not may_see_listing(session, listing, user_id=user_id, operator=operator, share=share):
        raise errors.ListingNotFound()
    return listing


def open_waves_at(
    session: Session, pickup_point_ids: list[int], viewer_id: int | None, operator: bool
) -> dict[int, list[communities.NearbyWave]]:
    """The waves orderable now at these pickup points (open, before the cut-off, with an
    open item not sold out), per point, soonest cut-off first, for the nearby query: whom
    ``may_see_listing`` lets see one gets its id and title; anyone else only that it is
    open (not held back by an early window from them). Listings seen through a share link
    count as unseen here: nobody passes one to the nearby query."""
    if not pickup_point_ids:
        return {}
    now = clock.now()
    orderable = (
        select(WaveItem.id)
        .where(
            WaveItem.wave_id == Wave.id,
            WaveItem.status == rules.ItemStatus.OPEN,
            WaveItem.sold + WaveItem.held < WaveItem.stock,
        )
        .exists()
    )
    rows = session.execute(
        select(WaveListing, Wave)
        .join(Wave, Wave.id == WaveListing.wave_id)
        .where(
            WaveListing.pickup_point_id.in_(pickup_point_ids),
            Wave.status == rules.WaveStatus.OPEN,
            Wave.cutoff_at > now,
            orderable,
        )
        .order_by(Wave.cutoff_at, WaveListing.id)
    )
    found: dict[int, list[communities.NearbyWave]] = defaultdict(list)
    for listing, wave in rows:
        if may_see_listing(session, listing, user_id=viewer_id, operator=operator):
            seen = communities.NearbyWave(
                listing.community_id, listing.id, wave.title, wave.cutoff_at
            )
        elif held_back(session, wave.id, viewer_id):
            continue
        else:
            seen = communities.NearbyWave(listing.community_id, None, None, None)
        found[listing.pickup_point_id].append(seen)
    return dict(found)


@dataclass(frozen=True)
class ListingShare:
    """What a leader shares of a wave (分享团期): the link, and the 接龙 text with it."""

    listing_id: int
    share_path: str  # the wave's share link, which carries its token
    link: str  # the same link, absolute
    poster_path: str  # the wave's poster (PNG), with the same token
    text: str  # the copy-ready 接龙 text (``rules.chain_text``)


def share_of_listing(
    session: Session, *, user_id: int, listing_id: int, base_url: str, lang: str = "zh"
) -> ListingShare:
    """The 接龙 text and share link of a listing, for its leader only (a non-leader:
    ``not_a_leader``; another leader's listing: the 404 of a missing one). ``base_url`` is
    where members reach the server."""
    leader = communities.get_leader_by_user(session, user_id)
    listing = get_listing(session, listing_id)
    if listing.leader_id != leader.id:
        raise errors.ListingNotFound()
    wave = get_wave(session, listing.wave_id)
    community = communities.get_community(session, listing.community_id)
    point = communities.get_pickup_point(session, listing.pickup_point_id)
    items = []
    for item in items_of(session, wave.id):
        tiers = rules.ordered_pairs(item.tiers)
        items.append(
            rules.ShareItem(
                title=item.title,
                price=rules.unit_price_at(item.price, tiers, item.sold),
                best_tier=tiers[-1] if tiers else None,
            )
        )
    path = rules.share_path(listing.id, listing.share_token)
    link = base_url.rstrip("/") + path
    text = rules.chain_text(
        community=community.name,
        title=wave.title,
        cutoff=clock.to_local(wave.cutoff_at).replace(tzinfo=None),
        now=clock.to_local(clock.now()).replace(tzinfo=None),
        items=items,
        link=link,
        pickup=point.name,
        delivery=wave.delivery_date,
        lang=lang,
    )
    return ListingShare(
        listing_id=listing.id,
        share_path=path,
        link=link,
        poster_path=rules.poster_path(listing.id, listing.share_token),
        text=text,
    )


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


CHAIN_LATEST = 10  # the chain lines a wave's detail carries inline (the latest)
CHAIN_PAGE = 50  # a page of the chain list
CHAIN_MOST = 200  # the most one page may ask for


def _chain_lines(session: Session, rows: list[Any], viewer_id: int | None) -> list[dict[str, Any]]:
    """Chain lines of (order_id, seq) rows, in four statements whatever their number (the
    orders, the masked names, the order lines, the items' titles)."""
    if not rows:
        return []
    of = {o.id: o for o in orders.get_many(session, [r.order_id for r in rows])}
    names = accounts.masked_names(session, [of[r.order_id].user_id for r in rows])
    lines_by_order: dict[int, list[WaveOrderLine]] = defaultdict(list)
    for line in session.scalars(
        select(WaveOrderLine).where(WaveOrderLine.order_id.in_([r.order_id for r in rows]))
    ):
        lines_by_order[line.order_id].append(line)
    item_ids = {line.item_id for ls in lines_by_order.values() for line in ls}
    titles: dict[int, str] = dict(
        session.execute(select(WaveItem.id, WaveItem.title).where(WaveItem.id.in_(item_ids))).all()
    )
    return [
        {
            "seq": r.seq,
            "name": names.get(of[r.order_id].user_id, "*"),
            "items": [
                {"title": titles.get(line.item_id, ""), "quantity": line.quantity}
                for line in sorted(lines_by_order[r.order_id], key=lambda x: x.id)
            ],
            "paid_at": of[r.order_id].paid_at,
            "refunded": of[r.order_id].status == orders.OrderStatus.REFUNDED,
            "mine": viewer_id is not None and of[r.order_id].user_id == viewer_id,
            "order_id": r.order_id
            if viewer_id is not None and of[r.order_id].user_id == viewer_id
            else None,
        }
        for r in rows
    ]


def _chained(listing_id: int) -> Any:
    return select(WaveOrderInfo.order_id, WaveOrderInfo.seq).where(
        WaveOrderInfo.listing_id == listing_id, WaveOrderInfo.seq.is_not(None)
    )


def chain(
    session: Session, listing_id: int, *, viewer_id: int | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """The chain list (接龙) of one community: ``1. 李*姨 苹果×2 · 3分钟前``, its first
    ``limit`` lines. The viewer's own entries say so (``mine``, with their order's id:
    "你已跟团"). A long chain is read by :func:`chain_page`."""
    rows = session.execute(_chained(listing_id).order_by(WaveOrderInfo.seq).limit(limit)).all()
    return _chain_lines(session, list(rows), viewer_id)


@dataclass(frozen=True)
class ChainPage:
    """A page of a chain list, in chain order; ``next_cursor`` is None on the last page."""

    lines: list[dict[str, Any]]
    next_cursor: str | None


def chain_page(
    session: Session,
    listing_id: int,
    *,
    viewer_id: int | None = None,
    cursor: str | None = None,
    limit: int = CHAIN_PAGE,
) -> ChainPage:
    """The chain list from the start, or after a cursor, by keyset on the chain number (the
    index ``(listing_id, seq)`` serves it): a page costs the same at any depth."""
    limit = max(1, min(limit, CHAIN_MOST))
    query = _chained(listing_id)
    if cursor:
        (after,) = paging.decode(cursor, int)
        query = query.where(WaveOrderInfo.seq > after)
    rows = list(session.execute(query.order_by(WaveOrderInfo.seq).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = paging.encode(rows[-1].seq) if more and rows else None
    return ChainPage(_chain_lines(session, rows, viewer_id), nxt)


@dataclass(frozen=True)
class ChainSummary:
    """What a wave's detail says of its chain: how many orders, the latest few lines (in chain
    order), and the viewer's own lines ("你已跟团")."""

    count: int
    latest: list[dict[str, Any]]
    mine: list[dict[str, Any]]


def chain_summary(
    session: Session, listing_id: int, *, viewer_id: int | None = None, latest: int = CHAIN_LATEST
) -> ChainSummary:
    """The chain's count, its latest ``latest`` lines and the viewer's own lines: a constant
    number of statements, whatever the chain's length."""
    count = int(
        session.scalar(
            select(func.count())
            .select_from(WaveOrderInfo)
            .where(WaveOrderInfo.listing_id == listing_id, WaveOrderInfo.seq.is_not(None))
        )
        or 0
    )
    rows = list(
        session.execute(
            _chained(listing_id).order_by(WaveOrderInfo.seq.desc()).limit(max(0, latest))
        ).all()
    )
    rows.reverse()
    shown = len(rows)
    if viewer_id is not None:
        own = _chained(listing_id).where(
            WaveOrderInfo.order_id.in_(orders.ids_query(kind="wave", user_id=viewer_id))
        )
        seen = {r.order_id for r in rows}
        rows += [
            r for r in session.execute(own.order_by(WaveOrderInfo.seq)) if r.order_id not in seen
        ]
    lines = _chain_lines(session, rows, viewer_id)
    mine = sorted((line for line in lines if line["mine"]), key=lambda line: line["seq"])
    return ChainSummary(count, lines[:shown], mine)


def purchase_order(session: Session, wave_id: int) -> dict[str, Any]:
    """The supplier's purchase order: confirmed quantities per SKU, split per pickup point."""
    wave = get_wave(session, wave_id)
    items = items_of(session, wave_id)
    confirmed = orders.ids_query(
        kind="wave", campaign_id=wave_id, statuses=("confirmed", "shipped", "arrived", "completed")
    )
    rows = session.execute(
        select(
            WaveOrderInfo.pickup_point_id,
            WaveOrderLine.item_id,
            func.sum(WaveOrderLine.quantity),
            func.count(func.distinct(WaveOrderLine.order_id)),
        )
        .join_from(WaveOrderLine, WaveOrderInfo, WaveOrderInfo.order_id == WaveOrderLine.order_id)
        .where(
            WaveOrderInfo.wave_id == wave_id,
            WaveOrderLine.status == LineStatus.CONFIRMED,
            WaveOrderLine.order_id.in_(confirmed),
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
    paid = orders.ids_query(kind="wave", campaign_id=wave_id, paid=True)
    query = (
        select(WaveOrderInfo.order_id)
        .where(WaveOrderInfo.wave_id == wave_id, WaveOrderInfo.order_id.in_(paid))
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


def listing_orders_page(
    session: Session,
    listing_id: int,
    wave_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[tuple[WaveOrderInfo, Order, list[WaveOrderLine]]], str | None]:
    """One keyset page of a listing's paid orders in chain order (跟团号, the unique index
    ``uq_wave_orders_seq`` on (listing_id, seq)), and the cursor of the next page."""
    paid = orders.ids_query(kind="wave", campaign_id=wave_id, paid=True)
    query = select(WaveOrderInfo).where(
        WaveOrderInfo.listing_id == listing_id,
        WaveOrderInfo.seq.is_not(None),
        WaveOrderInfo.order_id.in_(paid),
    )
    infos, after = paging.page(session, query, [WaveOrderInfo.seq], cursor, limit, descending=False)
    ids = [i.order_id for i in infos]
    if not ids:
        return [], after
    found = {x.id: x for x in orders.get_many(session, ids)}
    lines: dict[int, list[WaveOrderLine]] = defaultdict(list)
    for line in session.scalars(
        select(WaveOrderLine).where(WaveOrderLine.order_id.in_(ids)).order_by(WaveOrderLine.id)
    ):
        lines[line.order_id].append(line)
    return [(i, found[i.order_id], lines[i.order_id]) for i in infos], after


def delivery_deadline(wave: Wave) -> datetime:
    """After this instant, goods not received at a pickup point may be refunded: the end of
    the delivery day plus the grace days, in the deployment's time zone."""
    return clock.local_midnight(wave.delivery_date + timedelta(days=1 + wave.arrival_grace_days))


# ---------------------------------------------------------------- the leader console (reads)


@dataclass(frozen=True)
class SkuChoice:
    """A SKU a leader may put in a wave of their own, with its supplier and the supplier's
    terms (which do not bind the leader's own goods: ``own``)."""

    sku_id: int
    title: str
    supplier: str
    price: int  # the SKU's single price, fen
    available: int  # stock not yet allocated to a campaign or wave
    floor_price: int  # the lowest unit price (base and tiers) a wave may ask, fen
    max_commission_bps: int  # the highest commission a wave may take on it
    own: bool = False  # the leader's own goods: the terms do not apply


def sku_choices(session: Session, leader_id: int | None = None) -> list[SkuChoice]:
    """Every SKU of every supplier, grouped by supplier, for the leader's publish form
    (``own`` marks the goods of ``leader_id``'s own supplier record)."""
    found: list[SkuChoice] = []
    for supplier in catalog.list_suppliers(session):
        for product in catalog.list_products(session, supplier_id=supplier.id):
            for sku in catalog.skus_of(session, product.id):
                found.append(
                    SkuChoice(
                        sku_id=sku.id,
                        title=catalog.goods_name(product.title, sku.name),
                        supplier=supplier.name,
                        price=sku.price,
                        available=sku.stock - sku.allocated,
                        floor_price=sku.floor_price,
                        max_commission_bps=sku.max_commission_bps,
                        own=leader_id is not None and supplier.leader_id == leader_id,
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


def ordered_units(session: Session, wave_id: int, user_ids: list[int]) -> dict[int, int]:
    """The units each of these members ordered in the wave and still has (paid, not
    refunded; lines refunded below their MOQ not counted)."""
    if not user_ids:
        return {}
    wanted = set(user_ids)
    paid = orders.get_many(session, orders.ids_query(kind="wave", campaign_id=wave_id, paid=True))
    owner = {o.id: o.user_id for o in paid if o.user_id in wanted and o.status != "refunded"}
    found: dict[int, int] = {}
    if not owner:
        return found
    for line in session.scalars(
        select(WaveOrderLine).where(
            WaveOrderLine.order_id.in_(list(owner)), WaveOrderLine.status != LineStatus.REFUNDED
        )
    ):
        uid = owner[line.order_id]
        found[uid] = found.get(uid, 0) + line.quantity
    return found


def communities_of_orders(session: Session, order_ids: list[int]) -> dict[int, int]:
    """The community each wave order was placed in (orders of other kinds are absent): the
    verifiable record files a wave order's money under its community's view."""
    if not order_ids:
        return {}
    rows = session.execute(
        select(WaveOrderInfo.order_id, WaveListing.community_id)
        .join(WaveListing, WaveListing.id == WaveOrderInfo.listing_id)
        .where(WaveOrderInfo.order_id.in_(order_ids))
    )
    return {int(o): int(c) for o, c in rows}
