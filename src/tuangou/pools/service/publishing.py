"""Publishing a wave: a leader's own, a supplier's catalogue wave, a leader adopting one
(帮卖); and the reads of waves, items and listings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import get_or_404
from tuangou.core.errors import Forbidden
from tuangou.pools import errors, rules
from tuangou.pools.models import (
    Wave,
    WaveItem,
    WaveListing,
)
from tuangou.pools.rules import ItemStatus, WaveStatus

if TYPE_CHECKING:
    pass


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


def _terms_of(
    i: int, item: ItemInput, tiers: list[rules.Tier], wave_commission: int
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """What a wave item asks of its SKU's terms: its prices (base and tiers) and the
    commissions the leader takes on it (the wave's, and the item's own rate if it has one),
    each with the field a refusal names."""
    prices = [(f"items[{i}].price", item.price)]
    prices += [(f"items[{i}].tiers", price) for _, price in tiers]
    commissions = [("commission_bps", wave_commission)]
    if item.commission_bps is not None:
        commissions.append((f"items[{i}].commission_bps", item.commission_bps))
    return prices, commissions


def _create_wave(
    session: Session,
    data: WaveInput,
    *,
    source: str,
    created_by: int,
    leader_id: int | None = None,
) -> Wave:
    """A wave and its items, their stock allocated from the SKUs. A leader's wave
    (``leader_id``) keeps the supplier's terms of each SKU (floor price, maximum
    commission), unless the goods are the leader's own; a supplier's catalogue wave is the
    supplier's own offer."""
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
    supplier_id = next(iter(supplier_ids))
    bound = leader_id is not None and not catalog.is_own_goods(
        session, supplier_id=supplier_id, leader_id=leader_id
    )
    asks = [
        _terms_of(i, item, rules.ordered_pairs(item.tiers), data.commission_bps) if bound else None
        for i, (item, _, _) in enumerate(skus)
    ]
    for (_, sku, _), ask in zip(skus, asks, strict=True):
        if ask is not None:
            catalog.check_terms(sku, prices=ask[0], commissions=ask[1])
    wave = Wave(
        supplier_id=supplier_id,
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
    for (item, sku, product), ask in zip(skus, asks, strict=True):
        within = None
        if ask is not None:
            within = (min(p for _, p in ask[0]), max(c for _, c in ask[1]))
        try:  # guarded by the terms again: a change since they were read is caught here
            catalog.allocate(session, sku_id=sku.id, quantity=item.stock, within_terms=within)
        except (catalog.PriceBelowFloor, catalog.CommissionAboveMax):
            assert ask is not None
            session.refresh(sku)  # the refusal names the field, against the terms of now
            catalog.check_terms(sku, prices=ask[0], commissions=ask[1])
            raise
        session.add(
            WaveItem(
                wave_id=wave.id,
                sku_id=sku.id,
                title=item.title.strip() or catalog.goods_name(product.title, sku.name),
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


LeaderCheck = Callable[[Session, int], object]
_leader_checks: dict[str, LeaderCheck] = {}


def register_leader_check(name: str, check: LeaderCheck) -> None:
    """Another domain's condition on a leader who publishes or adopts a wave: ``check``
    receives the leader's id and raises to refuse. The composition root registers the
    leader credit's threshold here (the credit reads this domain's history, so this domain
    does not import it)."""
    _leader_checks[name] = check


Opening = Callable[[Session, int], datetime | None]
EarlyAccess = Callable[[Session, int, int], timedelta]
_openings: dict[str, Opening] = {}
_early_access: dict[str, EarlyAccess] = {}


def register_opening(name: str, opening: Opening) -> None:
    """Another domain's opening of a wave: ``opening(session, wave_id)`` returns the instant
    a pre-sale wave opens to everyone, or None for a wave open from the start (co-creation:
    a proposal's wave opens when its voters' early window ends)."""
    _openings[name] = opening


def register_early_access(name: str, check: EarlyAccess) -> None:
    """Another domain's early access to a wave that has an opening: ``check(session,
    wave_id, user_id)`` returns how long before the opening the user may see and order it
    (co-creation: its voters, for the whole window; points: a level's early hours). When a
    user qualifies by several, the longest window wins. Its leader and operators always see
    it."""
    _early_access[name] = check


def opens_at(session: Session, wave_id: int) -> datetime | None:
    """When the wave opens to everyone (None: it always was)."""
    found = [when for fn in _openings.values() if (when := fn(session, wave_id)) is not None]
    return max(found) if found else None


def early_window(session: Session, wave_id: int, user_id: int | None) -> timedelta:
    """How long before the wave's opening this user may see and order it (the longest of
    the windows they qualify for)."""
    if user_id is None:
        return timedelta(0)
    return max(
        (check(session, wave_id, user_id) for check in _early_access.values()),
        default=timedelta(0),
    )


def open_to(session: Session, wave_id: int, user_id: int | None) -> datetime | None:
    """The instant from which the user may see and order the wave (None: no opening)."""
    opening = opens_at(session, wave_id)
    if opening is None:
        return None
    return opening - early_window(session, wave_id, user_id)


def held_back(session: Session, wave_id: int, user_id: int | None) -> bool:
    """Whether the wave has not yet opened to this user: before its opening, less its
    early window for them."""
    start = open_to(session, wave_id, user_id)
    return start is not None and clock.now() < start


def _require_standing(session: Session, user_id: int) -> None:
    """A paused leader (``leader_paused``) or one a registered check refuses (the leader
    credit's ``credit_below_threshold``) may not publish or adopt a wave."""
    leader = communities.require_publishing_leader(session, user_id)
    for check in _leader_checks.values():
        check(session, leader.id)


def publish_wave(
    session: Session,
    *,
    user_id: int,
    community_id: int,
    pickup_point_id: int,
    data: WaveInput,
) -> tuple[Wave, WaveListing]:
    """A leader publishes their own wave to one of their communities, within the terms of
    the supplier of its SKUs (``price_below_floor``, ``commission_above_max``) unless the
    goods are the leader's own."""
    _require_standing(session, user_id)
    leader = communities.require_publishing_leader(session, user_id)
    wave = _create_wave(session, data, source="leader", created_by=user_id, leader_id=leader.id)
    listing = _listing(
        session,
        wave,
        leader_user_id=user_id,
        community_id=community_id,
        pickup_point_id=pickup_point_id,
    )
    return wave, listing


def publish_supplier_wave(
    session: Session, *, user_id: int, supplier_id: int, community_id: int, data: WaveInput
) -> tuple[Wave, WaveListing]:
    """A supplier publishes a wave of its own SKUs straight into one community (a proposal
    it turns into a pre-sale wave): the community's leader is the wave's leader, members
    collect at the leader's first active pickup point, and the leader earns the wave's
    commission as on any wave. A paused leader's community takes no new wave."""
    community = communities.get_community(session, community_id)
    leader = communities.get_leader(session, community.leader_id)
    _require_standing(session, leader.user_id)
    points = communities.pickup_points_of(session, leader.id, active_only=True)
    if not points:
        raise errors.InvalidWave(
            "the community's leader has no open pickup point", field="pickup_point_id"
        )
    wave = _create_wave(session, data, source="supplier", created_by=user_id)
    if wave.supplier_id != supplier_id:
        raise Forbidden("a supplier offers only its own products")
    listing = WaveListing(
        wave_id=wave.id,
        community_id=community.id,
        leader_id=leader.id,
        pickup_point_id=points[0].id,
        commission_bps=wave.commission_bps,
        next_seq=0,
        created_at=clock.now(),
    )
    session.add(listing)
    session.flush()
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
    _require_standing(session, user_id)
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
    return get_or_404(session, Wave, wave_id, errors.WaveNotFound)


def get_listing(session: Session, listing_id: int) -> WaveListing:
    return get_or_404(session, WaveListing, listing_id, errors.ListingNotFound)


def new_share_link(session: Session, *, user_id: int, listing_id: int) -> WaveListing:
    """The listing's leader replaces its share link (a link that leaked): the old one then
    shows nothing, as a wrong token does; members see the wave as before. Another leader's
    listing is the 404 of a missing one; a non-leader ``not_a_leader``."""
    leader = communities.get_leader_by_user(session, user_id)
    listing = get_listing(session, listing_id)
    if listing.leader_id != leader.id:
        raise errors.ListingNotFound()
    listing.share_token = rules.new_share_token()
    session.flush()
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
    session: Session,
    community_id: int,
    *,
    open_only: bool = False,
    viewer_id: int | None = None,
) -> list[tuple[WaveListing, Wave]]:
    """The community's waves, newest cut-off first; with ``viewer_id``, without those an
    early window still holds back from that member (``held_back``)."""
    query = (
        select(WaveListing, Wave)
        .join(Wave, Wave.id == WaveListing.wave_id)
        .where(WaveListing.community_id == community_id)
        .order_by(Wave.cutoff_at.desc())
    )
    if open_only:
        query = query.where(Wave.status == WaveStatus.OPEN, Wave.cutoff_at > clock.now())
    found = [(listing, wave) for listing, wave in session.execute(query)]
    if viewer_id is not None and _openings:
        found = [(li, w) for li, w in found if not held_back(session, w.id, viewer_id)]
    return found


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
