"""Settling a team, exactly once: when it is full, or at its deadline.

Success: every paid order gets its final price (the tier reached; the opener price if lower),
a price-protection refund of the difference, a completion subsidy and the opener-free refund
where the campaign has them, and moves to ``confirmed`` with a shipping deadline. Failure:
every paid order is refunded in full and its stock goes back. Either way, what the team
still reserves for seats nobody took goes back to the campaign's free stock. One
compare-and-set on the team's status decides, so two workers never settle a team twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock, outbox
from tuangou.orders import service as orders
from tuangou.teams import rules
from tuangou.teams.models import Team, TeamCampaign
from tuangou.teams.service import campaigns, gate, locking, membership

if TYPE_CHECKING:
    from tuangou.orders.models import Order


def settle_team(session: Session, team_id: int, *, stock_held: bool = False) -> str | None:
    """Settle a team that is full or past its deadline, exactly once.

    ``stock_held``: the caller's transaction already updated the campaign's row (see
    ``locking.lock_members``). Returns the outcome (``success``, ``completed``, ``failed``)
    or None when there was nothing to do (already settled, or not due)."""
    now = clock.now()
    if session.get(Team, team_id) is None:
        return None
    team = locking.lock_team(session, team_id)
    deadline_passed = team.deadline is not None and team.deadline <= now
    if not rules.settlement_due(
        team.status, team.paid_count, max_size=team.max_size, deadline_passed=deadline_passed
    ):
        return None
    campaign = campaigns.get_campaign(session, team.campaign_id)
    outcome = rules.settlement_outcome(
        team.paid_count,
        team.min_size,
        completion_enabled=campaign.completion_enabled,
        completion_percent=campaign.completion_percent,
    )
    # Members' limits come back for unpaid seats, and for everyone if the team may fail.
    gives_back = team.seats_taken > team.paid_count or outcome.kind != "success"
    held = locking.lock_members(session, team, limits=gives_back, stock_held=stock_held)
    campaign = held.campaign
    team_orders = list(held.orders.values())
    paid_orders = sorted(
        (o for o in team_orders if o.status == orders.OrderStatus.PAID), key=lambda o: o.id
    )
    tiers = campaigns.tiers_of(campaign)
    detail: dict[str, Any] = {"paid": team.paid_count}
    if outcome.kind == "completed":
        group_price = rules.tier_price(tiers, team.paid_count)
        need = sum(
            rules.completion_subsidy(campaign.single_price, group_price, o.quantity)
            for o in paid_orders
        )
        if not _spend_subsidy(session, campaign.id, need):
            outcome = rules.Outcome("failed")
            detail["completion_refused"] = "subsidy budget exhausted"
        else:
            detail["completion_subsidy"] = need
    moved = session.execute(
        update(Team)
        .where(Team.id == team_id, Team.status.in_(rules.SETTLEABLE))
        .values(
            status=rules.settled_status(outcome),
            settled_at=now,
            outcome=outcome.kind,
            final_unit_price=None
            if not outcome.succeeded
            else rules.tier_price(tiers, team.paid_count),
            outcome_detail=detail,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        return None
    for order in sorted(team_orders, key=lambda o: o.id):
        if order.status == orders.OrderStatus.PENDING_PAYMENT:
            orders.release_unpaid(session, order, reason="team_settled")
    # Seats never filled: what the team still reserves is free stock again.
    membership.end_reservation(session, team_id)
    if outcome.succeeded:
        _succeed(session, campaign, team, paid_orders, completed=outcome.kind == "completed")
    else:
        _fail(session, campaign, team, paid_orders)
    return outcome.kind


def _spend_subsidy(session: Session, campaign_id: int, amount: int) -> bool:
    if amount <= 0:
        return True
    return bool(
        session.execute(
            update(TeamCampaign)
            .where(
                TeamCampaign.id == campaign_id,
                TeamCampaign.subsidy_used + amount <= TeamCampaign.subsidy_budget,
            )
            .values(subsidy_used=TeamCampaign.subsidy_used + amount)
        ).rowcount  # type: ignore[attr-defined]
    )


def _fail(session: Session, campaign: TeamCampaign, team: Team, paid_orders: list[Order]) -> None:
    for order in paid_orders:
        orders.release_quantity(
            session, campaign_id=campaign.id, user_id=order.user_id, quantity=order.quantity
        )
        refunded = orders.refund_in_full(
            session, order, reason="team_failed", note="the team did not form in time"
        )
        session.execute(
            update(TeamCampaign)
            .where(TeamCampaign.id == campaign.id)
            .values(sold=TeamCampaign.sold - order.quantity)
        )
        gate.given_back(campaign.id)
        outbox.emit(
            session,
            "team.failed",
            {
                "user_ids": [order.user_id],
                "team_id": team.id,
                "order_id": order.id,
                "refund": refunded,
            },
        )


def _succeed(
    session: Session,
    campaign: TeamCampaign,
    team: Team,
    paid_orders: list[Order],
    *,
    completed: bool,
) -> None:
    tiers = campaigns.tiers_of(campaign)
    for order in paid_orders:
        is_opener = order.user_id == team.opener_id
        final = rules.final_price(
            tiers,
            team.paid_count,
            is_opener=is_opener,
            perk=campaign.opener_perk,
            opener_price=campaign.opener_price,
        )
        # An opener who took over pays the group price; they too get the opener price.
        final = min(final, order.unit_price)
        protection = rules.price_protection_refund(order.unit_price, final, order.quantity)
        if protection:
            orders.refund(
                session,
                order,
                amount=protection,
                reason="price_protection",
                note=f"final price {final} fen per unit",
            )
        if completed:
            subsidy = rules.completion_subsidy(campaign.single_price, final, order.quantity)
            orders.add_subsidy(session, order, amount=subsidy, key=f"completion:{order.id}")
        free = 0
        if is_opener and campaign.opener_perk == "free":
            # What the opener paid for it (less than the price if a discount took some).
            cost = min(final * order.quantity, order.paid_amount - order.refunded_amount)
            if cost > 0 and _spend_subsidy(session, campaign.id, cost):
                orders.add_subsidy(session, order, amount=cost, key=f"opener-free:{order.id}")
                orders.refund(
                    session,
                    order,
                    amount=cost,
                    reason="opener_free",
                    funded_by="subsidy",
                    note="团长免单",
                )
                free = cost
        orders.confirm(
            session, order, final_unit_price=final, ship_within_hours=campaign.ship_within_hours
        )
        outbox.emit(
            session,
            "team.settled",
            {
                "user_ids": [order.user_id],
                "team_id": team.id,
                "order_id": order.id,
                "final_unit_price": final,
                "refund": protection + free,
                "completed_by_platform": completed,
            },
        )


def due(session: Session, limit: int) -> list[int]:
    """Teams due to settle: past their deadline, or full (a full team settles in the
    transaction of its last payment; one left over by a crash is picked up here)."""
    now = clock.now()
    return list(
        session.scalars(
            select(Team.id)
            .where(
                Team.status.in_(rules.SETTLEABLE),
                or_(Team.deadline <= now, Team.paid_count >= Team.max_size),
            )
            .order_by(Team.deadline)
            .limit(limit)
        )
    )


def overdue_count(session: Session) -> int:
    """Teams past their deadline and not settled yet (the settle job's backlog)."""
    now = clock.now()
    return int(
        session.scalar(
            select(func.count())
            .select_from(Team)
            .where(Team.status.in_(rules.SETTLEABLE), Team.deadline <= now)
        )
        or 0
    )
