"""The pure rules of events: times, seats, who may sign up or cancel, reminders, codes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuangou.events import rules

NOW = datetime(2026, 12, 7, 12, 0)


def test_schedule_problems_name_their_field() -> None:
    start = NOW + timedelta(days=1)
    end = start + timedelta(hours=2)
    assert rules.schedule_problem(NOW, start, end, start) is None
    assert rules.schedule_problem(NOW, NOW, end, NOW)[0] == "starts_at"  # type: ignore[index]
    assert rules.schedule_problem(NOW, start, start, start)[0] == "ends_at"  # type: ignore[index]
    late = start + timedelta(minutes=1)
    assert rules.schedule_problem(NOW, start, end, late)[0] == "closes_at"  # type: ignore[index]
    assert rules.schedule_problem(NOW, start, end, NOW)[0] == "closes_at"  # type: ignore[index]
    far = NOW + timedelta(days=400)
    assert rules.schedule_problem(NOW, far, far + timedelta(hours=1), far)[0] == "starts_at"  # type: ignore[index]


@pytest.mark.parametrize(
    ("seats", "taken", "ok"),
    [(1, 0, True), (1000, 0, True), (0, 0, False), (1001, 0, False), (5, 6, False), (6, 6, True)],
)
def test_seats_are_bounded_and_never_below_those_taken(seats: int, taken: int, ok: bool) -> None:
    assert (rules.seats_problem(seats, taken) is None) is ok


def test_sign_up_and_cancel_only_while_published_and_open() -> None:
    closes = NOW + timedelta(hours=1)
    assert rules.can_sign_up("published", NOW, closes)
    assert not rules.can_sign_up("published", closes, closes)
    assert not rules.can_sign_up("draft", NOW, closes)
    assert not rules.can_sign_up("cancelled", NOW, closes)
    assert rules.can_cancel_signup("published", NOW, closes)
    assert not rules.can_cancel_signup("over", NOW, closes)


def test_a_reminder_is_due_in_the_two_hours_before_the_start() -> None:
    start = NOW + timedelta(hours=2)
    assert rules.reminder_due(NOW, start)
    assert not rules.reminder_due(NOW - timedelta(seconds=1), start)
    assert not rules.reminder_due(start, start)


@given(st.sets(st.integers(0, 999_999).map(lambda n: f"{n:06d}"), max_size=50))
def test_a_drawn_code_is_six_digits_and_free(taken: set[str]) -> None:
    code = rules.draw_code(taken)
    assert rules.is_code(code) and code not in taken


def test_codes_are_normalised_as_typed() -> None:
    assert rules.normalise_code(" 123-456 ") == "123456"
    assert not rules.is_code("12345a")
    with pytest.raises(RuntimeError):
        rules.draw_code({"000001"}, lambda: "000001", max_draws=3)
