"""Pure rules of the supplier quality record (品控): what each figure means, and when the
operator's thresholds flag a supplier.

The definitions, written once (the pages and docs/ARCHITECTURE.md show the same words):

* **Orders of its goods**: the supplier's orders of every kind ever paid, counted by when
  they were paid.
* **After-sale rate**: after-sale cases not rejected (open or accepted) on those orders, per
  reason (少件 missing, 破损 damaged, 错发 wrong) and in all, over the orders. A rejected
  case was found unfounded and does not count against the supplier.
* **Rating**: the published reviews of its goods (every review is a verified buyer's, of a
  completed order line), counted by when they were written: their number, their average and
  how many of each star.
* **On-time shipment rate**: of each settled wave of the supplier, each pickup point with
  goods to deliver (an order line confirmed there) is one shipment, due by the end of the
  wave's delivery date (the deployment's time zone). It was on time if the goods were
  marked shipped (or, never marked, received by the leader) before then; late if that came
  after, or if nothing had come by then (goods refunded as undelivered are late). A
  shipment not yet due and not yet sent is not counted. Waves counted by their cut-off.
* **Failed MOQ waves**: of the supplier's settled waves (by their cut-off), those where no
  item reached its minimum (every item cancelled at the cut-off), and their share of them.
  Waves where only some items failed are shown beside, never flagged.

A threshold judges a figure only over enough of it: ``min_sample`` orders, shipments or
waves, ``min_reviews`` reviews; below that the figure is shown and flags nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

CASE_KINDS = ("missing", "damaged", "wrong")
STARS = (1, 2, 3, 4, 5)
DEFAULT_WINDOW_DAYS = 90


class FlagReason(StrEnum):
    AFTERSALE_RATE = "aftersale_rate"
    RATING = "rating"
    ON_TIME = "on_time"
    FAILED_MOQ = "failed_moq"


@dataclass(frozen=True)
class Thresholds:
    """The operator's thresholds (rates in basis points, the rating in tenths of a star)."""

    window_days: int = DEFAULT_WINDOW_DAYS
    max_aftersale_bps: int = 500  # after-sale rate above 5%
    min_rating_tenths: int = 40  # average rating below 4.0 …
    min_reviews: int = 5  # … over at least 5 reviews
    min_on_time_bps: int = 9000  # on-time shipments below 90%
    max_failed_moq_bps: int = 3000  # failed MOQ waves above 30%
    min_sample: int = 5  # orders, shipments or waves a rate needs before it flags


DEFAULTS = Thresholds()

# (field, lowest, highest): the bounds the database's CHECKs hold too.
BOUNDS: tuple[tuple[str, int, int], ...] = (
    ("window_days", 7, 365),
    ("max_aftersale_bps", 0, 10000),
    ("min_rating_tenths", 10, 50),
    ("min_reviews", 1, 100000),
    ("min_on_time_bps", 0, 10000),
    ("max_failed_moq_bps", 0, 10000),
    ("min_sample", 1, 100000),
)


def thresholds_problem(t: Thresholds) -> tuple[str, int, int] | None:
    """The first field out of its bounds, with them; None when every field is in."""
    for name, low, high in BOUNDS:
        value = getattr(t, name)
        if not isinstance(value, int) or not low <= value <= high:
            return name, low, high
    return None


def rate_bps(part: int, whole: int) -> int | None:
    """``part / whole`` in basis points, rounded half up; None when there is no whole."""
    if whole <= 0:
        return None
    return (part * 10000 * 2 + whole) // (whole * 2)


def on_time(sent_at: datetime | None, due_at: datetime, now: datetime) -> bool | None:
    """A shipment's verdict: True on time, False late, None not yet due (not counted)."""
    if sent_at is not None:
        return sent_at < due_at
    if now >= due_at:
        return False
    return None


@dataclass(frozen=True)
class Figures:
    """A supplier's figures over one period (the window, or all time)."""

    orders: int = 0
    cases: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(CASE_KINDS, 0))
    stars: Mapping[int, int] = field(default_factory=lambda: dict.fromkeys(STARS, 0))
    shipments: int = 0  # due (counted)
    on_time: int = 0
    waves: int = 0  # settled
    failed_waves: int = 0  # every item below its MOQ
    partly_failed_waves: int = 0  # some items below their MOQ, some confirmed

    @property
    def case_total(self) -> int:
        return sum(self.cases.values())

    @property
    def aftersale_bps(self) -> int | None:
        return rate_bps(self.case_total, self.orders)

    def aftersale_bps_of(self, kind: str) -> int | None:
        return rate_bps(self.cases.get(kind, 0), self.orders)

    @property
    def reviews(self) -> int:
        return sum(self.stars.values())

    @property
    def star_sum(self) -> int:
        return sum(star * n for star, n in self.stars.items())

    @property
    def rating(self) -> float | None:
        """The average rating, to two decimals; None without reviews."""
        if not self.reviews:
            return None
        return round(self.star_sum / self.reviews, 2)

    @property
    def on_time_bps(self) -> int | None:
        return rate_bps(self.on_time, self.shipments)

    @property
    def failed_moq_bps(self) -> int | None:
        return rate_bps(self.failed_waves, self.waves)


@dataclass(frozen=True)
class Flag:
    """Why a supplier is flagged: the figure (``value``) against its threshold (``limit``),
    in basis points (the rating in hundredths of a star, its limit in tenths × 10)."""

    reason: FlagReason
    value: int
    limit: int


def flags(figures: Figures, t: Thresholds) -> list[Flag]:
    """The reasons the window's figures flag a supplier (empty: not flagged)."""
    found: list[Flag] = []
    after = figures.aftersale_bps
    if figures.orders >= t.min_sample and after is not None and after > t.max_aftersale_bps:
        found.append(Flag(FlagReason.AFTERSALE_RATE, after, t.max_aftersale_bps))
    # Exact: sum of stars / reviews < min_rating_tenths / 10.
    if figures.reviews >= t.min_reviews and figures.star_sum * 10 < t.min_rating_tenths * (
        figures.reviews
    ):
        hundredths = (figures.star_sum * 100 * 2 + figures.reviews) // (figures.reviews * 2)
        found.append(Flag(FlagReason.RATING, hundredths, t.min_rating_tenths * 10))
    timely = figures.on_time_bps
    if figures.shipments >= t.min_sample and timely is not None and timely < t.min_on_time_bps:
        found.append(Flag(FlagReason.ON_TIME, timely, t.min_on_time_bps))
    failed = figures.failed_moq_bps
    if figures.waves >= t.min_sample and failed is not None and failed > t.max_failed_moq_bps:
        found.append(Flag(FlagReason.FAILED_MOQ, failed, t.max_failed_moq_bps))
    return found
