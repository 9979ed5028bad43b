"""What members bought, read from the tables the order domains wrote (by name, from the
shared metadata, as the analytics read model does): paid orders of the one-SKU kinds (team
buys, flash sales, bargains) and the lines of paid wave orders, each as a member × product
interaction at the instant it was paid. It writes nothing.

These are sums and scans over many rows that no use case of the order domains needs (the
training set, the popularity of a circle of buyers), so they are plain reads here rather
than services there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, false, func, select
from sqlalchemy.orm import Session

from tuangou.core.db import Base
from tuangou.orders import service as orders
from tuangou.recommend.rules import Interaction

ACTIVE = (
    orders.OrderStatus.PENDING_PAYMENT,
    orders.OrderStatus.PAID,
    orders.OrderStatus.CONFIRMED,
    orders.OrderStatus.SHIPPED,
    orders.OrderStatus.ARRIVED,
)
BOUGHT = (
    orders.OrderStatus.PAID,
    orders.OrderStatus.CONFIRMED,
    orders.OrderStatus.SHIPPED,
    orders.OrderStatus.ARRIVED,
    orders.OrderStatus.COMPLETED,
    orders.OrderStatus.REFUNDED,  # a refund (a team that failed) still says what was wanted
)


def _t(name: str) -> Table:
    return Base.metadata.tables[name]


def _sources(
    *,
    since: datetime | None = None,
    user_ids: Collection[int] | None = None,
    pickup_point_id: int | None = None,
    statuses: Collection[str] = BOUGHT,
    order_id: int | None = None,
    community_ids: Collection[int] | None = None,
) -> list[Select[Any]]:
    """Two selects of (user_id, product_id, at, order_id): one-SKU orders, wave order lines."""
    o, skus = _t("orders").c, _t("skus").c
    lines, waves = _t("wave_order_lines").c, _t("wave_orders").c
    at = func.coalesce(o.paid_at, o.created_at)
    where: list[ColumnElement[bool]] = [o.status.in_(list(statuses))]
    if since is not None:
        where.append(at >= since)
    if user_ids is not None:
        where.append(o.user_id.in_(list(user_ids)))
    if order_id is not None:
        where.append(o.id == order_id)
    if community_ids is not None:
        cm = _t("community_members").c
        where.append(
            o.user_id.in_(
                select(cm.user_id).where(cm.community_id.in_(list(community_ids))).distinct()
            )
        )
    single = (
        select(o.user_id, skus.product_id, at.label("at"), o.id)
        .select_from(_t("orders").join(_t("skus"), skus.id == o.sku_id))
        .where(o.sku_id.is_not(None), *where)
    )
    if pickup_point_id is not None:
        single = single.where(false())  # a one-SKU order is shipped, not picked up
    wave = (
        select(o.user_id, skus.product_id, at.label("at"), o.id)
        .select_from(
            _t("wave_order_lines")
            .join(_t("orders"), o.id == lines.order_id)
            .join(_t("skus"), skus.id == lines.sku_id)
            .join(_t("wave_orders"), waves.order_id == o.id)
        )
        .where(*where)
    )
    if pickup_point_id is not None:
        wave = wave.where(waves.pickup_point_id == pickup_point_id)
    return [single, wave]


def all_interactions(session: Session, *, since: datetime | None = None) -> list[Interaction]:
    """Every paid purchase (of a product, by a member), in time order."""
    found = [
        Interaction(int(u), int(p), at)
        for query in _sources(since=since)
        for u, p, at, _ in session.execute(query)
    ]
    found.sort(key=lambda i: (i.at, i.member, i.item))
    return found


def products_of(
    session: Session,
    user_id: int,
    *,
    statuses: Collection[str] = BOUGHT,
    order_id: int | None = None,
) -> set[int]:
    """The products of the member's orders in these statuses (or of one order)."""
    return {
        int(p)
        for query in _sources(user_ids=[user_id], statuses=statuses, order_id=order_id)
        for _, p, _, _ in session.execute(query)
    }


def buyers_by_product(
    session: Session,
    *,
    since: datetime,
    community_ids: Collection[int] | None = None,
    pickup_point_id: int | None = None,
    leave_out: int | None = None,
) -> tuple[dict[int, int], int]:
    """In a circle (the members of these communities, or those who collected at a pickup
    point, or everyone),
    how many distinct buyers bought each product since ``since``, and how many bought at
    all (a member who bought a product both ways counts twice: rare, and it only nudges)."""
    per: dict[int, int] = defaultdict(int)
    total = 0
    for query in _sources(
        since=since, community_ids=community_ids, pickup_point_id=pickup_point_id
    ):
        sub = query.subquery()
        cond = [] if leave_out is None else [sub.c.user_id != leave_out]
        for product, n in session.execute(
            select(sub.c.product_id, func.count(func.distinct(sub.c.user_id)))
            .where(*cond)
            .group_by(sub.c.product_id)
        ):
            per[int(product)] += int(n)
        total += int(
            session.scalar(select(func.count(func.distinct(sub.c.user_id))).where(*cond)) or 0
        )
    return dict(per), total


def pickup_point_of(session: Session, user_id: int) -> int | None:
    """Where the member last collected a wave order (their neighbours are there)."""
    o, waves = _t("orders").c, _t("wave_orders").c
    found = session.scalar(
        select(waves.pickup_point_id)
        .select_from(_t("wave_orders").join(_t("orders"), o.id == waves.order_id))
        .where(o.user_id == user_id, o.paid_at.is_not(None))
        .order_by(o.paid_at.desc(), o.id.desc())
        .limit(1)
    )
    return None if found is None else int(found)


def used_up(
    session: Session, user_id: int, campaign_ids: Collection[int], item_ids: Collection[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """The units the member has used of each campaign's and each wave item's limit."""
    cu, wu = _t("campaign_usage").c, _t("wave_usage").c
    campaigns: dict[int, int] = {}
    items: dict[int, int] = {}
    if campaign_ids:
        campaigns = {
            int(k): int(q)
            for k, q in session.execute(
                select(cu.campaign_id, cu.quantity).where(
                    and_(cu.user_id == user_id, cu.campaign_id.in_(list(campaign_ids)))
                )
            )
        }
    if item_ids:
        items = {
            int(k): int(q)
            for k, q in session.execute(
                select(wu.item_id, wu.quantity).where(
                    and_(wu.user_id == user_id, wu.item_id.in_(list(item_ids)))
                )
            )
        }
    return campaigns, items


def community_of_members(session: Session) -> dict[int, int]:
    """Each member's first community (the evaluation's community baseline)."""
    c = _t("community_members").c
    found: dict[int, int] = {}
    for user_id, community_id in session.execute(
        select(c.user_id, c.community_id).order_by(c.joined_at, c.id)
    ):
        found.setdefault(int(user_id), int(community_id))
    return found
