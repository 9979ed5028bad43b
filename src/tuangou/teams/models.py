from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base
from tuangou.teams.rules import CampaignStatus, SeatStatus, TeamStatus


class TeamCampaign(Base):
    """One SKU offered at group prices (拼团活动), with its own stock allotment."""

    __tablename__ = "team_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    min_size: Mapped[int] = mapped_column(Integer)
    max_size: Mapped[int] = mapped_column(Integer)
    window_hours: Mapped[int] = mapped_column(Integer)
    tiers: Mapped[list[list[int]]] = mapped_column(JSON)  # [[members, unit price fen], ...]
    single_price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    per_member_limit: Mapped[int] = mapped_column(Integer)
    max_quantity_per_order: Mapped[int] = mapped_column(Integer)
    completion_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    completion_percent: Mapped[int] = mapped_column(Integer, default=80)
    subsidy_budget: Mapped[int] = mapped_column(Integer, default=0)
    subsidy_used: Mapped[int] = mapped_column(Integer, default=0)
    opener_perk: Mapped[str] = mapped_column(String(8), default="none")  # none|price|free
    opener_price: Mapped[int | None] = mapped_column(Integer, default=None)
    new_member_only: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    ship_within_hours: Mapped[int] = mapped_column(Integer, default=72)
    # active | paused | ended (past its end with nothing in play: its stock is settled with the SKU)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    returned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    # Units set aside for the seats that open teams still need to form (the sum of their
    # teams' ``reserved``): stock = free + reserved + held + sold, free ≥ 0.
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # 单独购买: a member may buy alone at the single price (a team order without a seat).
    allow_solo: Mapped[bool] = mapped_column(Boolean, default=True, server_default="0")

    __table_args__ = (
        CheckConstraint(
            "sold >= 0 AND held >= 0 AND reserved >= 0 AND sold + held + reserved <= stock",
            name="no_oversell",
        ),
        CheckConstraint("subsidy_used >= 0 AND subsidy_used <= subsidy_budget", name="subsidy"),
        CheckConstraint("min_size >= 2 AND max_size >= min_size", name="sizes"),
        # The live campaigns' keyset pages, by id.
        Index("ix_team_campaigns_status_id", "status", "id"),
    )


class Team(Base):
    """A team (拼团的一个团).

    status: pending (opener has not paid) → open → formed (≥ min paid) → settled,
    or → failed (deadline below min), or → closed (opener never paid / everybody left).
    """

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("team_campaigns.id"), index=True)
    opener_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default=TeamStatus.PENDING)
    min_size: Mapped[int] = mapped_column(Integer)
    max_size: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)  # held + paid
    paid_count: Mapped[int] = mapped_column(Integer, default=0)
    deadline: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    formed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    final_unit_price: Mapped[int | None] = mapped_column(Integer, default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    outcome_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # The campaign's units this team holds for the seats it still needs to form; joins draw
    # from it first, and what is left goes back to the campaign when the team ends.
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The units one seat was reserved for: the opener's quantity.
    seat_units: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __table_args__ = (
        CheckConstraint("reserved >= 0 AND seat_units >= 1", name="reservation"),
        CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= max_size AND paid_count >= 0"
            " AND paid_count <= seats_taken",
            name="seats",
        ),
        Index("ix_teams_due", "status", "deadline"),
    )


class TeamSeat(Base):
    """A member's seat in a team. status: held (awaiting payment) | paid | left | released."""

    __tablename__ = "team_seats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    order_id: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(16), default=SeatStatus.HELD)
    is_opener: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(DateTime)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        # Invariant 2: at most one live seat per member per team, enforced by the database.
        Index(
            "uq_team_seats_live",
            "team_id",
            "user_id",
            unique=True,
            sqlite_where=text("status IN ('held', 'paid')"),
            postgresql_where=text("status IN ('held', 'paid')"),
        ),
        Index("ix_team_seats_team", "team_id", "joined_at"),
    )
