"""The cut schedule, proved for every setting (Hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuangou.bargains import rules

totals = st.integers(min_value=0, max_value=10_000_000)
counts = st.integers(min_value=1, max_value=rules.MAX_HELPERS)


@given(totals, counts)
def test_a_schedule_sums_exactly_and_never_rises(total: int, count: int) -> None:
    cuts = rules.schedule(total, count)
    assert len(cuts) == count
    assert sum(cuts) == total
    assert all(a >= b for a, b in pairwise(cuts))
    assert all(c >= 0 for c in cuts)


@given(st.data())
def test_every_cut_is_at_least_a_fen_when_there_is_enough(data: st.DataObject) -> None:
    count = data.draw(counts)
    total = data.draw(st.integers(min_value=count, max_value=10_000_000))
    assert min(rules.schedule(total, count)) >= 1


def test_the_cuts_fall_fast_then_slowly() -> None:
    cuts = rules.schedule(10_000, 10)
    drops = [a - b for a, b in pairwise(cuts)]
    assert cuts[0] > cuts[-1]
    assert drops[0] > drops[-1]  # big steps first, small ones at the end
    assert cuts[0] >= 3 * cuts[4]


@given(st.data())
def test_a_bonus_keeps_the_sum_and_a_fen_for_every_later_cut(data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=1, max_value=60))
    total = data.draw(st.integers(min_value=count, max_value=1_000_000))
    cuts = rules.schedule(total, count)
    taken = data.draw(st.integers(min_value=0, max_value=count - 1))
    remaining = cuts[taken:]
    bonus = data.draw(st.integers(min_value=0, max_value=2 * total))
    granted, after = rules.with_bonus(remaining, bonus)
    assert len(after) == len(remaining)
    assert sum(after) == sum(remaining)
    assert 0 <= granted <= bonus
    assert after[0] == remaining[0] + granted
    assert all(c >= 1 for c in after)
    assert all(a >= b for a, b in pairwise(after[1:]))
    # The whole schedule still sums exactly to start − floor.
    assert sum(cuts[:taken]) + sum(after) == total


def test_the_last_cut_takes_no_bonus_and_a_bonus_is_capped() -> None:
    assert rules.with_bonus([7], 100) == (0, [7])
    granted, after = rules.with_bonus([10, 5, 3], 1000)
    assert granted == 8 - 2  # the later cuts keep a fen each
    assert after == [16, 1, 1]


@given(st.data())
def test_a_reschedule_after_voided_helps_sums_exactly(data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=1, max_value=60))
    total = data.draw(st.integers(min_value=count, max_value=1_000_000))
    cuts = rules.schedule(total, count)
    # The helps still counted: some of the cuts taken so far (the others were voided).
    taken = data.draw(st.integers(min_value=0, max_value=count - 1))
    voided = data.draw(st.sets(st.integers(min_value=0, max_value=count - 1), max_size=count))
    kept = [c for i, c in enumerate(cuts[:taken]) if i not in voided]
    after = rules.reschedule(kept, total, count)
    assert len(after) == count
    assert sum(after) == total
    assert after[: len(kept)] == kept


@pytest.mark.parametrize(
    ("field", "settings"),
    [
        ("floor_price", {"floor_price": 0}),
        ("start_price", {"start_price": 500}),
        ("helpers_needed", {"helpers_needed": 0}),
        ("helpers_needed", {"helpers_needed": 101}),
        ("helpers_needed", {"start_price": 510, "helpers_needed": 11}),
        ("hours", {"hours": 0}),
        ("helps_per_member", {"helps_per_member": 0}),
        ("starts_per_member", {"starts_per_member": 0}),
        ("new_member_bonus", {"new_member_bonus": 10_000}),
    ],
)
def test_campaign_settings_are_checked(field: str, settings: dict[str, int]) -> None:
    values = {
        "start_price": 3000,
        "floor_price": 500,
        "helpers_needed": 5,
        "hours": 24,
        "helps_per_member": 1,
        "starts_per_member": 1,
        "new_member_bonus": 0,
    }
    values.update(settings)
    with pytest.raises(rules.RuleViolation) as caught:
        rules.validate_campaign(**values)
    assert caught.value.field == field


def test_a_new_member_is_recent_and_has_never_paid() -> None:
    now = datetime(2026, 12, 7, 10)
    recent = now - timedelta(hours=rules.NEW_MEMBER_HOURS - 1)
    old = now - timedelta(hours=rules.NEW_MEMBER_HOURS + 1)
    assert rules.is_new_member(recent, now, has_paid_order=False)
    assert not rules.is_new_member(recent, now, has_paid_order=True)
    assert not rules.is_new_member(old, now, has_paid_order=False)


def test_a_bargain_never_outlives_its_campaign() -> None:
    now = datetime(2026, 12, 7, 10)
    assert rules.deadline(now, 24, now + timedelta(hours=5)) == now + timedelta(hours=5)
    assert rules.deadline(now, 24, now + timedelta(days=5)) == now + timedelta(hours=24)
