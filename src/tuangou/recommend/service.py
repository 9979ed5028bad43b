"""Recommendations (猜你喜欢): training the versioned model, and a member's row.

* ``train``: reads every purchase (``interactions``), fits the collaborative-filtering model
  (``model``), and stores it as the next version (``recommend_models``), good or failed;
  keeps the last ``rules.KEEP_VERSIONS``. The worker runs it on a schedule (``tasks``),
  operators with ``tuangou recommend train``.
* ``recommend``: the member's candidates are only what they can order now (live team buys
  with units or a team to join, within their limits; open waves listed in their communities
  with an open item not sold out, within the item's limit, not held back by an early
  window), never a product of their own active order; ranked by the newest good model
  blended with social signals (``rules.blend``), or, for a member the model does not know,
  by their communities' popularity, then everyone's. The reply names the source.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import InvalidInput
from tuangou.orders import service as orders
from tuangou.pools import service as pools
from tuangou.recommend import interactions as seen
from tuangou.recommend import model as cf
from tuangou.recommend import rules
from tuangou.recommend.models import RecommendModel
from tuangou.recommend.rules import Algorithm, Context, Interaction, ModelStatus, Reason, Source
from tuangou.referral import service as referral
from tuangou.teams import service as teams

log = logging.getLogger(__name__)
PLACEHOLDER = "/static/demo/placeholder.svg"

__all__ = [
    "Algorithm",
    "Context",
    "ModelStatus",
    "Reason",
    "Recommendation",
    "Recommendations",
    "Source",
    "newest_good",
    "recommend",
    "train",
    "versions",
]


# ---------------------------------------------------------------- training


@dataclass(frozen=True)
class Trained:
    version: int
    status: str
    members: int
    items: int
    interactions: int
    error: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)


Trainer = Callable[[list[Interaction], Algorithm, int], cf.Factors]


def _fit(data: list[Interaction], algorithm: Algorithm, seed: int) -> cf.Factors:
    return cf.train(data, algorithm=algorithm, seed=seed)


def train(
    *,
    algorithm: Algorithm = rules.DEFAULT_ALGORITHM,
    seed: int = 0,
    extra: list[Interaction] | None = None,
    fit: Trainer = _fit,
) -> Trained:
    """Train the next version on every purchase (plus ``extra``, the demo's synthetic
    history), outside any transaction, and store it: good with its factors, or failed with
    the error (the previous good version stays served)."""
    data = read(lambda s: seen.all_interactions(s))
    if extra:
        data = sorted([*data, *extra], key=lambda i: (i.at, i.member, i.item))
    members = len({i.member for i in data})
    items = len({i.item for i in data})
    params = {**cf.DEFAULTS[algorithm], "seed": seed}
    started = time.monotonic()
    error = ""
    factors: bytes | None = None
    try:
        if members < rules.MIN_MEMBERS or items < rules.MIN_ITEMS:
            raise ValueError(f"too little data: {members} members, {items} products")
        factors = fit(data, algorithm, seed).to_bytes()
    except Exception as exc:  # a failed run is recorded; the old model stays served
        log.warning("recommendation training failed: %s", exc)
        error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
    metrics = {
        "train_seconds": round(time.monotonic() - started, 3),
        "density": round(len(data) / max(1, members * items), 6),
    }
    status = ModelStatus.GOOD if factors is not None else ModelStatus.FAILED

    def store(session: Session) -> int:
        version = int(session.scalar(select(func.max(RecommendModel.version))) or 0) + 1
        session.add(
            RecommendModel(
                version=version,
                status=status,
                algorithm=algorithm,
                params=params,
                members=members,
                items=items,
                interactions=len(data),
                metrics=metrics,
                factors=factors,
                error=error,
                trained_at=clock.now(),
            )
        )
        session.flush()
        _prune(session, version)
        return version

    version = run_in_transaction(store)
    return Trained(version, status, members, items, len(data), error, metrics)


def _prune(session: Session, newest: int) -> None:
    """Keep the last few versions, and always the newest good one."""
    good = session.scalar(
        select(func.max(RecommendModel.version)).where(RecommendModel.status == ModelStatus.GOOD)
    )
    floor = newest - rules.KEEP_VERSIONS
    query = delete(RecommendModel).where(RecommendModel.version <= floor)
    if good is not None:
        query = query.where(RecommendModel.version != good)
    session.execute(query)


def versions(session: Session) -> list[RecommendModel]:
    """The kept versions, newest first (without loading their factors' use)."""
    return list(session.scalars(select(RecommendModel).order_by(RecommendModel.version.desc())))


_cache: dict[tuple[str, int, str], cf.Factors] = {}
_cache_lock = threading.Lock()


def newest_good(session: Session) -> tuple[int, cf.Factors] | None:
    """The newest good model (version, factors), loaded once per process, database and
    version (the key holds when it was trained, so another database's version 1 is never
    taken for this one's)."""
    found = session.execute(
        select(RecommendModel.version, RecommendModel.trained_at)
        .where(RecommendModel.status == ModelStatus.GOOD)
        .order_by(RecommendModel.version.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    version = int(found[0])
    key = (str(session.get_bind().engine.url), version, found[1].isoformat())
    with _cache_lock:
        if key in _cache:
            return version, _cache[key]
    data = session.scalar(select(RecommendModel.factors).where(RecommendModel.version == version))
    if data is None:
        return None
    factors = cf.Factors.from_bytes(data)
    with _cache_lock:
        if len(_cache) >= 4:
            _cache.clear()  # only the newest of each database is served
        _cache[key] = factors
    return version, factors


def last_trained_at(session: Session) -> datetime | None:
    return session.scalar(select(func.max(RecommendModel.trained_at)))


# ---------------------------------------------------------------- candidates


@dataclass(frozen=True)
class Offer:
    """One orderable thing of a product: a team buy or a community's wave item."""

    product_id: int
    kind: str  # campaign | wave
    ref_id: int  # the campaign's id, or the wave listing's
    wave_id: int | None
    title: str
    price: int
    link: str
    community: str | None = None


def candidates(session: Session, user_id: int) -> dict[int, Offer]:
    """What the member can order now, one offer per product (the cheapest), without the
    products of their own active orders."""
    offers: list[Offer] = []
    live = teams.list_campaigns(session)
    joinable = teams.joinable_counts(session, [c.id for c in live])
    wave_rows: list[tuple[Any, Any, Any, str]] = []
    for community in communities.communities_of(session, user_id):
        for listing, wave in pools.listings_of_community(
            session, community.id, open_only=True, viewer_id=user_id
        ):
            for item in pools.items_of(session, wave.id):
                wave_rows.append((listing, wave, item, community.name))
    used_campaigns, used_items = seen.used_up(
        session, user_id, [c.id for c in live], [row[2].id for row in wave_rows]
    )
    veteran: bool | None = None
    sku_product: dict[int, int] = {}

    def product_of(sku_id: int) -> int:
        if sku_id not in sku_product:
            sku_product[sku_id] = catalog.get_sku(session, sku_id).product_id
        return sku_product[sku_id]

    for c in live:
        available = c.stock - c.sold - c.held - c.reserved
        if available <= 0 and not joinable.get(c.id):
            continue  # sold out
        if used_campaigns.get(c.id, 0) >= c.per_member_limit:
            continue
        if c.new_member_only:
            if veteran is None:
                veteran = orders.has_paid_order(session, user_id)
            if veteran:
                continue
        price = sorted((int(m), int(p)) for m, p in c.tiers)[0][1] if c.tiers else c.single_price
        offers.append(
            Offer(product_of(c.sku_id), "campaign", c.id, None, c.title, price, f"/c/{c.id}")
        )
    now = clock.now()
    for listing, wave, item, community_name in wave_rows:
        if wave.status != pools.WaveStatus.OPEN or wave.cutoff_at <= now:
            continue
        if item.status != pools.ItemStatus.OPEN or item.sold + item.held >= item.stock:
            continue
        if used_items.get(item.id, 0) >= item.per_member_limit:
            continue
        if not communities.is_member(session, listing.community_id, user_id):
            continue
        offers.append(
            Offer(
                product_of(item.sku_id),
                "wave",
                listing.id,
                wave.id,
                item.title,
                item.price,
                f"/w/{listing.id}",
                community_name,
            )
        )
    active = seen.products_of(session, user_id, statuses=seen.ACTIVE)
    best: dict[int, Offer] = {}
    for offer in offers:
        if offer.product_id in active:
            continue
        kept = best.get(offer.product_id)
        if kept is None or (offer.price, offer.kind, offer.ref_id) < (
            kept.price,
            kept.kind,
            kept.ref_id,
        ):
            best[offer.product_id] = offer
    return best


# ---------------------------------------------------------------- the row


@dataclass(frozen=True)
class Recommendation:
    offer: Offer
    product_title: str
    image: str
    score: float
    reason: Reason


@dataclass(frozen=True)
class Recommendations:
    context: Context
    source: Source
    model_version: int | None
    items: list[Recommendation]


def parse_context(raw: str) -> Context:
    try:
        return Context(raw)
    except ValueError as exc:
        raise InvalidInput("context is home or after_order", field="context") from exc


def recommend(
    session: Session,
    user_id: int,
    *,
    context: Context = Context.HOME,
    order_id: int | None = None,
    limit: int = rules.ROW_SIZE,
) -> Recommendations:
    """The member's row (see the module's docstring). ``after_order`` names one of the
    member's orders (another's is the order domain's 404) and leans towards products like
    the ones in it."""
    anchors: set[int] = set()
    if order_id is not None:
        orders.get_for_user(session, order_id, user_id)
        anchors = seen.products_of(
            session, user_id, statuses=[*seen.BOUGHT, *seen.ACTIVE], order_id=order_id
        )
    offers = candidates(session, user_id)
    for product in anchors:
        offers.pop(product, None)
    ids = list(offers)
    since = clock.now() - timedelta(days=rules.SOCIAL_DAYS)

    mine = [c.id for c in communities.communities_of(session, user_id)]
    community_counts, community_n = (
        seen.buyers_by_product(session, since=since, community_ids=mine, leave_out=user_id)
        if mine
        else ({}, 0)
    )
    popular_counts, popular_n = seen.buyers_by_product(session, since=since, leave_out=user_id)
    point = seen.pickup_point_of(session, user_id)
    neighbour_counts, neighbour_n = (
        seen.buyers_by_product(session, since=since, pickup_point_id=point, leave_out=user_id)
        if point is not None
        else ({}, 0)
    )
    inviter = referral.inviter_of(session, user_id)
    inviter_bought = (
        seen.products_of(session, inviter) if inviter is not None else set()
    )  # what they bought (any time: a friend's taste keeps)

    community = {k: v / community_n for k, v in community_counts.items()} if community_n else {}
    popular = {k: v / popular_n for k, v in popular_counts.items()} if popular_n else {}
    neighbours = {k: v / neighbour_n for k, v in neighbour_counts.items()} if neighbour_n else {}

    found = newest_good(session)
    version = found[0] if found else None
    model_scores: dict[int, float] = {}
    if found is not None and found[1].knows(user_id):
        source = Source.MODEL
        model_scores = rules.scale(found[1].scores(user_id, ids))
        if anchors:
            similar = rules.scale(found[1].similar(anchors, ids))
            model_scores = {
                i: 0.5 * model_scores.get(i, 0.0) + 0.5 * similar.get(i, 0.0)
                for i in set(model_scores) | set(similar)
            }
    elif any(community.get(i) for i in ids):
        source = Source.COMMUNITY_POPULARITY
    else:
        source = Source.POPULARITY

    ranked: list[tuple[float, int, Reason]] = []
    for product in ids:
        signals = rules.Signals(
            model=model_scores.get(product, 0.0),
            neighbours=neighbours.get(product, 0.0),
            inviter=1.0 if product in inviter_bought else 0.0,
            community=community.get(product, 0.0),
            popular=popular.get(product, 0.0),
        )
        score, reason = rules.blend(signals)
        ranked.append((score, product, reason))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    items = []
    for score, product, reason in ranked[:limit]:
        p = catalog.get_product(session, product)
        items.append(
            Recommendation(
                offers[product], p.title, p.image_url or PLACEHOLDER, round(score, 6), reason
            )
        )
    return Recommendations(context, source, version, items)
