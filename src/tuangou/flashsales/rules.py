"""Pure rules of a flash sale (秒杀): the slots of a day, a slot's state, why a purchase is
refused before any stock is looked at."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

MAX_SLOTS_PER_DAY = 24
MAX_STOCK = 100_000  # a flash slot is small stock at a deep price (the refusals say these)
MAX_MINUTES = 12 * 60
MAX_HOLD_MINUTES = 30
DEFAULT_MINUTES = 60
DEFAULT_HOLD_MINUTES = 5

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class SlotState(StrEnum):
    """upcoming → live → (sold_out ⇄ live while holds are released) → over."""

    UPCOMING = "upcoming"
    LIVE = "live"
    SOLD_OUT = "sold_out"
    OVER = "over"


def parse_times(times: list[str]) -> list[tuple[int, int]]:
    """``["10:00", "14:00"]`` as (hour, minute) pairs, sorted; ValueError naming the first bad
    one, or a time given twice."""
    found: list[tuple[int, int]] = []
    for raw in times:
        match = _TIME.match(raw.strip())
        if match is None:
            raise ValueError(f"{raw!r} is not a time of day (HH:MM)")
        found.append((int(match.group(1)), int(match.group(2))))
    if not found:
        raise ValueError("give at least one time of day")
    if len(found) > MAX_SLOTS_PER_DAY:
        raise ValueError(f"at most {MAX_SLOTS_PER_DAY} slots a day")
    if len(set(found)) != len(found):
        raise ValueError("a time of day is given twice")
    return sorted(found)


def overlapping(times: list[tuple[int, int]], minutes: int) -> bool:
    """Whether slots starting at ``times`` (sorted) and lasting ``minutes`` overlap."""
    starts = [h * 60 + m for h, m in times]
    return any(b - a < minutes for a, b in pairwise(starts))


def state(now: datetime, starts_at: datetime, ends_at: datetime, left: int) -> SlotState:
    if now >= ends_at:
        return SlotState.OVER
    if now < starts_at:
        return SlotState.UPCOMING
    return SlotState.LIVE if left > 0 else SlotState.SOLD_OUT


def timing_refusal(now: datetime, starts_at: datetime, ends_at: datetime) -> str | None:
    """``"not_started"`` or ``"over"`` when a purchase cannot be made at ``now``, else None."""
    if now < starts_at:
        return "not_started"
    if now >= ends_at:
        return "over"
    return None


def quantity_refusal(quantity: int, per_order_cap: int) -> str | None:
    if quantity < 1:
        return "buy at least one"
    if quantity > per_order_cap:
        return f"at most {per_order_cap} per order"
    return None
