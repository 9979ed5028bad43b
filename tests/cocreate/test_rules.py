"""Co-creation's pure rules: the threshold, who may vote, the MOQ a conversion may set."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuangou.cocreate import rules

CREATED = datetime(2026, 1, 1, 8, 0)


def test_an_account_may_vote_from_exactly_its_minimum_age() -> None:
    due = rules.eligible_from(CREATED, 7)
    assert due == CREATED + timedelta(days=7)
    before = due - timedelta(microseconds=1)
    assert not rules.may_vote(
        account_created=CREATED, now=before, min_days=7, completed_order=False
    )
    assert rules.may_vote(account_created=CREATED, now=due, min_days=7, completed_order=False)
    assert rules.may_vote(account_created=CREATED, now=before, min_days=7, completed_order=True)


@given(st.integers(0, 2000), st.integers(0, 20000))
def test_the_threshold_is_votes_or_units(votes: int, units: int) -> None:
    threshold = rules.Threshold(votes=20, units=50)
    assert threshold.reached(votes, units) == (votes >= 20 or units >= 50)


@given(st.integers(0, 10_000))
def test_a_conversion_s_moq_is_at_most_the_pledges_and_at_least_one(pledged: int) -> None:
    assert rules.max_moq(pledged) == max(1, pledged)


@pytest.mark.parametrize(
    ("votes", "units", "hours", "field"),
    [
        (2, 50, 24, "votes"),
        (1001, 50, 24, "votes"),
        (20, 4, 24, "units"),
        (20, 50, 169, "early_hours"),
    ],
)
def test_the_operator_s_bounds_on_a_threshold(
    votes: int, units: int, hours: int, field: str
) -> None:
    with pytest.raises(rules.RuleViolation) as refused:
        rules.check_threshold(votes, units, hours)
    assert refused.value.field == field
    rules.check_threshold(rules.MIN_VOTES, rules.MIN_UNITS, 0)


def test_a_pledge_is_0_to_99() -> None:
    for ok in (0, 1, 99):
        rules.check_pledge(ok)
    for bad in (-1, 100):
        with pytest.raises(rules.RuleViolation):
            rules.check_pledge(bad)
