"""Bargain campaigns: creating one (its stock allocated from the SKU, as a team campaign's
is), pausing it, and its end (unsold stock back to the SKU, once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from tuangou.bargains import errors, rules
from tuangou.bargains.models import Bargain, BargainCampaign
from tuangou.catalog import service as catalog
from tuangou.core import clock, locks
from tuangou.core.db import get_or_404
from tuangou.core.locks import Rank


@dataclass
class CampaignInput:
    sku_id: int
    ends_at: datetime
    start_price: int
    floor_price: int
    helpers_needed: int
    stock: int
    title: str = ""
    starts_at: datetime | None = None
    hours: int = rules.DEFAULT_HOURS
    buy_at_any_price: bool = True
    helps_per_member: int = 1
    starts_per_member: int = 1
    new_member_bonus: int = 0
    hold_minutes: int = 15
    ship_within_hours: int = 72


def create_campaign(session: Session, data: CampaignInput) -> BargainCampaign:
    sku = catalog.get_sku(session, data.sku_id)
    product = catalog.get_product(session, sku.product_id)
    try:
        rules.validate_campaign(
            start_price=data.start_price,
            floor_price=data.floor_price,
            helpers_needed=data.helpers_needed,
            hours=data.hours,
            helps_per_member=data.helps_per_member,
            starts_per_member=data.starts_per_member,
            new_member_bonus=data.new_member_bonus,
        )
    except rules.RuleViolation as exc:
        raise errors.InvalidCampaign(exc.message, field=exc.field) from exc
    starts_at = data.starts_at or clock.now()
    if data.ends_at <= starts_at:
        raise errors.InvalidCampaign("the campaign must end after it starts", field="ends_at")
    if data.stock < 1:
        raise errors.InvalidCampaign("the campaign needs stock", field="stock")
    if not 1 <= data.hold_minutes <= 24 * 60:
        raise errors.InvalidCampaign("hold minutes must be 1 to 1440", field="hold_minutes")
    if data.ship_within_hours < 1:
        raise errors.InvalidCampaign(
            "ship-within must be at least 1 hour", field="ship_within_hours"
        )
    catalog.allocate(session, sku_id=sku.id, quantity=data.stock)
    campaign = BargainCampaign(
        sku_id=sku.id,
        supplier_id=product.supplier_id,
        title=data.title.strip() or product.title,
        starts_at=starts_at,
        ends_at=data.ends_at,
        start_price=data.start_price,
        floor_price=data.floor_price,
        helpers_needed=data.helpers_needed,
        hours=data.hours,
        buy_at_any_price=data.buy_at_any_price,
        helps_per_member=data.helps_per_member,
        starts_per_member=data.starts_per_member,
        new_member_bonus=data.new_member_bonus,
        stock=data.stock,
        sold=0,
        held=0,
        hold_minutes=data.hold_minutes,
        ship_within_hours=data.ship_within_hours,
        status=rules.CampaignStatus.ACTIVE,
        created_at=clock.now(),
        returned=0,
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: int) -> BargainCampaign:
    return get_or_404(session, BargainCampaign, campaign_id, errors.CampaignNotFound)


def is_live(campaign: BargainCampaign, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return (
        campaign.status == rules.CampaignStatus.ACTIVE
        and campaign.starts_at <= now < campaign.ends_at
    )


def list_campaigns(session: Session, *, live_only: bool = True) -> list[BargainCampaign]:
    query = select(BargainCampaign).order_by(BargainCampaign.id)
    if live_only:
        now = clock.now()
        query = query.where(
            BargainCampaign.status == rules.CampaignStatus.ACTIVE,
            BargainCampaign.starts_at <= now,
            BargainCampaign.ends_at > now,
        )
    return list(session.scalars(query))


def set_campaign_status(session: Session, campaign_id: int, status: str) -> BargainCampaign:
    if status not in (rules.CampaignStatus.ACTIVE, rules.CampaignStatus.PAUSED):
        raise errors.InvalidCampaign("status must be active or paused", field="status")
    campaign = get_campaign(session, campaign_id)
    moved = session.execute(
        update(BargainCampaign)
        .where(
            BargainCampaign.id == campaign_id,
            BargainCampaign.status != rules.CampaignStatus.ENDED,
        )
        .values(status=status)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise errors.CampaignNotLive("this campaign has ended")
    session.refresh(campaign)
    return campaign


def _can_end(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Past its end, no unit held by an unpaid order, and no bargain still in play."""
    live = (
        select(Bargain.id)
        .where(Bargain.campaign_id == BargainCampaign.id, Bargain.status.in_(rules.LIVE))
        .exists()
    )
    return (
        BargainCampaign.status != rules.CampaignStatus.ENDED,
        BargainCampaign.ends_at <= now,
        BargainCampaign.held == 0,
        ~live,
    )


def endable(session: Session, limit: int) -> list[int]:
    query = select(BargainCampaign.id).where(*_can_end(clock.now()))
    return list(session.scalars(query.order_by(BargainCampaign.ends_at).limit(limit)))


def close_campaign(session: Session, campaign_id: int) -> int | None:
    """End a campaign that is over with nothing left in play, once (one guarded UPDATE): the
    units sold leave the SKU's stock, the unsold go back. Returns the units given back, or
    None if it cannot end yet (or already ended)."""
    now = clock.now()
    locks.note(session, Rank.STOCK, campaign_id)
    ended = session.execute(
        update(BargainCampaign)
        .where(BargainCampaign.id == campaign_id, *_can_end(now))
        .values(
            status=rules.CampaignStatus.ENDED,
            ended_at=now,
            returned=BargainCampaign.stock - BargainCampaign.sold,
            stock=BargainCampaign.sold,
        )
        .returning(BargainCampaign.sku_id, BargainCampaign.sold, BargainCampaign.returned)
    ).first()
    if ended is None:
        return None
    sku_id, sold, returned = ended
    locks.note(session, Rank.SKU, sku_id)
    catalog.settle_allocation(session, sku_id=sku_id, allocated=sold + returned, sold=sold)
    return int(returned)
