from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class JournalHead(Base):
    """The log's one counter row (id 1): how many leaves it has. Taken at each commit that
    appends, after every other lock, so leaf indexes are given without gaps in commit order."""

    __tablename__ = "journal_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("size >= 0", name="size_non_negative"),)


class JournalEntry(Base):
    """One leaf: the canonical JSON of a journaled row and its RFC 9162 leaf hash. Its
    ``leaf_index`` is given when its transaction commits; rows are never updated after."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leaf_index: Mapped[int | None] = mapped_column(Integer, default=None)
    source: Mapped[str] = mapped_column(String(16))  # ledger | points | bargain_help
    ref: Mapped[str] = mapped_column(String(100))  # the journaled row's id in its source
    community_id: Mapped[int | None] = mapped_column(Integer, default=None)
    data: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("source", "ref", name="uq_journal_entries_source_ref"),
        Index("uq_journal_entries_leaf_index", "leaf_index", unique=True),
        Index("ix_journal_entries_community", "community_id", "leaf_index"),
        Index(
            "ix_journal_entries_unsequenced",
            "id",
            sqlite_where=text("leaf_index IS NULL"),
            postgresql_where=text("leaf_index IS NULL"),
        ),
    )


class JournalMember(Base):
    """Which members an entry concerns (the buyer of an order, a referrer, a points holder,
    a helper): the index of 我的账本. Member ids only, never a name or a phone."""

    __tablename__ = "journal_members"

    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class JournalCheckpoint(Base):
    """A signed checkpoint of the whole log (community 0) or of a community's view."""

    __tablename__ = "journal_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, default=0)
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(40))  # the signed ISO 8601 text
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("community_id", "tree_size", name="uq_journal_checkpoints_size"),
    )
