"""Property tests of the journal's balancing rule, no database."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tuangou.ledger import rules

ACCOUNTS = st.sampled_from(
    [rules.GATEWAY, rules.ESCROW, rules.REFUNDS, rules.SUBSIDY, rules.PLATFORM_REVENUE, "x"]
)
AMOUNT = st.integers(-10_000_000, 10_000_000)


@st.composite
def balanced(draw: st.DrawFn) -> list[tuple[str, int]]:
    head = draw(st.lists(st.tuples(ACCOUNTS, AMOUNT), min_size=1, max_size=6))
    return [*head, (draw(ACCOUNTS), -sum(a for _, a in head))]


@given(balanced())
def test_balanced_legs_pass(legs: list[tuple[str, int]]) -> None:
    rules.check_legs(legs)


@given(balanced(), st.integers(-1000, 1000).filter(bool), st.data())
def test_any_imbalance_is_refused(
    legs: list[tuple[str, int]], off: int, data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(legs) - 1))
    bad = list(legs)
    bad[i] = (bad[i][0], bad[i][1] + off)
    with pytest.raises(rules.UnbalancedTransfer):
        rules.check_legs(bad)


@given(ACCOUNTS, AMOUNT)
def test_one_leg_is_not_a_transfer(account: str, amount: int) -> None:
    with pytest.raises(rules.UnbalancedTransfer):
        rules.check_legs([(account, amount)])
    with pytest.raises(rules.UnbalancedTransfer):
        rules.check_legs([])


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_amounts_are_integer_fen(amount: float) -> None:
    assume(amount != int(amount))
    with pytest.raises(rules.UnbalancedTransfer):
        rules.check_legs([("escrow", amount), ("gateway", -amount)])  # type: ignore[list-item]


def test_floats_that_look_whole_and_bools_are_refused() -> None:
    with pytest.raises(rules.UnbalancedTransfer):
        rules.check_legs([("escrow", 5.0), ("gateway", -5.0)])  # type: ignore[list-item]
    with pytest.raises(rules.UnbalancedTransfer):
        rules.check_legs([("escrow", True), ("gateway", -1)])


@given(st.integers(1, 10**6))
def test_which_accounts_stay_non_negative(supplier_id: int) -> None:
    for account in (rules.ESCROW, rules.REFUNDS, rules.PLATFORM_REVENUE):
        assert rules.must_stay_non_negative(account)
    assert rules.must_stay_non_negative(rules.supplier_account(supplier_id))
    # The gateway and the subsidy go negative by design (money in, money spent).
    assert not rules.must_stay_non_negative(rules.GATEWAY)
    assert not rules.must_stay_non_negative(rules.SUBSIDY)
