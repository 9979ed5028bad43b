"""The search index: one entry per live campaign or wave, and the terms it is found under.

The index lives in the database (both backends), fed by the worker
(:func:`tuangou.search.service.refresh`); what a caller may see is decided at query time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class SearchEntry(Base):
    __tablename__ = "search_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # campaign | wave
    ref_id: Mapped[int] = mapped_column(Integer)  # the campaign's or the wave's id
    text: Mapped[str] = mapped_column(Text)  # what was indexed (re-indexed when it changes)
    indexed_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("kind", "ref_id"),)


class SearchTerm(Base):
    __tablename__ = "search_terms"

    entry_id: Mapped[int] = mapped_column(
        ForeignKey("search_entries.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (Index("ix_search_terms_term", "term", "entry_id"),)
