"""Pure rules of fulfilment: the pickup code's shape, drawing free codes, small helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuangou.fulfilment import rules


def scripted(*codes: str) -> Callable[[], str]:
    """A draw that returns the given codes in turn (a stand-in for the random source)."""
    it: Iterator[str] = iter(codes)
    return lambda: next(it)


def test_a_code_is_six_ascii_digits_with_leading_zeros_kept() -> None:
    assert rules.is_code("004217")
    assert not rules.is_code("4217")
    assert not rules.is_code("1234567")
    assert not rules.is_code("12a456")
    assert not rules.is_code("１２３４５６")  # full-width digits are not ASCII


def test_random_codes_have_the_shape_and_vary() -> None:
    drawn = [rules.random_code() for _ in range(200)]
    assert all(rules.is_code(c) for c in drawn)
    assert len(set(drawn)) > 190  # random, not a counter or a constant


def test_a_colliding_draw_is_drawn_again() -> None:
    draw = scripted("111111", "222222", "333333")
    assert rules.draw_code({"111111", "222222"}, draw) == "333333"


def test_draw_codes_never_repeats_within_a_batch() -> None:
    draw = scripted("123456", "123456", "000001", "123456", "000001", "999999")
    assert rules.draw_codes(3, set(), draw) == ["123456", "000001", "999999"]


def test_drawing_gives_up_rather_than_loop_forever() -> None:
    with pytest.raises(rules.CodesExhausted):
        rules.draw_code({"111111"}, lambda: "111111", max_draws=50)
    with pytest.raises(rules.CodesExhausted):
        rules.draw_code(range(rules.CODE_SPACE), lambda: "000000")


def test_a_malformed_draw_is_refused() -> None:
    with pytest.raises(ValueError):
        rules.draw_code(set(), lambda: "12345")


@given(
    taken=st.sets(st.integers(0, 999).map(lambda n: f"{n:06d}"), max_size=500),
    n=st.integers(0, 300),
)
def test_draw_codes_are_distinct_valid_and_free(taken: set[str], n: int) -> None:
    # A small code space (000000-000999) makes collisions frequent.
    import random

    rng = random.Random(n)
    codes = rules.draw_codes(n, taken, lambda: f"{rng.randrange(1000):06d}", max_draws=10_000)
    assert len(codes) == n == len(set(codes))
    assert all(rules.is_code(c) and c not in taken for c in codes)


def test_normalise_drops_what_a_leader_may_type_between_digits() -> None:
    assert rules.normalise_code(" 123 456 ") == "123456"
    assert rules.normalise_code("123-456") == "123456"
    assert rules.normalise_code("123\u3000456") == "123456"


def test_unpicked_policy_outcomes() -> None:
    assert rules.unpicked_outcome("refund") == rules.PickupStatus.REFUNDED
    assert rules.unpicked_outcome("keep") == rules.PickupStatus.KEPT
    with pytest.raises(ValueError):
        rules.unpicked_outcome("ignore")


def test_last_four_digits_of_a_masked_phone() -> None:
    assert rules.last_four("138****8000") == "8000"
    assert rules.last_four("13812348000") == "8000"


def test_map_link_is_a_geo_uri_with_a_label() -> None:
    link = rules.map_link(31.2304, 121.4737, "幸福里 3 栋")
    assert link.startswith("geo:31.2304,121.4737?q=31.2304,121.4737(")
    assert " " not in link and "幸" not in link  # percent-encoded
    assert rules.map_link(-33.0, 151.25, "x") == "geo:-33,151.25?q=-33,151.25(x)"
