from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    nickname: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="member")  # member|supplier|operator
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), default=None)
    # The default entry of the address book, as a snapshot (kept equal to it by the book's
    # service; the book itself is ``member_addresses``).
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # When the member deleted their account: the row stays (orders, the ledger and the
    # commission name it), anonymised; nothing logs in to it again.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class OneTimeCode(Base):
    """A login code sent by SMS; only its hash is stored."""

    __tablename__ = "one_time_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class PageSession(Base):
    """A logged-in browser's session of the pages. The browser's cookie holds a random id;
    this row holds only its SHA-256 (``id_hash``), so the table read does not log anyone in.
    Who the user is (and their role) is copied here at log-in, so a page reads one row by its
    primary key. ``expires_at`` is when it ends unless renewed (the idle time after
    ``last_seen_at``, never past the absolute lifetime after ``created_at``)."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    supplier_id: Mapped[int | None] = mapped_column(Integer, default=None)
    csrf: Mapped[str] = mapped_column(String(64))
    # The pages' small state between two requests (a flash message, the pickup counter's
    # last result).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class MemberAddress(Base):
    """One entry of a member's address book: where a team buy is shipped. An order keeps a
    copy (``orders.address``), so a later edit or deletion here never changes a placed order.
    At most one entry of a member is the default (the checkout's preselected choice)."""

    __tablename__ = "member_addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(64))  # province, city, district, as text
    detail: Mapped[str] = mapped_column(String(200))  # street, building, door
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
