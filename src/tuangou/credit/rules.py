"""The leader credit score (团长信用): a pure function of counts, with its parts.

No database and no framework here (ENGINEERING.md rule 3); ``credit.service`` gathers
the counts and applies the result.

The score is 0–100, the sum of five parts, each ``weight × value`` rounded to whole points,
where a part's value is 0–1 (1 is best):

=============  ======  ==============================================================
part           weight  value
=============  ======  ==============================================================
receipt        25      shipments received at the pickup point by the delivery date ÷
                       shipments due (按时收货)
pickup         20      orders picked up ÷ (picked up + left unpicked) (提货完成)
after_sale     20      1 − rate ÷ 20%, rate = accepted after-sale cases ÷ picked-up orders
                       (0 at a rate of 20% or more)
complaint      15      1 − rate ÷ 30%, rate = after-sale cases of any outcome ÷ orders
                       (0 at 30% or more)
rating         20      (mean stars − 1) ÷ 4, of the members' ratings of their pickups
=============  ======  ==============================================================

Every share, rate and mean starts from a prior of ``PRIOR_WEIGHT`` imaginary observations
at its neutral level (``NEUTRAL_VALUE`` = 0.8 of the part's weight), so a new leader with no
history scores 80, above the threshold of 60, and a single bad order moves the score a
little, not to the floor; a long history outweighs the prior. Because the prior is added to
the counts (not to the values), each part only improves when a good count grows (more on
time, more picked up, more orders) or a bad one shrinks (fewer cases, fewer unpicked): the
score is monotone in every good part.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

THRESHOLD = 60  # below this a leader cannot publish or adopt waves, and is paused daily
WINDOW_DAYS = 90  # the history that counts: orders, cases and ratings of the last 90 days
PRIOR_WEIGHT = 5  # imaginary observations at the neutral level
NEUTRAL_VALUE = Fraction(4, 5)  # a part's value with no history (0.8)

WEIGHTS: dict[str, int] = {
    "receipt": 25,
    "pickup": 20,
    "after_sale": 20,
    "complaint": 15,
    "rating": 20,
}
AFTER_SALE_ZERO_RATE = Fraction(1, 5)  # 20% accepted after-sale cases: no points
COMPLAINT_ZERO_RATE = Fraction(3, 10)  # 30% cases of any outcome: no points

LABELS: dict[str, tuple[str, str]] = {
    "receipt": ("按时收货", "Goods received on time"),
    "pickup": ("提货完成率", "Orders picked up"),
    "after_sale": ("售后率", "After-sale refunds"),
    "complaint": ("投诉率", "Complaints"),
    "rating": ("提货评分", "Members' pickup ratings"),
}


@dataclass(frozen=True)
class CreditFacts:
    """What a leader's credit is computed from (counts over ``WINDOW_DAYS``)."""

    shipments: int = 0  # pickup-point shipments due (or received) so far
    on_time: int = 0  # of them, received by the wave's delivery date
    completed: int = 0  # orders picked up
    unpicked: int = 0  # orders left unpicked (refunded or kept by the wave's policy)
    orders: int = 0  # orders confirmed at cut-off
    cases: int = 0  # after-sale cases opened, of any outcome
    accepted: int = 0  # of them, accepted
    ratings: int = 0  # pickup ratings
    stars: int = 0  # their stars, summed

    def check(self) -> None:
        counts = (
            self.shipments,
            self.on_time,
            self.completed,
            self.unpicked,
            self.orders,
            self.cases,
            self.accepted,
            self.ratings,
            self.stars,
        )
        if min(counts) < 0:
            raise ValueError("counts cannot be negative")
        if self.on_time > self.shipments:
            raise ValueError("more shipments on time than shipments")
        if self.accepted > self.cases:
            raise ValueError("more accepted cases than cases")
        if not self.ratings <= self.stars <= 5 * self.ratings:
            raise ValueError("each rating has 1 to 5 stars")


@dataclass(frozen=True)
class Part:
    name: str
    weight: int
    value: Fraction  # 0..1 after the prior
    observed: Fraction | None  # the raw share, rate or mean; None without data
    sample: int  # how many observations it rests on
    points: int  # weight × value, rounded half up


@dataclass(frozen=True)
class Credit:
    score: int
    parts: tuple[Part, ...]
    threshold: int

    @property
    def below_threshold(self) -> bool:
        return self.score < self.threshold


def _smoothed(good: Fraction | int, n: int, prior: Fraction) -> Fraction:
    """(observations + prior × PRIOR_WEIGHT) ÷ (n + PRIOR_WEIGHT)."""
    return (Fraction(good) + prior * PRIOR_WEIGHT) / (n + PRIOR_WEIGHT)


def _clamp(x: Fraction) -> Fraction:
    return min(Fraction(1), max(Fraction(0), x))


def _points(weight: int, value: Fraction) -> int:
    exact = weight * value
    return int(exact + Fraction(1, 2))  # half up; exact is never negative


def _share_part(name: str, good: int, n: int) -> Part:
    value = _clamp(_smoothed(good, n, NEUTRAL_VALUE))
    observed = Fraction(good, n) if n else None
    weight = WEIGHTS[name]
    return Part(name, weight, value, observed, n, _points(weight, value))


def _rate_part(name: str, bad: int, n: int, zero_rate: Fraction) -> Part:
    # The neutral rate is the one whose value is NEUTRAL_VALUE.
    neutral_rate = (1 - NEUTRAL_VALUE) * zero_rate
    rate = _smoothed(bad, n, neutral_rate)
    value = _clamp(1 - rate / zero_rate)
    observed = Fraction(bad, n) if n else None
    weight = WEIGHTS[name]
    return Part(name, weight, value, observed, n, _points(weight, value))


def score(facts: CreditFacts, *, threshold: int = THRESHOLD) -> Credit:
    """The credit score and its parts; ``score`` is exactly the sum of the parts' points."""
    facts.check()
    neutral_mean = 1 + 4 * NEUTRAL_VALUE  # 4.2 stars
    mean = _smoothed(facts.stars, facts.ratings, neutral_mean)
    rating_value = _clamp((mean - 1) / 4)
    parts = (
        _share_part("receipt", facts.on_time, facts.shipments),
        _share_part("pickup", facts.completed, facts.completed + facts.unpicked),
        # A case can be accepted before pickup: the rate rests on at least the cases.
        _rate_part(
            "after_sale",
            facts.accepted,
            max(facts.completed, facts.accepted),
            AFTER_SALE_ZERO_RATE,
        ),
        _rate_part("complaint", facts.cases, max(facts.orders, facts.cases), COMPLAINT_ZERO_RATE),
        Part(
            "rating",
            WEIGHTS["rating"],
            rating_value,
            Fraction(facts.stars, facts.ratings) if facts.ratings else None,
            facts.ratings,
            _points(WEIGHTS["rating"], rating_value),
        ),
    )
    return Credit(sum(p.points for p in parts), parts, threshold)
