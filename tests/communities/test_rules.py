"""The pure rules of leaders and communities, without a database."""

from __future__ import annotations

import math
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tuangou.communities import rules

URL_SAFE = set(string.ascii_letters + string.digits + "-_")


# ---------------------------------------------------------------- invite codes


def test_invite_codes_are_url_safe_of_fixed_length_and_distinct() -> None:
    codes = [rules.new_invite_code() for _ in range(2000)]
    for code in codes:
        assert len(code) == rules.INVITE_LENGTH
        assert set(code) <= URL_SAFE
        assert rules.valid_invite_code(code)
    assert len(set(codes)) == len(codes)


@given(st.text(max_size=30))
def test_only_well_shaped_invite_codes_are_valid(code: str) -> None:
    expected = len(code) == rules.INVITE_LENGTH and set(code) <= URL_SAFE
    assert rules.valid_invite_code(code) is expected


@pytest.mark.parametrize(
    "code",
    ["", "short", "abcdefghijk", "abcdefghijklm", "abcdefghijk/", "abcdefghij k", "abcdefghijk\n"],
)
def test_malformed_invite_codes(code: str) -> None:
    assert not rules.valid_invite_code(code)


# ---------------------------------------------------------------- the two-level rule

N = 6  # leaders 0..N-1


def _apply(parent_of: dict[int, int | None], recruiter: int, recruit: int) -> str | None:
    refusal = rules.recruit_refusal(
        recruiter,
        recruit,
        recruiter_parent=parent_of[recruiter],
        recruit_parent=parent_of[recruit],
        recruit_has_subs=any(p == recruit for p in parent_of.values()),
    )
    if refusal is None:
        parent_of[recruit] = recruiter
    return refusal


@given(st.lists(st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)), max_size=40))
def test_any_sequence_of_recruitments_keeps_two_levels_and_no_cycle(
    steps: list[tuple[int, int]],
) -> None:
    parent_of: dict[int, int | None] = dict.fromkeys(range(N))
    for recruiter, recruit in steps:
        before = dict(parent_of)
        refusal = _apply(parent_of, recruiter, recruit)
        if refusal is not None:
            assert parent_of == before  # a refusal changes nothing
        # Nobody's upline is ever rewritten to someone else.
        for leader, parent in before.items():
            if parent is not None:
                assert parent_of[leader] == parent
        for leader in range(N):
            assert rules.depth(parent_of, leader) <= 2  # raises on a cycle


@given(st.integers(0, N - 1), st.integers(0, N - 1))
def test_two_unattached_leaders_may_always_join_up(recruiter: int, recruit: int) -> None:
    assume(recruiter != recruit)
    parent_of: dict[int, int | None] = dict.fromkeys(range(N))
    assert _apply(parent_of, recruiter, recruit) is None
    assert parent_of[recruit] == recruiter
    # Again: already theirs, a no-op, allowed.
    assert _apply(parent_of, recruiter, recruit) is None
    # A root may gather any number of unattached sub-leaders.
    others = [x for x in range(N) if x not in (recruiter, recruit)]
    for other in others:
        assert _apply(parent_of, recruiter, other) is None
    assert sum(1 for p in parent_of.values() if p == recruiter) == N - 1


def test_the_third_level_is_refused_from_both_ends() -> None:
    parent_of: dict[int, int | None] = dict.fromkeys(range(4))
    assert _apply(parent_of, 0, 1) is None  # 0 ← 1
    # 1 has a parent: whoever 1 recruits would be a third level.
    assert _apply(parent_of, 1, 2) == "third_level"
    # 1 has a parent: another leader cannot take 1.
    assert _apply(parent_of, 3, 1) == "third_level"
    # 0 has a sub-leader: nobody may put 0 under them.
    assert _apply(parent_of, 3, 0) == "third_level"
    # A cycle (1 taking 0) is a third level too.
    assert _apply(parent_of, 1, 0) == "third_level"
    assert _apply(parent_of, 2, 2) == "self"
    assert parent_of == {0: None, 1: 0, 2: None, 3: None}


def test_depth_finds_cycles() -> None:
    assert rules.depth({1: None}, 1) == 1
    assert rules.depth({1: None, 2: 1}, 2) == 2
    with pytest.raises(ValueError):
        rules.depth({1: 2, 2: 1}, 1)


# ---------------------------------------------------------------- fields


@given(st.floats(-90, 90), st.floats(-180, 180))
def test_coordinates_on_earth_pass(lat: float, lng: float) -> None:
    rules.check_coordinates(lat, lng)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-180, 180))
def test_latitudes_off_earth_are_refused(lat: float, lng: float) -> None:
    assume(not (math.isfinite(lat) and -90 <= lat <= 90))
    with pytest.raises(rules.RuleViolation) as exc:
        rules.check_coordinates(lat, lng)
    assert exc.value.field == "latitude"


@given(st.floats(-90, 90), st.floats(allow_nan=True, allow_infinity=True))
def test_longitudes_off_earth_are_refused(lat: float, lng: float) -> None:
    assume(not (math.isfinite(lng) and -180 <= lng <= 180))
    with pytest.raises(rules.RuleViolation) as exc:
        rules.check_coordinates(lat, lng)
    assert exc.value.field == "longitude"


def test_clean_text() -> None:
    assert rules.clean_text("  幸福里 ", field="name", max_len=5) == "幸福里"
    assert rules.clean_text("   ", field="note", max_len=5, required=False) == ""
    with pytest.raises(rules.RuleViolation):
        rules.clean_text("   ", field="name", max_len=5)
    with pytest.raises(rules.RuleViolation):
        rules.clean_text("123456", field="name", max_len=5)


def test_a_link_holds_from_its_start_included_to_its_end_excluded() -> None:
    from datetime import datetime, timedelta

    from tuangou.communities.rules import InvitationStatus, invitation_status, linked_at

    t = datetime(2026, 12, 1, 8, 0)
    tick = timedelta(microseconds=1)
    links = [(7, t, t + timedelta(days=2)), (9, t + timedelta(days=3), None)]
    assert linked_at(links, t - tick) is None
    assert linked_at(links, t) == 7
    assert linked_at(links, t + timedelta(days=2) - tick) == 7
    assert linked_at(links, t + timedelta(days=2)) is None  # the sale after leaving
    assert linked_at(links, t + timedelta(days=3)) == 9
    assert linked_at(links, t + timedelta(days=300)) == 9  # a current link
    assert linked_at([], t) is None

    expires = t + timedelta(days=7)
    assert invitation_status("pending", expires, expires - tick) == InvitationStatus.PENDING
    assert invitation_status("pending", expires, expires) == InvitationStatus.EXPIRED
    assert invitation_status("declined", expires, expires) == InvitationStatus.DECLINED
