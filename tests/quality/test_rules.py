"""The quality record's pure rules: rates, the on-time verdict and the flags."""

from __future__ import annotations

from datetime import datetime, timedelta

from tuangou.quality import rules
from tuangou.quality.rules import Figures, FlagReason, Thresholds


def test_rates_round_half_up_and_need_a_whole() -> None:
    assert rules.rate_bps(1, 3) == 3333
    assert rules.rate_bps(2, 3) == 6667
    assert rules.rate_bps(1, 8) == 1250
    assert rules.rate_bps(0, 5) == 0
    assert rules.rate_bps(3, 0) is None


def test_on_time_is_sent_before_the_end_of_the_delivery_date() -> None:
    due = datetime(2026, 12, 8, 16, 0)  # the end of the delivery date, in UTC
    before, after = due - timedelta(seconds=1), due + timedelta(seconds=1)
    assert rules.on_time(before, due, after) is True
    assert rules.on_time(due, due, after) is False
    assert rules.on_time(None, due, before) is None  # not yet due: not counted
    assert rules.on_time(None, due, due) is False  # nothing came by then


def test_a_rate_flags_only_over_enough_of_it() -> None:
    t = Thresholds(min_sample=4, min_reviews=3)
    few = Figures(orders=3, cases={"missing": 0, "damaged": 3, "wrong": 0})
    assert rules.flags(few, t) == []
    many = Figures(orders=4, cases={"missing": 0, "damaged": 1, "wrong": 0})
    (flag,) = rules.flags(many, t)
    assert (flag.reason, flag.value, flag.limit) == (FlagReason.AFTERSALE_RATE, 2500, 500)


def test_the_rating_is_compared_exactly() -> None:
    t = Thresholds(min_reviews=3)
    at_limit = Figures(stars={1: 0, 2: 0, 3: 1, 4: 1, 5: 1})  # exactly 4.0: not below
    assert rules.flags(at_limit, t) == []
    below = Figures(stars={1: 0, 2: 0, 3: 2, 4: 0, 5: 1})  # 3.67
    (flag,) = rules.flags(below, t)
    assert (flag.reason, flag.value, flag.limit) == (FlagReason.RATING, 367, 400)


def test_thresholds_out_of_bounds_are_named() -> None:
    assert rules.thresholds_problem(rules.DEFAULTS) is None
    assert rules.thresholds_problem(Thresholds(window_days=400)) == ("window_days", 7, 365)
    assert rules.thresholds_problem(Thresholds(min_rating_tenths=51))[0] == "min_rating_tenths"
