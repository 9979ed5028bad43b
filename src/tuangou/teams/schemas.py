from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from tuangou.accounts.schemas import Address
from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.orders.schemas import OrderOut
from tuangou.payments.schemas import PaymentOut
from tuangou.teams import rules
from tuangou.teams.models import Team, TeamCampaign


class CampaignIn(In):
    sku_id: int
    title: str = Field(default="", max_length=200)
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime
    tiers: list[tuple[int, int]] = Field(
        min_length=1,
        description="[[members, unit price in fen], ...]",
        examples=[[[2, 1990], [5, 1790], [10, 1590]]],
    )
    stock: int = Field(gt=0)
    min_size: int = Field(default=2, ge=2)
    max_size: int | None = None
    # 1 to 72: checked by the campaign rules, which refuse it as invalid_campaign with its field
    window_hours: int = Field(default=24, description="hours, 1 to 72")
    per_member_limit: int = Field(default=5, ge=1)
    max_quantity_per_order: int = Field(default=1, ge=1)
    completion_enabled: bool = False
    completion_percent: int = Field(default=80, ge=1, le=100)
    subsidy_budget: int = Field(default=0, ge=0)
    opener_perk: str = Field(default="none", pattern="^(none|price|free)$")
    opener_price: int | None = Field(default=None, gt=0)
    new_member_only: bool = False
    hold_minutes: int = Field(default=15, ge=1, le=1440)
    ship_within_hours: int = Field(default=72, ge=1)
    allow_solo: bool = Field(
        default=True,
        description="单独购买: members may also buy alone at the single price, without a team",
    )

    @model_validator(mode="after")
    def _utc(self) -> CampaignIn:
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is not None:
                setattr(self, name, clock.as_utc(value).replace(tzinfo=None))
        return self


class CampaignStatusIn(In):
    status: str | None = Field(default=None, pattern="^(active|paused)$")
    allow_solo: bool | None = Field(
        default=None, description="turn 单独购买 on or off (default: unchanged)"
    )


class SeatIn(In):
    coupon_id: int | None = Field(
        default=None,
        description="one of the caller's coupons (我的优惠券) to apply; refusals:"
        " coupon_not_applicable, coupon_expired, coupon_used, coupon_not_found",
    )
    quantity: int = Field(default=1, ge=1)
    address_id: int | None = Field(
        default=None,
        description="the entry of the caller's address book to ship to (another member's is "
        "404 address_not_found); default: the book's default entry; a member without any "
        "address is refused with 422 address_required",
    )
    address: Address | None = Field(
        default=None, description="an address given with the order instead of address_id"
    )


def ladder_view(tiers: list[rules.Tier], members: int) -> list[dict[str, Any]]:
    reached = rules.tier_index(tiers, members)
    return [
        {"members": m, "unit_price": p, "reached": i <= reached, "current": i == reached}
        for i, (m, p) in enumerate(tiers)
    ]


def campaign_view(
    c: TeamCampaign, *, product: dict[str, Any] | None = None, operator: bool = False
) -> dict[str, Any]:
    """A campaign as shoppers see it (``CampaignOut``); with ``operator``, also the platform's
    own business: the completion threshold and the subsidy budget (``CampaignAdminOut``)."""
    tiers = rules.normalise_tiers(c.tiers)
    now = clock.now()
    view: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "sku_id": c.sku_id,
        "supplier_id": c.supplier_id,
        "product": product,
        "starts_at": clock.iso(c.starts_at),
        "ends_at": clock.iso(c.ends_at),
        "live": c.status == rules.CampaignStatus.ACTIVE and c.starts_at <= now < c.ends_at,
        "status": c.status,
        "single_price": c.single_price,
        "group_price": tiers[0][1],
        "tiers": [{"members": m, "unit_price": p} for m, p in tiers],
        "min_size": c.min_size,
        "max_size": c.max_size,
        "window_hours": c.window_hours,
        "stock": c.stock,
        "available": c.stock - c.sold - c.held - c.reserved,
        "reserved": c.reserved,
        "openable_teams": rules.openable_teams(c.stock - c.sold - c.held - c.reserved, c.min_size)
        if c.status == rules.CampaignStatus.ACTIVE and c.starts_at <= now < c.ends_at
        else 0,
        "allow_solo": c.allow_solo,
        "sold": c.sold,
        "returned": c.returned,
        "ended_at": clock.iso(c.ended_at) if c.ended_at else None,
        "per_member_limit": c.per_member_limit,
        "max_quantity_per_order": c.max_quantity_per_order,
        "completion_enabled": c.completion_enabled,
        "opener_perk": c.opener_perk,
        "opener_price": c.opener_price,
        "new_member_only": c.new_member_only,
        "hold_minutes": c.hold_minutes,
        "ship_within_hours": c.ship_within_hours,
    }
    if operator:
        view.update(
            completion_percent=c.completion_percent,
            subsidy_budget=c.subsidy_budget,
            subsidy_used=c.subsidy_used,
        )
    return view


def team_view(team: Team, campaign: TeamCampaign, chain: list[dict[str, Any]]) -> dict[str, Any]:
    tiers = rules.normalise_tiers(campaign.tiers)
    nxt = rules.next_tier(tiers, team.paid_count)
    now = clock.now()
    joinable = (
        team.status in rules.JOINABLE
        and team.deadline is not None
        and team.deadline > now
        and team.seats_taken < team.max_size
    )
    return {
        "id": team.id,
        "campaign_id": team.campaign_id,
        "title": campaign.title,
        "status": team.status,
        "outcome": team.outcome,
        "formed": team.formed_at is not None,
        "min_size": team.min_size,
        "max_size": team.max_size,
        "paid_members": team.paid_count,
        "seats_taken": team.seats_taken,
        "seats_left": team.max_size - team.seats_taken,
        "members_to_form": max(0, team.min_size - team.paid_count),
        "deadline": clock.iso(team.deadline),
        "seconds_left": max(0, int((team.deadline - now).total_seconds()))
        if team.deadline
        else None,
        "joinable": joinable,
        "single_price": campaign.single_price,
        "current_unit_price": rules.tier_price(tiers, team.paid_count),
        "final_unit_price": team.final_unit_price,
        "next_tier": {
            "members": nxt[0],
            "unit_price": nxt[1],
            "members_needed": nxt[0] - team.paid_count,
        }
        if nxt
        else None,
        "ladder": ladder_view(tiers, team.paid_count),
        "chain": [{**row, "joined_at": clock.iso(row["joined_at"])} for row in chain],
        "share_path": f"/t/{team.id}",
        "opened_at": clock.iso(team.opened_at),
        "formed_at": clock.iso(team.formed_at),
        "settled_at": clock.iso(team.settled_at),
    }


# ---------------------------------------------------------------- replies


class SkuSummaryOut(Out):
    """What a shopper sees of the SKU on sale (``catalog.sku_summary``)."""

    id: int
    title: str
    description: str
    image_url: str
    sku_name: str
    name: str = Field(description="the product's title and the SKU's name, said once")


class TierOut(Out):
    members: int
    unit_price: int


class CampaignOut(Out):
    """A team-buy campaign as anyone sees it (``campaign_view``): the subsidy budget and the
    completion threshold are the operator's business (``CampaignAdminOut``)."""

    id: int
    title: str
    sku_id: int
    supplier_id: int
    product: SkuSummaryOut
    starts_at: Iso
    ends_at: Iso
    live: bool
    status: str
    single_price: int
    group_price: int
    tiers: list[TierOut]
    min_size: int
    max_size: int
    window_hours: int
    stock: int
    available: int = Field(
        description="units free for a new order: not sold, not held by an unpaid order, not "
        "reserved for an open team's seats"
    )
    reserved: int = Field(description="units set aside for the seats open teams need to form")
    openable_teams: int = Field(
        description="可开团 N 个: how many teams (one unit a member) the free units let open now; "
        "a team opens only if its minimum size can be set aside"
    )
    allow_solo: bool = Field(description="单独购买 at the single price is offered")
    sold: int
    returned: int
    ended_at: Iso | None
    per_member_limit: int
    max_quantity_per_order: int
    completion_enabled: bool
    opener_perk: str
    opener_price: int | None
    new_member_only: bool
    hold_minutes: int
    ship_within_hours: int


class CampaignAdminOut(CampaignOut):
    """A campaign as operators see it: also the platform's subsidy and completion terms."""

    completion_percent: int = Field(
        description="the share of the minimum size, paid, from which the platform completes a team"
    )
    subsidy_budget: int = Field(description="fen the platform may spend completing teams")
    subsidy_used: int = Field(description="fen of the budget spent so far")


class TeamSummaryOut(Out):
    """A team's counters as a seat's reply gives them (``team_summary``)."""

    id: int
    campaign_id: int
    status: str
    min_size: int
    max_size: int
    paid_members: int
    seats_taken: int
    seats_left: int
    deadline: Iso | None
    share_path: str

    @classmethod
    def of(cls, team: Team) -> TeamSummaryOut:
        return cls.model_construct(
            id=team.id,
            campaign_id=team.campaign_id,
            status=team.status,
            min_size=team.min_size,
            max_size=team.max_size,
            paid_members=team.paid_count,
            seats_taken=team.seats_taken,
            seats_left=team.max_size - team.seats_taken,
            deadline=clock.iso(team.deadline),
            share_path=f"/t/{team.id}",
        )


class NextTierOut(TierOut):
    members_needed: int


class LadderStepOut(TierOut):
    reached: bool
    current: bool


class ChainRowOut(Out):
    """One seat of the chain list, the name masked."""

    position: int
    name: str
    quantity: int
    paid: bool
    is_opener: bool
    joined_at: Iso


class TeamOut(Out):
    """A team as its share link shows it (``team_view``)."""

    id: int
    campaign_id: int
    title: str
    status: str
    outcome: str | None
    formed: bool
    min_size: int
    max_size: int
    paid_members: int
    seats_taken: int
    seats_left: int
    members_to_form: int
    deadline: Iso | None
    seconds_left: int | None
    joinable: bool
    single_price: int
    current_unit_price: int
    final_unit_price: int | None
    next_tier: NextTierOut | None
    ladder: list[LadderStepOut]
    chain: list[ChainRowOut]
    share_path: str
    opened_at: Iso | None
    formed_at: Iso | None
    settled_at: Iso | None


class CampaignWithTeamsOut(CampaignOut):
    """A campaign with the first page of the teams one can join now, in the order they are
    offered; the next pages through ``GET /api/campaigns/{id}/teams?cursor=``."""

    open_teams: list[TeamOut]
    open_teams_total: int = Field(description="how many teams one can join now, in all")
    open_teams_next: str | None = Field(
        description="the cursor of the next page of open teams; null when this is all of them"
    )


class OpenTeamsPageOut(Out):
    """A page of a campaign's open teams, after a cursor, in the order they are offered."""

    teams: list[TeamOut]
    next_cursor: str | None = Field(description="the next page's cursor; null on the last page")


class SeatOut(Out):
    """A seat taken: the order, its payment and where to pay it, and the team's counters."""

    team: TeamSummaryOut
    order: OrderOut
    payment: PaymentOut
    pay_url: str


class SoloOut(Out):
    """单独购买: the order (a team order without a team, at the single price), its payment and
    where to pay it."""

    order: OrderOut
    payment: PaymentOut
    pay_url: str


class LeftTeamOut(Out):
    order: OrderOut
    team: TeamOut
