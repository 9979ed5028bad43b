"""Pure rules of verified-buyer reviews (晒单): who may write one, what it holds, and the
honest summary of a set of them (the count, the distribution of stars, the average)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

MIN_RATING = 1
MAX_RATING = 5
STARS = tuple(range(MIN_RATING, MAX_RATING + 1))
TEXT_MAX = 1000  # characters of a review's text (0 allowed: a rating with photos says enough)
REPLY_MAX = 500  # characters of the one public reply
MAX_PHOTOS = 9
PHOTO_OWNER = "review"  # the owner kind of a review's photos (photos.service)
PAGE_SIZE = 20
PAGE_MAX = 50
# A one-SKU order (team, solo, flash, bargain) has one line: its own, numbered 0. A wave
# order's lines are its wave order lines, by their ids.
SINGLE_LINE = 0
# The order statuses whose order was completed once (picked up, or receipt confirmed): a
# completed order, or a completed order refunded later by an after-sale case.
# ``completed_at`` is what the service checks: set at completion, never cleared.


class ReviewStatus(StrEnum):
    PUBLISHED = "published"  # shown to everyone, counted in the summaries
    HELD = "held"  # the text filter matched: waits for a moderator, shown to its author only
    HIDDEN = "hidden"  # a moderator hid it: shown to its author (and moderators) only


class ReplierRole(StrEnum):
    LEADER = "leader"  # the leader of the wave the order was placed in
    SUPPLIER = "supplier"  # the supplier of the SKU


def valid_rating(value: int) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and MIN_RATING <= value <= MAX_RATING
    )


@dataclass(frozen=True)
class Summary:
    """What a page says of a set of published reviews: how many, how many of each star
    (1..5, zeros included), and the average with one decimal (None: no reviews yet)."""

    count: int
    stars: dict[int, int]
    average: str | None

    @property
    def empty(self) -> bool:
        return self.count == 0

    def share(self, star: int) -> int:
        """The per cent of the reviews with ``star`` stars (for the bar chart), rounded."""
        if not self.count:
            return 0
        return (self.stars.get(star, 0) * 100 * 2 + self.count) // (self.count * 2)


def summarise(counts: Mapping[int, int]) -> Summary:
    """The summary of a distribution ``{stars: count}``: the average rounded half up to one
    decimal, in integer arithmetic (4.25 → "4.3"), from the same counts the chart shows."""
    stars = {s: int(counts.get(s, 0)) for s in STARS}
    count = sum(stars.values())
    if not count:
        return Summary(count=0, stars=stars, average=None)
    total = sum(s * n for s, n in stars.items())
    tenths = (total * 20 + count) // (count * 2)  # round(total * 10 / count), half up
    return Summary(count=count, stars=stars, average=f"{tenths // 10}.{tenths % 10}")


def excerpt(text: str, limit: int = 80) -> str:
    """The start of a review's text, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
