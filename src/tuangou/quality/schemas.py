from __future__ import annotations

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.quality import service
from tuangou.quality.rules import CASE_KINDS, STARS


class ThresholdsIn(In):
    """Every threshold at once (rates in basis points: 500 is 5%; the rating in tenths)."""

    window_days: int = Field(ge=7, le=365, description="the record's window, in days")
    max_aftersale_bps: int = Field(ge=0, le=10000, description="flag an after-sale rate above")
    min_rating_tenths: int = Field(ge=10, le=50, description="flag an average rating below")
    min_reviews: int = Field(ge=1, le=100000, description="… over at least this many reviews")
    min_on_time_bps: int = Field(ge=0, le=10000, description="flag an on-time rate below")
    max_failed_moq_bps: int = Field(ge=0, le=10000, description="flag a failed-MOQ share above")
    min_sample: int = Field(
        ge=1, le=100000, description="orders, shipments or waves a rate needs before it flags"
    )


class ThresholdsOut(Out):
    window_days: int
    max_aftersale_bps: int
    min_rating_tenths: int
    min_reviews: int
    min_on_time_bps: int
    max_failed_moq_bps: int
    min_sample: int

    @classmethod
    def of(cls, t: service.Thresholds) -> ThresholdsOut:
        return cls.model_construct(**vars(t))


class CaseRateOut(Out):
    kind: str = Field(description='"missing" (少件), "damaged" (破损) or "wrong" (错发)')
    cases: int
    rate_bps: int | None


class StarCountOut(Out):
    stars: int
    reviews: int


class FiguresOut(Out):
    """A supplier's figures over one period (definitions: docs/ARCHITECTURE.md)."""

    orders: int = Field(description="orders of its goods paid in the period")
    aftersale_cases: int = Field(description="after-sale cases not rejected on those orders")
    aftersale_rate_bps: int | None
    aftersale_by_reason: list[CaseRateOut]
    reviews: int = Field(description="published (verified buyers') reviews")
    rating: float | None = Field(description="their average, to two decimals")
    rating_distribution: list[StarCountOut]
    shipments_due: int = Field(description="shipments to pickup points due in the period")
    shipments_on_time: int
    on_time_rate_bps: int | None
    waves: int = Field(description="settled waves, by cut-off")
    failed_moq_waves: int = Field(description="waves where no item reached its MOQ")
    partly_failed_moq_waves: int
    failed_moq_share_bps: int | None

    @classmethod
    def of(cls, f: service.Figures) -> FiguresOut:
        return cls.model_construct(
            orders=f.orders,
            aftersale_cases=f.case_total,
            aftersale_rate_bps=f.aftersale_bps,
            aftersale_by_reason=[
                CaseRateOut.model_construct(
                    kind=k, cases=f.cases.get(k, 0), rate_bps=f.aftersale_bps_of(k)
                )
                for k in CASE_KINDS
            ],
            reviews=f.reviews,
            rating=f.rating,
            rating_distribution=[
                StarCountOut.model_construct(stars=s, reviews=f.stars.get(s, 0)) for s in STARS
            ],
            shipments_due=f.shipments,
            shipments_on_time=f.on_time,
            on_time_rate_bps=f.on_time_bps,
            waves=f.waves,
            failed_moq_waves=f.failed_waves,
            partly_failed_moq_waves=f.partly_failed_waves,
            failed_moq_share_bps=f.failed_moq_bps,
        )


class FlagOut(Out):
    reason: str = Field(description='"aftersale_rate", "rating", "on_time" or "failed_moq"')
    value: int = Field(description="the figure: basis points (the rating: hundredths of a star)")
    limit: int = Field(description="its threshold, in the same unit")


class SupplierQualityOut(Out):
    """A supplier's quality record: the window's figures (which flag it) and all time's."""

    supplier_id: int
    name: str
    flagged: bool
    flags: list[FlagOut]
    window_days: int
    since: Iso
    window: FiguresOut
    all_time: FiguresOut

    @classmethod
    def of(cls, r: service.Record) -> SupplierQualityOut:
        return cls.model_construct(
            supplier_id=r.supplier_id,
            name=r.name,
            flagged=r.flagged,
            flags=[
                FlagOut.model_construct(reason=str(f.reason), value=f.value, limit=f.limit)
                for f in r.flags
            ],
            window_days=r.thresholds.window_days,
            since=clock.iso(r.since),
            window=FiguresOut.of(r.window),
            all_time=FiguresOut.of(r.all_time),
        )
