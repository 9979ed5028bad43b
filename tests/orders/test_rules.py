"""Property tests of an order's money rules (escrow, refundable, operator fee), no database."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from tuangou.orders import rules

FEN = st.integers(0, 10_000_000)


@st.composite
def order_money(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """(paid, subsidy, refunded, released) as the services can produce them: refunds and
    releases never take more than escrow held."""
    paid = draw(FEN)
    subsidy = draw(st.integers(0, 1_000_000))
    refunded = draw(st.integers(0, paid))
    released = draw(st.integers(0, paid + subsidy - refunded))
    return paid, subsidy, refunded, released


@given(order_money())
def test_escrow_is_what_came_in_less_what_went_out(m: tuple[int, int, int, int]) -> None:
    paid, subsidy, refunded, released = m
    held = rules.in_escrow(paid, subsidy, refunded, released)
    assert held == paid + subsidy - refunded - released
    assert held >= 0


@given(order_money())
def test_refundable_is_never_negative_nor_more_than_the_members_money(
    m: tuple[int, int, int, int],
) -> None:
    paid, subsidy, refunded, released = m
    left = rules.refundable(paid, subsidy, refunded, released)
    assert left >= 0
    # Never more than the member paid and has not had back ...
    assert refunded + left <= paid
    # ... and never more than escrow still holds for the order.
    assert left <= rules.in_escrow(paid, subsidy, refunded, released)


@given(FEN, st.integers(0, 1_000_000), st.integers(-1_000_000, 10_000_000), FEN)
def test_refundable_never_negative_even_on_odd_figures(
    paid: int, subsidy: int, refunded: int, released: int
) -> None:
    assert rules.refundable(paid, subsidy, refunded, released) >= 0


@given(FEN, st.integers(0, 1_000_000))
def test_an_untouched_order_refunds_exactly_what_was_paid(paid: int, subsidy: int) -> None:
    # A subsidy never goes to the member as cash.
    assert rules.refundable(paid, subsidy, 0, 0) == paid


@given(FEN, st.integers(0, 10_000))
def test_fee_split_sums_back_and_rounds_half_up(kept: int, bps: int) -> None:
    supplier, fee = rules.fee_split(kept, bps)
    assert supplier + fee == kept
    assert 0 <= fee <= kept
    assert supplier >= 0
    exact = Fraction(kept * bps, 10_000)
    # Half up: the fee is the exact fee rounded to the nearest fen, halves going up.
    assert fee - exact <= Fraction(1, 2)
    assert exact - fee < Fraction(1, 2)
    assert fee == int(exact + Fraction(1, 2))


def test_fee_examples() -> None:
    assert rules.fee_split(1990, 0) == (1990, 0)
    assert rules.fee_split(1000, 250) == (975, 25)
    assert rules.fee_split(1, 5000) == (0, 1)  # half a fen rounds up
    assert rules.fee_split(1, 4999) == (1, 0)
    assert rules.fee_split(1990, 10_000) == (0, 1990)


def test_refund_reasons_cover_every_way_money_goes_back() -> None:
    assert {
        "price_protection",
        "team_failed",
        "left_team",
        "opener_free",
        "late_payment",
    } <= rules.REFUND_REASONS
    assert rules.IN_ESCROW <= rules.LIVE
