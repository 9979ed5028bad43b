"""The one price ladder of team tiers and wave tiers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuangou.core import ladder


@st.composite
def ladders(draw: st.DrawFn) -> tuple[list[ladder.Step], int]:
    """A valid ladder below a base price: thresholds grow, prices fall, all positive."""
    n = draw(st.integers(1, 5))
    thresholds = sorted(draw(st.sets(st.integers(1, 200), min_size=n, max_size=n)))
    prices = sorted(draw(st.sets(st.integers(1, 10_000), min_size=n + 1, max_size=n + 1)))
    base, *falling = reversed(prices)
    return list(zip(thresholds, falling, strict=True)), base


@given(ladders(), st.integers(0, 300), st.integers(0, 300))
def test_more_never_costs_more(built: tuple[list[ladder.Step], int], a: int, b: int) -> None:
    steps, base = built
    ladder.check(steps, counts="quantities", above=base)
    low, high = sorted((a, b))
    assert ladder.price_at(steps, high, below=base) <= ladder.price_at(steps, low, below=base)


@given(ladders(), st.integers(0, 300))
def test_the_price_is_the_highest_step_reached(
    built: tuple[list[ladder.Step], int], n: int
) -> None:
    steps, base = built
    reached = [price for threshold, price in steps if n >= threshold]
    assert ladder.price_at(steps, n, below=base) == (reached[-1] if reached else base)
    assert ladder.index_at(steps, n) == len(reached) - 1
    nxt = ladder.next_step(steps, n)
    assert nxt == (steps[len(reached)] if len(reached) < len(steps) else None)


@pytest.mark.parametrize(
    ("steps", "above", "message"),
    [
        ([(5, 900), (5, 800)], None, "tier sizes must strictly grow"),
        ([(5, 900), (3, 800)], None, "tier sizes must strictly grow"),
        ([(2, 900), (5, 900)], None, "strictly cheaper"),
        ([(2, 1000)], 1000, "strictly cheaper"),
        ([(0, 900)], 1000, "tier sizes must strictly grow"),
        ([(2, 0)], None, "positive"),
    ],
)
def test_a_broken_ladder_is_refused(
    steps: list[ladder.Step], above: int | None, message: str
) -> None:
    with pytest.raises(ladder.LadderError, match=message):
        ladder.check(steps, counts="sizes", above=above)
