"""Pure rules of a wave: MOQ and tier settlement, price protection, the pickup split."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tuangou.commission.rules import DEFAULT_OVERRIDE_BPS, split
from tuangou.pools import rules


@st.composite
def ladders(draw: st.DrawFn, *, base: int | None = None) -> tuple[int, list[tuple[int, int]]]:
    """A base price and a valid tier ladder: quantities grow, prices strictly fall."""
    price = base if base is not None else draw(st.integers(2, 100_000))
    n = draw(st.integers(0, 5))
    quantities = sorted(draw(st.sets(st.integers(1, 500), min_size=n, max_size=n)))
    tiers: list[tuple[int, int]] = []
    unit = price
    for q in quantities:
        if unit <= 1:
            break
        unit = draw(st.integers(1, unit - 1))
        tiers.append((q, unit))
    return price, tiers


@given(ladders(), st.integers(1, 200), st.integers(0, 1000))
def test_confirmed_exactly_when_the_total_reaches_the_moq(ladder, moq, total) -> None:
    price, tiers = ladder
    outcome = rules.settle_item(price=price, tiers=tiers, moq=moq, total=total)
    assert outcome.confirmed == (total >= moq)
    if outcome.confirmed:
        assert outcome.final_unit_price == rules.unit_price_at(price, tiers, total)
    else:
        assert outcome.final_unit_price is None


@given(ladders(), st.integers(0, 1000), st.integers(0, 1000))
def test_final_price_never_above_base_and_never_rises_with_the_total(ladder, a, b) -> None:
    price, tiers = ladder
    low, high = sorted((a, b))
    at_low = rules.unit_price_at(price, tiers, low)
    at_high = rules.unit_price_at(price, tiers, high)
    assert 0 < at_high <= at_low <= price
    # The price is the base or the price of the last tier reached, never anything else.
    reached = [unit for q, unit in tiers if high >= q]
    assert at_high == (reached[-1] if reached else price)


@given(ladders(), st.integers(0, 1000))
def test_next_tier_is_the_first_one_not_yet_reached(ladder, total) -> None:
    price, tiers = ladder
    nxt = rules.next_tier(tiers, total)
    ahead = [t for t in tiers if t[0] > total]
    assert nxt == (ahead[0] if ahead else None)
    if nxt is not None:
        # Reaching it lowers the price.
        assert rules.unit_price_at(price, tiers, nxt[0]) < rules.unit_price_at(price, tiers, total)


@given(ladders())
def test_valid_ladders_pass_validation(ladder) -> None:
    price, tiers = ladder
    rules.validate_item(price=price, tiers=tiers, moq=1, stock=10, per_member_limit=1)


@given(ladders(), st.data())
def test_a_ladder_that_does_not_fall_strictly_is_refused_on_tiers(ladder, data) -> None:
    price, tiers = ladder
    assume(tiers)
    i = data.draw(st.integers(0, len(tiers) - 1))
    q, _ = tiers[i]
    before = tiers[i - 1][1] if i else price
    broken = list(tiers)
    broken[i] = (q, data.draw(st.integers(before, before + 1000)))  # not cheaper
    with pytest.raises(rules.RuleViolation) as exc:
        rules.validate_item(price=price, tiers=broken, moq=1, stock=10, per_member_limit=1)
    assert exc.value.field == "tiers"


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(1, 50)), min_size=2, max_size=5))
def test_tier_quantities_must_strictly_grow(pairs) -> None:
    quantities = [q for q, _ in pairs]
    growing = all(b > a for a, b in pairwise(quantities))
    if growing:
        assert rules.ordered_pairs(pairs) == pairs
    else:
        with pytest.raises(rules.RuleViolation) as exc:
            rules.ordered_pairs(pairs)
        assert exc.value.field == "tiers"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"price": 0}, "price"),
        ({"moq": 0}, "moq"),
        ({"stock": 4, "moq": 5}, "stock"),
        ({"per_member_limit": 0}, "per_member_limit"),
        ({"tiers": [(5, 0)]}, "tiers"),
    ],
)
def test_item_settings_that_break_a_rule_name_their_field(kwargs, field) -> None:
    settings = {"price": 1000, "tiers": [], "moq": 5, "stock": 50, "per_member_limit": 3}
    with pytest.raises(rules.RuleViolation) as exc:
        rules.validate_item(**{**settings, **kwargs})
    assert exc.value.field == field


@given(st.integers(1, 100_000), st.integers(0, 100_000), st.integers(1, 100))
def test_protection_refund_is_the_difference_and_never_negative(charged, final, quantity) -> None:
    if final > charged:
        with pytest.raises(ValueError):
            rules.protection_refund(charged, final, quantity)
        return
    refund = rules.protection_refund(charged, final, quantity)
    assert refund >= 0
    assert refund == (charged - final) * quantity
    assert refund + final * quantity == charged * quantity  # paid = kept + refunded


@given(
    st.lists(
        st.tuples(ladders(), st.integers(1, 100), st.integers(1, 20), st.integers(0, 300)),
        min_size=1,
        max_size=4,
    )
)
def test_an_order_keeps_its_final_prices_and_gets_back_the_rest(lines) -> None:
    """One order's lines over items with their own outcome: paid = kept + refunded, where
    kept is Σ final price × quantity over confirmed lines, and nothing goes negative."""
    paid = kept = refunded = 0
    for (price, tiers), moq, quantity, others in lines:
        total = others + quantity
        outcome = rules.settle_item(price=price, tiers=tiers, moq=moq, total=total)
        paid += price * quantity
        if outcome.confirmed:
            assert outcome.final_unit_price is not None
            kept += outcome.final_unit_price * quantity
            refunded += rules.protection_refund(price, outcome.final_unit_price, quantity)
        else:
            refunded += price * quantity  # below the MOQ: all of it back
    assert kept >= 0 and refunded >= 0
    assert paid == kept + refunded


def _rounded(amount: int, bps: int) -> int:
    """The exact rate, rounded half up (checked with fractions, not the code's integers)."""
    exact = Fraction(amount * bps, 10_000)
    return int(exact + Fraction(1, 2)) if exact > 0 else 0


rates = st.integers(0, rules.MAX_COMMISSION_BPS)


@given(st.integers(0, 10_000_000), rates, st.integers(0, 500), st.integers(0, 1000))
def test_split_parts_sum_to_the_amount_and_each_is_its_rounded_rate(
    amount, commission, override, fee
) -> None:
    parts = split(amount, commission_bps=commission, override_bps=override, fee_bps=fee)
    assert parts.supplier + parts.leader + parts.upline + parts.fee == amount
    assert parts.leader == _rounded(amount, commission)
    assert parts.upline == _rounded(amount, override)
    assert parts.fee == _rounded(amount, fee)
    assert min(parts.supplier, parts.leader, parts.upline, parts.fee) >= 0
    # A rounding error of at most half a fen per part.
    assert abs(parts.leader * 10_000 - amount * commission) <= 5_000


@given(st.integers(1, 10_000_000), rates, st.integers(0, 500), st.integers(0, 1000))
def test_split_never_pays_a_leader_more_than_a_higher_rate_would(
    amount, commission, override, fee
) -> None:
    lower = split(amount, commission_bps=commission, override_bps=override, fee_bps=fee)
    higher = split(amount, commission_bps=commission + 1, override_bps=override, fee_bps=fee)
    assert lower.leader <= higher.leader
    assert lower.supplier >= higher.supplier


@st.composite
def rate_triples(draw: st.DrawFn) -> tuple[int, int, int]:
    """Any three rates that together take at most the whole amount."""
    commission = draw(st.integers(0, 10_000))
    override = draw(st.integers(0, 10_000 - commission))
    fee = draw(st.integers(0, 10_000 - commission - override))
    return commission, override, fee


@given(st.integers(0, 1000), rate_triples())
def test_split_never_takes_more_than_the_amount_even_when_the_rates_take_it_all(
    amount, triple
) -> None:
    commission, override, fee = triple
    parts = split(amount, commission_bps=commission, override_bps=override, fee_bps=fee)
    assert parts.supplier + parts.leader + parts.upline + parts.fee == amount
    assert min(parts.supplier, parts.leader, parts.upline, parts.fee) >= 0
    # Each part is its rounded rate, or what is left when the roundings would overshoot.
    assert parts.leader == min(_rounded(amount, commission), amount)
    assert parts.upline == min(_rounded(amount, override), amount - parts.leader)
    assert parts.fee == min(_rounded(amount, fee), amount - parts.leader - parts.upline)


def test_split_of_one_fen_between_two_half_rates_leaves_the_supplier_at_zero() -> None:
    parts = split(1, commission_bps=5000, override_bps=0, fee_bps=5000)
    assert (parts.supplier, parts.leader, parts.fee) == (0, 1, 0)


def test_split_refuses_negative_amounts_and_rates_above_the_whole() -> None:
    with pytest.raises(ValueError):
        split(-1, commission_bps=1000, override_bps=0, fee_bps=0)
    with pytest.raises(ValueError):
        split(100, commission_bps=5000, override_bps=4000, fee_bps=1001)


@given(st.integers(-10_000, 20_000))
def test_commission_rates_are_zero_to_fifty_percent(bps) -> None:
    if 0 <= bps <= rules.MAX_COMMISSION_BPS:
        rules.validate_commission(bps)
    else:
        with pytest.raises(rules.RuleViolation) as exc:
            rules.validate_commission(bps)
        assert exc.value.field == "commission_bps"


def test_the_largest_rates_allowed_never_exceed_the_whole_amount() -> None:
    """The operator's fee setting is capped so that, with the largest commission a wave may
    give and the upline's override, a release always splits (a split that refused would leave
    the money stuck in escrow)."""
    from pydantic import ValidationError

    from tuangou.core.config import MAX_OPERATOR_FEE_BPS, Settings

    assert MAX_OPERATOR_FEE_BPS + rules.MAX_COMMISSION_BPS + DEFAULT_OVERRIDE_BPS <= 10000
    for amount in (0, 1, 99, 1990, 123_457):
        parts = split(
            amount,
            commission_bps=rules.MAX_COMMISSION_BPS,
            override_bps=DEFAULT_OVERRIDE_BPS,
            fee_bps=MAX_OPERATOR_FEE_BPS,
        )
        shares = (parts.supplier, parts.leader, parts.upline, parts.fee)
        assert sum(shares) == amount and min(shares) >= 0
    assert Settings(operator_fee_bps=MAX_OPERATOR_FEE_BPS).operator_fee_bps == 4800
    for wrong in (-1, MAX_OPERATOR_FEE_BPS + 1):
        with pytest.raises(ValidationError, match="operator_fee_bps"):
            Settings(operator_fee_bps=wrong)
