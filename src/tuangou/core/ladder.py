"""A price ladder: ``(threshold, unit price)`` steps that lower the price as a count grows.

A team buy's tiers count paid members, a wave item's count the units sold across the wave;
both are the same ladder: thresholds strictly grow, prices strictly fall and stay positive,
and the price reached is that of the highest step whose threshold the count meets.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

Step = tuple[int, int]


class LadderError(ValueError):
    """A ladder that breaks a rule; the message says which."""


def normalise(raw: Sequence[Sequence[int]]) -> list[Step]:
    return [(int(threshold), int(price)) for threshold, price in raw]


def check(steps: Sequence[Step], *, counts: str, above: int | None = None) -> None:
    """Raise :class:`LadderError` unless thresholds strictly grow (``counts`` names what they
    count, for the message) and prices strictly fall and stay positive. With ``above`` (a
    base price the ladder lowers) the first step must be below it, at a positive count."""
    base = [(0, above)] if above is not None else []
    check_thresholds([*base, *steps], counts=counts)
    if any(p2 >= p1 for (_, p1), (_, p2) in pairwise([*base, *steps])):
        raise LadderError("each tier must be strictly cheaper than the one before")
    if any(price <= 0 for _, price in steps):
        raise LadderError("tier prices must be positive")


def check_thresholds(steps: Sequence[Step], *, counts: str) -> None:
    if any(t2 <= t1 for (t1, _), (t2, _) in pairwise(steps)):
        raise LadderError(f"tier {counts} must strictly grow")


def price_at(steps: Sequence[Step], count: int, *, below: int) -> int:
    """The price of the highest step ``count`` reaches; ``below`` when it reaches none."""
    reached = index_at(steps, count)
    return steps[reached][1] if reached >= 0 else below


def index_at(steps: Sequence[Step], count: int) -> int:
    """The index of the highest step ``count`` reaches, or -1 when it reaches none."""
    reached = -1
    for i, (threshold, _) in enumerate(steps):
        if count >= threshold:
            reached = i
    return reached


def next_step(steps: Sequence[Step], count: int) -> Step | None:
    """The first step ``count`` has not reached yet, if any."""
    return next((step for step in steps if count < step[0]), None)
