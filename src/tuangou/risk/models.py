"""The risk engine's tables: the events it judged, the members it flagged, the review cases
and the evidence operators cleared."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class RiskEvent(Base):
    """One signup, login, help, invite, vote, join or order, as the engine saw it."""

    __tablename__ = "risk_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[int | None] = mapped_column(Integer)  # a member (no key: a refused signup)
    target: Mapped[str | None] = mapped_column(String(64))  # "bargain:12", "team:3", "order:9"
    other: Mapped[int | None] = mapped_column(Integer)  # whom it is for (starter, inviter)
    device: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(64))
    subnet: Mapped[str | None] = mapped_column(String(64))  # the /24 (IPv6: /48)
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_num: Mapped[int | None] = mapped_column(BigInteger)  # the digits, for sequences
    amount_fen: Mapped[int | None] = mapped_column(Integer)
    payout: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))  # rules.Action
    reasons: Mapped[str | None] = mapped_column(Text)  # JSON list of rules.Reason

    __table_args__ = (
        Index("ix_risk_events_type_device_at", "type", "device", "at"),
        Index("ix_risk_events_type_subnet_at", "type", "subnet", "at"),
        Index("ix_risk_events_phone_num_at", "phone_num", "at"),
        Index("ix_risk_events_target_at", "target", "at"),
        Index("ix_risk_events_actor_type_at", "actor", "type", "at"),
        Index("ix_risk_events_at", "at"),
    )


class RiskCase(Base):
    """A review case: a finding (of the graph job, or of a held event) and its evidence."""

    __tablename__ = "risk_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # dense_ring, same_person, help_burst, …
    source: Mapped[str] = mapped_column(String(16))  # graph | event
    status: Mapped[str] = mapped_column(String(16))  # rules.CaseStatus
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    members: Mapped[str] = mapped_column(Text)  # JSON list of member ids
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of rules.Reason
    edges: Mapped[str] = mapped_column(Text)  # JSON list of [a, b, kind]
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_risk_cases_status_opened_at", "status", "opened_at"),)


class RiskFlag(Base):
    """A member a case names: flagged while it is open, blocked once it is confirmed."""

    __tablename__ = "risk_flags"

    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # rules.FlagStatus
    case_id: Mapped[int] = mapped_column(ForeignKey("risk_cases.id"), index=True)
    summary: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime)


class RiskClearance(Base):
    """Evidence an operator cleared for a member: the same evidence flags them no more."""

    __tablename__ = "risk_clearances"

    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("risk_cases.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
