from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.bargains.rules import BargainStatus, CampaignStatus, HelpStatus
from tuangou.core.db import Base


class BargainCampaign(Base):
    """One SKU offered to bargain down with friends (砍价活动), with its own stock allotment."""

    __tablename__ = "bargain_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    start_price: Mapped[int] = mapped_column(Integer)
    floor_price: Mapped[int] = mapped_column(Integer)
    helpers_needed: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)  # a bargain's time limit
    buy_at_any_price: Mapped[bool] = mapped_column(Boolean)
    helps_per_member: Mapped[int] = mapped_column(Integer)
    starts_per_member: Mapped[int] = mapped_column(Integer)
    new_member_bonus: Mapped[int] = mapped_column(Integer)  # fen added to a new member's cut
    stock: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    ship_within_hours: Mapped[int] = mapped_column(Integer, default=72)
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        CheckConstraint("sold >= 0 AND held >= 0 AND sold + held <= stock", name="no_oversell"),
        CheckConstraint(
            "floor_price >= 1 AND start_price - floor_price >= helpers_needed", name="prices"
        ),
    )


class Bargain(Base):
    """A member's bargain (一个砍价): its price falls by each helper's cut, from the start price
    to the floor, along the schedule fixed when it started (``bargain_cuts``)."""

    __tablename__ = "bargains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("bargain_campaigns.id"), index=True)
    starter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    share_token: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=BargainStatus.OPEN)
    start_price: Mapped[int] = mapped_column(Integer)
    floor_price: Mapped[int] = mapped_column(Integer)
    price: Mapped[int] = mapped_column(Integer)
    helpers_needed: Mapped[int] = mapped_column(Integer)
    cuts_taken: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # of its schedule
    deadline: Mapped[datetime] = mapped_column(DateTime)
    order_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        CheckConstraint(
            "price >= floor_price AND price <= start_price"
            " AND cuts_taken >= 0 AND cuts_taken <= helpers_needed",
            name="price_range",
        ),
        Index("ix_bargains_due", "status", "deadline"),
    )


class BargainCut(Base):
    """One cut of a bargain's schedule. Revision 0 is written when the bargain starts; a
    new-member bonus or a reversal of helps writes the whole schedule again as the next
    revision. Every revision sums to exactly start − floor (the audit checks it)."""

    __tablename__ = "bargain_cuts"

    bargain_id: Mapped[int] = mapped_column(ForeignKey("bargains.id"))
    revision: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)  # 1..K
    amount: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        PrimaryKeyConstraint("bargain_id", "revision", "seq"),
        CheckConstraint("amount >= 0", name="amount"),
    )


class BargainHelp(Base):
    """A friend's cut (助力): one per (bargain, helper), by a unique key."""

    __tablename__ = "bargain_helps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bargain_id: Mapped[int] = mapped_column(ForeignKey("bargains.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("bargain_campaigns.id"))
    helper_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # the cut of the schedule it took
    amount: Mapped[int] = mapped_column(Integer)
    bonus: Mapped[int] = mapped_column(Integer, default=0)  # of which the new-member bonus
    device: Mapped[str | None] = mapped_column(String(64), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default=HelpStatus.COUNTED)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    void_reason: Mapped[str | None] = mapped_column(String(200), default=None)

    __table_args__ = (
        UniqueConstraint("bargain_id", "helper_id", name="uq_bargain_helps_once"),
        CheckConstraint("amount >= 1 AND bonus >= 0", name="amount"),
    )


class BargainUsage(Base):
    """A member's counters in a campaign: bargains started and bargains helped, each guarded
    by the campaign's limit."""

    __tablename__ = "bargain_usage"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("bargain_campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started: Mapped[int] = mapped_column(Integer, default=0)
    helped: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (PrimaryKeyConstraint("campaign_id", "user_id"),)


class HelpRefusal(Base):
    """A help the risk check refused (challenge, hold or block): kept for the operators, never
    told to the helper."""

    __tablename__ = "bargain_help_refusals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bargain_id: Mapped[int] = mapped_column(ForeignKey("bargains.id"), index=True)
    helper_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))
    device: Mapped[str | None] = mapped_column(String(64), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
