from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.cocreate.rules import ProposalStatus
from tuangou.core.db import Base


class Proposal(Base):
    """A member's proposal of a product to their community (共创提案).

    ``votes`` and ``pledged`` count its standing votes and their pledged units; each vote
    moves them with one guarded UPDATE, so they always equal its vote rows. status: see
    ``rules.ProposalStatus``; a converted proposal names its wave, and the early window
    (``early_until``) during which only its voters may see and order it.
    """

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    target_price: Mapped[int] = mapped_column(Integer)
    supplier_hint: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.OPEN)
    votes: Mapped[int] = mapped_column(Integer, default=0)
    pledged: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    ready_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    wave_id: Mapped[int | None] = mapped_column(Integer, default=None, unique=True)
    listing_id: Mapped[int | None] = mapped_column(Integer, default=None)
    early_until: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    converted_by: Mapped[int | None] = mapped_column(Integer, default=None)  # a user
    supplier_id: Mapped[int | None] = mapped_column(Integer, default=None)  # converted by one

    __table_args__ = (
        CheckConstraint("votes >= 0 AND pledged >= 0", name="counts_non_negative"),
        Index("ix_proposals_community", "community_id", "status", "id"),
        Index("ix_proposals_due", "status", "created_at"),
    )


class ProposalVote(Base):
    """One member's vote for a proposal, with the units they would buy (0: none). The
    primary key is the one vote per member."""

    __tablename__ = "proposal_votes"

    proposal_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pledge: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("pledge >= 0 AND pledge <= 99", name="pledge_range"),)


class CocreateSettings(Base):
    """A community's threshold (its leader's setting, within the operator's bounds) and the
    voters' early window; a community without a row has the defaults."""

    __tablename__ = "cocreate_settings"

    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    votes: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    early_hours: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class SupplierLink(Base):
    """A supplier the operator links to a community: it sees the community's ready proposals
    and may turn one into a pre-sale wave of its own SKU. One row per standing link."""

    __tablename__ = "community_suppliers"

    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supplier_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    linked_by: Mapped[int] = mapped_column(Integer)
    linked_at: Mapped[datetime] = mapped_column(DateTime)


class SupplierLinkEvent(Base):
    """The trail of links: who linked or unlinked which supplier and community, and when.
    Append-only."""

    __tablename__ = "community_supplier_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer)
    supplier_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(8))  # linked | unlinked
    by_user_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("action IN ('linked', 'unlinked')", name="action_known"),
        Index("ix_community_supplier_events_community", "community_id", "id"),
    )
