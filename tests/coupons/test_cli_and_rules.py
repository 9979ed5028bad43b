"""``tuangou coupons list`` in its own process; the pure rules of discounts and of the
proportional split of refunds, over many amounts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.coupons.world import coupon
from tests.test_cli import tuangou
from tuangou.coupons import rules
from tuangou.orders.rules import discount_share


# On SQLite only: a process start costs seconds; the catalogue is the service's, tested on
# both backends in test_coupons.py.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_coupons_list(db_url: str) -> None:
    coupon(name="满20减3")
    coupon(name="九折券", form="percent", amount=0, percent_bps=1000, cap=500)
    shown = tuangou("coupons", "list", url=db_url)
    assert shown.returncode == 0, shown.stderr
    assert "满20减3: ¥3.00 off from ¥20.00" in shown.stdout
    assert "九折券: 10% off (at most ¥5.00)" in shown.stdout


@settings(max_examples=300, deadline=None)
@given(
    listed=st.integers(min_value=2, max_value=10**7),
    discount_part=st.floats(min_value=0, max_value=1),
    cuts=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=6),
)
def test_refunds_split_exactly_and_never_exceed_either_side(
    listed: int, discount_part: float, cuts: list[float]
) -> None:
    discount = min(int(listed * discount_part), listed - 1)
    paid = listed - discount
    # Refunds of parts of the price, the last one taking what is left.
    amounts, left = [], listed
    for cut in cuts:
        part = int(left * cut)
        if part:
            amounts.append(part)
            left -= part
    if left:
        amounts.append(left)
    refunded = to_member = to_subsidy = 0
    for amount in amounts:
        share = discount_share(listed, discount, refunded, amount)
        assert 0 <= share <= amount
        to_subsidy += share
        to_member += amount - share
        refunded += amount
        assert to_subsidy <= discount and to_member <= paid
        assert to_subsidy == refunded * discount // listed  # rounded down, cumulatively
    assert (to_member, to_subsidy) == (paid, discount)  # everything back: exactly each side


@given(
    price=st.integers(min_value=1, max_value=10**7),
    bps=st.integers(min_value=0, max_value=5000),
    off=st.integers(min_value=1, max_value=10**7),
    pct=st.integers(min_value=1, max_value=9999),
)
def test_discounts_always_leave_something_to_pay(price: int, bps: int, off: int, pct: int) -> None:
    level = rules.level_discount(price, bps)
    for terms in (
        rules.Terms("fixed", off, 0, None, 0, ("wave",)),
        rules.Terms("percent", 0, pct, None, 0, ("wave",)),
    ):
        coupon_off = rules.coupon_discount(terms, price - level)
        assert level >= 0 and coupon_off >= 0
        assert price - level - coupon_off >= 1 or price == 1
