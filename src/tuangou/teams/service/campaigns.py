"""Team-buy campaigns: creating one (its stock allocated from the SKU), pausing, and its end
(unsold stock back to the SKU, once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from tuangou.catalog import service as catalog
from tuangou.core import clock, locks, paging
from tuangou.core.db import get_or_404
from tuangou.core.locks import Rank
from tuangou.teams import errors, rules
from tuangou.teams.models import Team, TeamCampaign


@dataclass
class CampaignInput:
    sku_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    tiers: list[tuple[int, int]]
    stock: int
    min_size: int = 2
    max_size: int | None = None
    window_hours: int = 24
    per_member_limit: int = 5
    max_quantity_per_order: int = 1
    completion_enabled: bool = False
    completion_percent: int = 80
    subsidy_budget: int = 0
    opener_perk: str = "none"
    opener_price: int | None = None
    new_member_only: bool = False
    hold_minutes: int = 15
    ship_within_hours: int = 72
    allow_solo: bool = True


def create_campaign(session: Session, data: CampaignInput) -> TeamCampaign:
    sku = catalog.get_sku(session, data.sku_id)
    product = catalog.get_product(session, sku.product_id)
    max_size = data.max_size if data.max_size is not None else data.min_size
    tiers = rules.normalise_tiers(data.tiers)
    try:
        rules.validate_campaign(
            tiers=tiers,
            min_size=data.min_size,
            max_size=max_size,
            window_hours=data.window_hours,
            single_price=sku.price,
            opener_perk=data.opener_perk,
            opener_price=data.opener_price,
            completion_percent=data.completion_percent,
            per_member_limit=data.per_member_limit,
            max_quantity_per_order=data.max_quantity_per_order,
        )
    except rules.RuleViolation as exc:
        raise errors.InvalidCampaign(exc.message, field=exc.field) from exc
    if data.ends_at <= data.starts_at:
        raise errors.InvalidCampaign("the campaign must end after it starts", field="ends_at")
    if data.stock < 1:
        raise errors.InvalidCampaign("the campaign needs stock", field="stock")
    if data.subsidy_budget < 0:
        raise errors.InvalidCampaign(
            "the subsidy budget cannot be negative", field="subsidy_budget"
        )
    if not 1 <= data.hold_minutes <= 24 * 60:
        raise errors.InvalidCampaign("hold minutes must be 1 to 1440", field="hold_minutes")
    if data.ship_within_hours < 1:
        raise errors.InvalidCampaign(
            "ship-within must be at least 1 hour", field="ship_within_hours"
        )
    catalog.allocate(session, sku_id=sku.id, quantity=data.stock)
    campaign = TeamCampaign(
        sku_id=sku.id,
        supplier_id=product.supplier_id,
        title=data.title.strip() or product.title,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        min_size=data.min_size,
        max_size=max_size,
        window_hours=data.window_hours,
        tiers=[list(t) for t in tiers],
        single_price=sku.price,
        stock=data.stock,
        sold=0,
        held=0,
        per_member_limit=data.per_member_limit,
        max_quantity_per_order=data.max_quantity_per_order,
        completion_enabled=data.completion_enabled,
        completion_percent=data.completion_percent,
        subsidy_budget=data.subsidy_budget,
        subsidy_used=0,
        opener_perk=data.opener_perk,
        opener_price=data.opener_price if data.opener_perk == "price" else None,
        new_member_only=data.new_member_only,
        hold_minutes=data.hold_minutes,
        ship_within_hours=data.ship_within_hours,
        allow_solo=data.allow_solo,
        reserved=0,
        status=rules.CampaignStatus.ACTIVE,
        created_at=clock.now(),
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: int) -> TeamCampaign:
    return get_or_404(session, TeamCampaign, campaign_id, errors.CampaignNotFound)


def is_live(campaign: TeamCampaign, now: datetime | None = None) -> bool:
    """Open for new teams: active and within its time (an ended campaign is never active)."""
    now = now or clock.now()
    return (
        campaign.status == rules.CampaignStatus.ACTIVE
        and campaign.starts_at <= now < campaign.ends_at
    )


def list_campaigns(session: Session, *, live_only: bool = True) -> list[TeamCampaign]:
    query = select(TeamCampaign).order_by(TeamCampaign.id)
    if live_only:
        now = clock.now()
        query = query.where(
            TeamCampaign.status == rules.CampaignStatus.ACTIVE,
            TeamCampaign.starts_at <= now,
            TeamCampaign.ends_at > now,
        )
    return list(session.scalars(query))


def page_campaigns(
    session: Session, *, cursor: str | None = None, limit: int = 100
) -> tuple[list[TeamCampaign], str | None]:
    """Live campaigns by id, one keyset page (index ``ix_team_campaigns_status_id``)."""
    now = clock.now()
    query = select(TeamCampaign).where(
        TeamCampaign.status == rules.CampaignStatus.ACTIVE,
        TeamCampaign.starts_at <= now,
        TeamCampaign.ends_at > now,
    )
    return paging.page(session, query, [TeamCampaign.id], cursor, limit, descending=False)


def set_campaign_status(
    session: Session,
    campaign_id: int,
    status: str | None = None,
    *,
    allow_solo: bool | None = None,
) -> TeamCampaign:
    """Pause or resume a campaign, and/or turn 单独购买 on or off (None: unchanged)."""
    if status is not None and status not in (
        rules.CampaignStatus.ACTIVE,
        rules.CampaignStatus.PAUSED,
    ):
        raise errors.InvalidCampaign("status must be active or paused", field="status")
    campaign = get_campaign(session, campaign_id)
    values: dict[str, object] = {}
    if status is not None:
        values["status"] = status
    if allow_solo is not None:
        values["allow_solo"] = allow_solo
    if not values:
        raise errors.InvalidCampaign("nothing to change", field="status")
    moved = session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == campaign_id, TeamCampaign.status != rules.CampaignStatus.ENDED)
        .values(**values)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise errors.CampaignEnded()
    session.refresh(campaign)
    return campaign


def close_campaign(session: Session, campaign_id: int) -> int | None:
    """End a campaign whose time is over and that has nothing left in play: no unit held by
    an unpaid order and no team still pending, open or formed (whose failure would give units
    back). Its books with the SKU are then settled, once: the units sold leave the SKU's stock,
    the unsold go back to the SKU, and the campaign's stock becomes what it sold.

    Returns the units given back, or None if the campaign cannot end yet (or already ended).
    One guarded UPDATE decides, so two workers never settle a campaign twice."""
    now = clock.now()
    locks.note(session, Rank.STOCK, campaign_id)
    ended = session.execute(
        update(TeamCampaign)
        .where(TeamCampaign.id == campaign_id, *_can_end(now))
        .values(
            status=rules.CampaignStatus.ENDED,
            ended_at=now,
            returned=TeamCampaign.stock - TeamCampaign.sold,  # (SET reads the old row)
            stock=TeamCampaign.sold,
        )
        .returning(TeamCampaign.sku_id, TeamCampaign.sold, TeamCampaign.returned)
    ).first()
    if ended is None:
        return None
    sku_id, sold, returned = ended
    locks.note(session, Rank.SKU, sku_id)
    catalog.settle_allocation(session, sku_id=sku_id, allocated=sold + returned, sold=sold)
    return int(returned)


def _can_end(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A campaign past its end with nothing left in play (the worker's pick and the guard of
    the UPDATE that ends it: a campaign still waiting on a team costs no write)."""
    live_team = (
        select(Team.id)
        .where(Team.campaign_id == TeamCampaign.id, Team.status.in_(rules.UNSETTLED))
        .exists()
    )
    return (
        TeamCampaign.status != rules.CampaignStatus.ENDED,
        TeamCampaign.ends_at <= now,
        TeamCampaign.held == 0,
        TeamCampaign.reserved == 0,
        ~live_team,
    )


def tiers_of(campaign: TeamCampaign) -> list[rules.Tier]:
    return rules.normalise_tiers(campaign.tiers)


def endable(session: Session, limit: int) -> list[int]:
    """Campaigns that can end now (the worker's pick), the longest over first."""
    query = select(TeamCampaign.id).where(*_can_end(clock.now()))
    return list(session.scalars(query.order_by(TeamCampaign.ends_at).limit(limit)))
