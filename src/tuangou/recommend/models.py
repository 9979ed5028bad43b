"""Recommendations' one table: the trained models, one row per version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class RecommendModel(Base):
    """A training run: its version (1, 2, …), when, with which algorithm and parameters, on
    how much data, its metrics, and its factors (NumPy's npz, in ``factors``), or why it
    failed (``status`` failed, ``error``; no factors). The newest good version is served;
    the last few are kept (``rules.KEEP_VERSIONS``)."""

    __tablename__ = "recommend_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8))  # rules.ModelStatus
    algorithm: Mapped[str] = mapped_column(String(8))  # rules.Algorithm
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    members: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    interactions: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    factors: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    error: Mapped[str] = mapped_column(Text, default="")
    trained_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("version", name="uq_recommend_models_version"),)
