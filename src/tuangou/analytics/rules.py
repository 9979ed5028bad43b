"""Pure computations of the operator's dashboard: rates, day buckets, rankings."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date, timedelta
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` (0 to 1), or None when there is nothing to measure."""
    if whole <= 0:
        return None
    return part / whole


def percent(value: float | None) -> str:
    """A rate as a whole percentage ("83%"), or an em dash when there is none."""
    return "—" if value is None else f"{round(value * 100)}%"


def window(today: date, days: int) -> list[date]:
    """The ``days`` calendar days ending with ``today``, oldest first."""
    if days < 1:
        raise ValueError("a window has at least one day")
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def per_day(days: list[date], rows: Iterable[tuple[date, int]]) -> list[int]:
    """The sum of the amounts of ``rows`` on each of ``days`` (rows outside are ignored)."""
    totals = dict.fromkeys(days, 0)
    for day, amount in rows:
        if day in totals:
            totals[day] += amount
    return [totals[d] for d in days]


def top(amounts: dict[K, int], n: int) -> list[tuple[K, int]]:
    """The ``n`` largest amounts, largest first; ties keep the order the keys came in."""
    ranked = sorted(enumerate(amounts.items()), key=lambda pair: (-pair[1][1], pair[0]))
    return [item for _, item in ranked[:n]]


def age_seconds(seconds: float) -> int:
    """An age never goes below zero (a clock moved back, a row written a moment later)."""
    return max(0, int(seconds))
