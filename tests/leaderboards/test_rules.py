"""The leaderboards' pure rules: periods, the ranking and its ties, the award's bounds."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tuangou.leaderboards import rules
from tuangou.leaderboards.rules import ActionKind, Period, Tally


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    assert rules.period_start(Period.WEEK, date(2026, 11, 22)) == date(2026, 11, 16)  # a Sunday
    assert rules.period_start(Period.WEEK, date(2026, 11, 23)) == date(2026, 11, 23)
    assert rules.period_end(Period.WEEK, date(2026, 11, 16)) == date(2026, 11, 23)
    assert rules.period_start(Period.MONTH, date(2026, 12, 31)) == date(2026, 12, 1)
    assert rules.period_end(Period.MONTH, date(2026, 12, 1)) == date(2027, 1, 1)
    assert rules.previous(Period.MONTH, date(2027, 1, 1)) == date(2026, 12, 1)
    assert rules.previous(Period.WEEK, date(2026, 11, 23)) == date(2026, 11, 16)


def test_at_names_a_period() -> None:
    today = date(2026, 12, 7)
    assert rules.parse_at(Period.MONTH, "2026-11", today) == date(2026, 11, 1)
    assert rules.parse_at(Period.MONTH, "2026-11-19", today) == date(2026, 11, 1)
    assert rules.parse_at(Period.WEEK, "2026-11-19", today) == date(2026, 11, 16)
    assert rules.parse_at(Period.WEEK, None, today) == date(2026, 12, 7)
    for bad in ("2026-13", "2026/11", "2026-02-30", "x"):
        with pytest.raises(rules.RuleViolation):
            rules.parse_at(Period.MONTH, bad, today)
    with pytest.raises(rules.RuleViolation):
        rules.parse_at(Period.WEEK, "2026-11", today)


def test_ranking_by_score_then_who_reached_it_first_then_id() -> None:
    t = datetime(2026, 11, 20, 4)
    tallies = [
        Tally(5, {ActionKind.HELP: 2}, t.replace(hour=6)),  # 4, later
        Tally(3, {ActionKind.REVIEW_LIKED: 4}, t.replace(hour=5)),  # 4, earlier
        Tally(9, {ActionKind.INVITE: 1, ActionKind.EVENT: 1}, t),  # 8
        Tally(2, {ActionKind.REVIEW_LIKED: 4}, t.replace(hour=5)),  # 4, as early as 3
        Tally(7, {ActionKind.EVENT: 1}, t),  # 3, but held
    ]
    board = rules.rank(tallies, held={7})
    assert [(s.rank, s.user_id, s.score) for s in board] == [
        (1, 9, 8),
        (2, 2, 4),
        (3, 3, 4),
        (4, 5, 4),
    ]


def test_the_award_is_the_months_top_within_the_bounds() -> None:
    top = [4, 8, 2, 6]
    rules.check_award([8, 4], 100, top=top, max_members=3, max_points=100)
    for chosen, points in (([], 10), ([6], 10), ([4, 4], 10), ([4], 0), ([4], 101)):
        with pytest.raises(rules.RuleViolation):
            rules.check_award(chosen, points, top=top, max_members=3, max_points=100)
    with pytest.raises(rules.RuleViolation):
        rules.check_award([4, 8, 2, 6], 10, top=top, max_members=3, max_points=100)
