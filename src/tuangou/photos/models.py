"""An uploaded photo: first its uploader's alone, then attached to one thing (a post, a
review…) at a position. The files live in the storage under random keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class Photo(Base):
    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    owner_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    owner_id: Mapped[int | None] = mapped_column(Integer, default=None)
    position: Mapped[int | None] = mapped_column(Integer, default=None)
    display_key: Mapped[str] = mapped_column(String(100))
    thumb_key: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    thumb_content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("owner_kind", "owner_id", "position"),
        Index("ix_photos_user_id_created_at", "user_id", "created_at"),
    )
