from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.communities.rules import ApplicationStatus, InvitationStatus, LeaderStatus
from tuangou.core.db import Base


class LeaderApplication(Base):
    """A member's application to become a leader (团长申请), with their first pickup point.

    status: pending → approved | rejected, decided once by an operator.
    """

    __tablename__ = "leader_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ApplicationStatus.PENDING)
    name: Mapped[str] = mapped_column(String(64))  # the pickup point's
    address: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    opening_hours: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    reject_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        # At most one pending application per member, enforced by the database.
        Index(
            "uq_leader_applications_pending",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_leader_applications_queue", "status", "created_at"),
    )


class Leader(Base):
    """A community leader (团长); ``parent_leader_id``: who recruited them (two levels at most)."""

    __tablename__ = "leaders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("leader_applications.id"), unique=True, default=None
    )
    status: Mapped[str] = mapped_column(String(16), default=LeaderStatus.ACTIVE)
    parent_leader_id: Mapped[int | None] = mapped_column(
        ForeignKey("leaders.id"), index=True, default=None
    )
    paused_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused')", name="status"),
        CheckConstraint("parent_leader_id IS NULL OR parent_leader_id <> id", name="not_self"),
    )


class SubLeaderInvitation(Base):
    """A leader's invitation to another leader to become their sub-leader (子团长邀请).

    status: pending → accepted | declined (by the invitee) | cancelled (by the inviter); a
    pending one past ``expires_at`` counts as expired. At most one pending per pair.
    """

    __tablename__ = "sub_leader_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inviter_leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id"), index=True)
    invitee_leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'cancelled', 'expired')",
            name="status",
        ),
        CheckConstraint("inviter_leader_id <> invitee_leader_id", name="not_self"),
        Index(
            "uq_sub_leader_invitations_pending",
            "inviter_leader_id",
            "invitee_leader_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class SubLeaderLink(Base):
    """A sub-leader link as it held: from ``started_at`` (accepted) to ``ended_at`` (left or
    ended by an operator; open while current). The upline earns an override on the sub-leader's
    sales paid while the link held. At most one current link per sub-leader; the current one
    is mirrored by ``leaders.parent_leader_id``.
    """

    __tablename__ = "sub_leader_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("sub_leader_invitations.id"), unique=True, default=None
    )
    started_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    end_reason: Mapped[str | None] = mapped_column(String(24), default=None)
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    end_note: Mapped[str | None] = mapped_column(String(200), default=None)

    __table_args__ = (
        CheckConstraint("parent_leader_id <> leader_id", name="not_self"),
        CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('left', 'ended_by_operator')", name="end_reason"
        ),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended"),
        Index(
            "uq_sub_leader_links_current",
            "leader_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )


class PickupPoint(Base):
    """A leader's pickup point (自提点): where members collect their orders.

    Coordinates are GCJ-02 (see ``tuangou.geo``); ``geohash`` is the point's cell at
    ``geo.rules.GEOHASH_PRECISION``, kept by the service, indexed for the nearby query."""

    __tablename__ = "pickup_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    geohash: Mapped[str] = mapped_column(String(12), default="", server_default="")
    opening_hours: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_pickup_points_geohash", "geohash"),)


class Community(Base):
    """A leader's community (社群), joined through its invite link."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("leaders.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    rules: Mapped[str] = mapped_column(Text, default="")  # 群规: the current version's text
    # The current version of the rules (0: never written); each save adds one.
    rules_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class CommunityMember(Base):
    """A person in a community. role: member | admin | leader (the community's own leader)."""

    __tablename__ = "community_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    joined_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("community_id", "user_id"),
        CheckConstraint("role IN ('member', 'admin', 'leader')", name="role"),
    )


class CommunityRulesVersion(Base):
    """One saved version of a community's rules (群规). Append-only: each save is a new row."""

    __tablename__ = "community_rules_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("community_id", "version"),
        CheckConstraint("version >= 1", name="version"),
    )


class CommunityRulesAcceptance(Base):
    """A member accepted a version of a community's rules (one row per member and version)."""

    __tablename__ = "community_rules_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("community_id", "user_id", "version"),)
