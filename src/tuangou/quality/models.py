from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tuangou.core.db import Base


class QualityThresholds(Base):
    """The operator's thresholds that flag a supplier (one row, ``id = 1``; absent: the
    defaults of ``rules.DEFAULTS``). Rates in basis points, the rating in tenths of a star."""

    __tablename__ = "quality_thresholds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_days: Mapped[int] = mapped_column(Integer)
    max_aftersale_bps: Mapped[int] = mapped_column(Integer)
    min_rating_tenths: Mapped[int] = mapped_column(Integer)
    min_reviews: Mapped[int] = mapped_column(Integer)
    min_on_time_bps: Mapped[int] = mapped_column(Integer)
    max_failed_moq_bps: Mapped[int] = mapped_column(Integer)
    min_sample: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by: Mapped[int | None] = mapped_column(Integer, default=None)

    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("window_days BETWEEN 7 AND 365", name="window_days"),
        CheckConstraint("max_aftersale_bps BETWEEN 0 AND 10000", name="max_aftersale_bps"),
        CheckConstraint("min_rating_tenths BETWEEN 10 AND 50", name="min_rating_tenths"),
        CheckConstraint("min_reviews >= 1", name="min_reviews"),
        CheckConstraint("min_on_time_bps BETWEEN 0 AND 10000", name="min_on_time_bps"),
        CheckConstraint("max_failed_moq_bps BETWEEN 0 AND 10000", name="max_failed_moq_bps"),
        CheckConstraint("min_sample >= 1", name="min_sample"),
    )
