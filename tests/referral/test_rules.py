"""The referral's pure rules: every order's parts split its release exactly to the fen, the
referrers' shares never take more than the supplier's part, and refunds give a share back in
proportion, the whole of it once the whole release is refunded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tuangou.commission import rules as commission_rules
from tuangou.referral import rules

bps = st.integers(min_value=0, max_value=3000)


@given(
    amount=st.integers(min_value=0, max_value=10_000_000),
    leader=st.integers(min_value=0, max_value=5000),
    override=st.integers(min_value=0, max_value=500),
    fee=st.integers(min_value=0, max_value=2000),
    level1=bps,
    level2=bps,
)
def test_the_parts_of_a_release_add_up_to_it_exactly(
    amount: int, leader: int, override: int, fee: int, level1: int, level2: int
) -> None:
    if level1 + level2 > rules.MAX_TOTAL_BPS:
        level2 = rules.MAX_TOTAL_BPS - level1
    split = commission_rules.split(
        amount, commission_bps=leader, override_bps=override, fee_bps=fee
    )
    shares = rules.shares(amount, [level1, level2], split.supplier)
    supplier = split.supplier - sum(shares)
    assert supplier >= 0 and min(shares) >= 0
    assert supplier + sum(shares) + split.leader + split.upline + split.fee == amount
    rates = [level1, level2]
    assert all(s <= (amount * r + 5000) // 10000 for s, r in zip(shares, rates, strict=True))


@given(
    amount=st.integers(min_value=1, max_value=100_000),
    released=st.integers(min_value=1, max_value=1_000_000),
    cuts=st.lists(st.integers(min_value=1, max_value=1_000_000), min_size=1, max_size=6),
)
def test_refunds_give_a_share_back_in_proportion_and_whole_at_the_end(
    amount: int, released: int, cuts: list[int]
) -> None:
    amount = min(amount, released)
    refunded = 0
    back = 0
    for cut in cuts:
        cut = min(cut, released - refunded)
        if cut <= 0:
            break
        refunded += cut
        step = rules.reversal_share(amount, back, released, refunded)
        assert step >= 0
        back += step
        assert back <= amount
        assert back == amount * refunded // released
    # The rest of the release refunded: the whole share is back.
    back += rules.reversal_share(amount, back, released, released)
    assert back == amount


def test_the_settings_cap() -> None:
    assert rules.problems(rules.Terms(level1_bps=2000, level2_bps=1000)) == {}
    assert "level2_bps" in rules.problems(rules.Terms(level1_bps=2000, level2_bps=1001))
    assert "binding_days" in rules.problems(rules.Terms(binding_days=0))
    assert "mode" in rules.problems(rules.Terms(mode="levels"))
    assert "min_spend" in rules.problems(rules.Terms(min_spend=-1))


def test_withdrawals_are_shown_taken_from_the_oldest_lines() -> None:
    assert rules.allocate_withdrawn([300, 200, 100], 350) == [300, 50, 0]
    assert rules.allocate_withdrawn([300], 0) == [0]
