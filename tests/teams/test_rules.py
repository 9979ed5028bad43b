"""Property tests of the team buy's pure rules (DOMAIN.md §1), no database."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tuangou.teams import rules


@st.composite
def ladders(draw: st.DrawFn) -> tuple[list[rules.Tier], int, int]:
    """A valid ladder with its (min_size, max_size)."""
    min_size = draw(st.integers(2, 20))
    steps = draw(st.lists(st.integers(1, 10), max_size=5))
    sizes = [min_size]
    for step in steps:
        sizes.append(sizes[-1] + step)
    drops = draw(st.lists(st.integers(1, 500), min_size=len(sizes) - 1, max_size=len(sizes) - 1))
    last = draw(st.integers(1, 5000))
    prices = [last]
    for drop in reversed(drops):
        prices.insert(0, prices[0] + drop)
    max_size = sizes[-1] + draw(st.integers(0, 10))
    return list(zip(sizes, prices, strict=True)), min_size, max_size


PERKS = st.sampled_from(rules.OPENER_PERKS)


# ---------------------------------------------------------------- ladder validation


@given(ladders())
def test_valid_ladders_are_accepted(ladder: tuple[list[rules.Tier], int, int]) -> None:
    tiers, lo, hi = ladder
    rules.validate_ladder(tiers, min_size=lo, max_size=hi)


@given(ladders(), st.data())
def test_sizes_must_strictly_grow(ladder: tuple[list[rules.Tier], int, int], data: st.DataObject):
    tiers, lo, hi = ladder
    assume(len(tiers) >= 2)
    i = data.draw(st.integers(1, len(tiers) - 1))
    # Tier i no longer needs more members than tier i - 1.
    bad = list(tiers)
    bad[i] = (tiers[i - 1][0] - data.draw(st.integers(0, 3)), tiers[i][1])
    with pytest.raises(rules.RuleViolation) as err:
        rules.validate_ladder(bad, min_size=lo, max_size=hi)
    assert err.value.field == "tiers"


@given(ladders(), st.data())
def test_prices_must_strictly_fall(ladder: tuple[list[rules.Tier], int, int], data: st.DataObject):
    tiers, lo, hi = ladder
    assume(len(tiers) >= 2)
    i = data.draw(st.integers(1, len(tiers) - 1))
    bad = list(tiers)
    bad[i] = (tiers[i][0], tiers[i - 1][1] + data.draw(st.integers(0, 100)))
    with pytest.raises(rules.RuleViolation):
        rules.validate_ladder(bad, min_size=lo, max_size=hi)


@given(ladders(), st.integers(-5, 5).filter(bool))
def test_first_tier_is_at_the_min_size(
    ladder: tuple[list[rules.Tier], int, int], shift: int
) -> None:
    tiers, lo, hi = ladder
    with pytest.raises(rules.RuleViolation):
        rules.validate_ladder(tiers, min_size=lo + shift, max_size=hi + abs(shift))


@given(ladders(), st.integers(1, 10))
def test_no_tier_beyond_the_max_size(ladder: tuple[list[rules.Tier], int, int], n: int) -> None:
    tiers, lo, _ = ladder
    with pytest.raises(rules.RuleViolation):
        rules.validate_ladder(tiers, min_size=lo, max_size=tiers[-1][0] - n)


@given(ladders(), st.integers(-100, 0))
def test_prices_are_positive(ladder: tuple[list[rules.Tier], int, int], last: int) -> None:
    tiers, lo, hi = ladder
    bad = [*tiers[:-1], (tiers[-1][0], last)]
    assume(len(bad) == 1 or bad[-2][1] > last)
    with pytest.raises(rules.RuleViolation):
        rules.validate_ladder(bad, min_size=lo, max_size=hi)


def test_empty_ladder_is_refused() -> None:
    with pytest.raises(rules.RuleViolation):
        rules.validate_ladder([], min_size=2, max_size=2)


def test_the_example_ladder() -> None:
    tiers = [(2, 1990), (5, 1790), (10, 1590)]
    rules.validate_ladder(tiers, min_size=2, max_size=10)
    assert [rules.tier_price(tiers, n) for n in (1, 2, 4, 5, 9, 10, 11)] == [
        1990,
        1990,
        1990,
        1790,
        1790,
        1590,
        1590,
    ]


# ---------------------------------------------------------------- prices


@given(ladders(), st.integers(0, 60), st.integers(0, 60))
def test_tier_price_never_rises_with_members(
    ladder: tuple[list[rules.Tier], int, int], a: int, b: int
) -> None:
    tiers, _, _ = ladder
    fewer, more = sorted((a, b))
    assert rules.tier_price(tiers, more) <= rules.tier_price(tiers, fewer)


@given(ladders(), st.integers(0, 60))
def test_tier_price_is_the_tier_reached(
    ladder: tuple[list[rules.Tier], int, int], members: int
) -> None:
    tiers, _, _ = ladder
    i = rules.tier_index(tiers, members)
    price = rules.tier_price(tiers, members)
    if i < 0:
        assert members < tiers[0][0]
        assert price == tiers[0][1]
    else:
        assert tiers[i][0] <= members
        assert price == tiers[i][1]
        assert i == len(tiers) - 1 or members < tiers[i + 1][0]
    nxt = rules.next_tier(tiers, members)
    if nxt is None:
        assert i == len(tiers) - 1
    else:
        assert nxt == tiers[i + 1]
        assert nxt[0] > members


@given(ladders(), st.integers(0, 60), st.booleans(), PERKS, st.data())
def test_final_price_never_exceeds_what_was_charged(
    ladder: tuple[list[rules.Tier], int, int],
    members: int,
    is_opener: bool,
    perk: str,
    data: st.DataObject,
) -> None:
    tiers, _, _ = ladder
    opener_price = data.draw(st.none() | st.integers(1, tiers[0][1]))
    charged = rules.join_price(tiers, is_opener=is_opener, perk=perk, opener_price=opener_price)
    final = rules.final_price(
        tiers, members, is_opener=is_opener, perk=perk, opener_price=opener_price
    )
    assert 0 < final <= charged <= tiers[0][1]
    if not (is_opener and perk == "price" and opener_price is not None):
        assert charged == tiers[0][1]
        assert final == rules.tier_price(tiers, members)
    else:
        assert charged == opener_price
        assert final == min(opener_price, rules.tier_price(tiers, members))


@given(st.integers(1, 100_000), st.integers(1, 100_000), st.integers(1, 100))
def test_price_protection_refund(charged: int, final: int, qty: int) -> None:
    if final > charged:
        with pytest.raises(ValueError):
            rules.price_protection_refund(charged, final, qty)
        return
    refund = rules.price_protection_refund(charged, final, qty)
    assert refund == (charged - final) * qty
    assert refund >= 0
    # What the member keeps is exactly the final price.
    assert charged * qty - refund == final * qty


@given(ladders(), st.integers(0, 60), st.integers(1, 20))
def test_everyone_pays_the_tier_reached_after_protection(
    ladder: tuple[list[rules.Tier], int, int], members: int, qty: int
) -> None:
    tiers, _, _ = ladder
    charged = rules.join_price(tiers, is_opener=False, perk="none", opener_price=None)
    final = rules.final_price(tiers, members, is_opener=False, perk="none", opener_price=None)
    kept = charged * qty - rules.price_protection_refund(charged, final, qty)
    assert kept == rules.tier_price(tiers, members) * qty


@given(st.integers(1, 100_000), st.integers(1, 100_000), st.integers(1, 50))
def test_completion_subsidy_is_the_gap_never_negative(single: int, group: int, qty: int) -> None:
    s = rules.completion_subsidy(single, group, qty)
    assert s >= 0
    assert s == (single - group) * qty if single >= group else s == 0


# ---------------------------------------------------------------- settlement


@given(st.integers(0, 50), st.integers(2, 50), st.booleans(), st.integers(1, 100))
def test_completion_allowed_exactly_when(paid: int, min_size: int, enabled: bool, pct: int) -> None:
    expected = enabled and 0 < paid < min_size and paid * 100 >= pct * min_size
    assert rules.completion_allowed(paid, min_size, enabled=enabled, percent=pct) is expected


def test_completion_examples() -> None:
    # 4 of 5 is 80%: allowed at the default 80, not at 81; a full team needs no completion.
    assert rules.completion_allowed(4, 5, enabled=True, percent=80)
    assert not rules.completion_allowed(4, 5, enabled=True, percent=81)
    assert not rules.completion_allowed(4, 5, enabled=False, percent=80)
    assert not rules.completion_allowed(5, 5, enabled=True, percent=80)
    assert not rules.completion_allowed(0, 2, enabled=True, percent=1)


@given(st.integers(0, 50), st.integers(2, 50), st.booleans(), st.integers(1, 100))
def test_settlement_outcome(paid: int, min_size: int, enabled: bool, pct: int) -> None:
    outcome = rules.settlement_outcome(
        paid, min_size, completion_enabled=enabled, completion_percent=pct
    )
    if paid >= min_size:
        assert outcome.kind == "success"
    elif rules.completion_allowed(paid, min_size, enabled=enabled, percent=pct):
        assert outcome.kind == "completed"
    else:
        assert outcome.kind == "failed"
    assert outcome.succeeded is (outcome.kind != "failed")
    # Nobody paid: never a success of any kind.
    if paid == 0:
        assert not outcome.succeeded


@given(
    st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 10_000)), unique_by=lambda s: s[0]),
    st.randoms(use_true_random=False),
)
def test_successor_is_the_earliest_seat(seats: list[tuple[int, int]], rnd: random.Random) -> None:
    shuffled = list(seats)
    rnd.shuffle(shuffled)
    nxt = rules.successor(shuffled)
    if not seats:
        assert nxt is None
    else:
        earliest = min(seats, key=lambda s: s[0])
        assert nxt == earliest[1]


# ---------------------------------------------------------------- campaign settings


@st.composite
def campaigns(draw: st.DrawFn) -> dict[str, Any]:
    tiers, lo, hi = draw(ladders())
    perk = draw(PERKS)
    limit = draw(st.integers(1, 20))
    return {
        "tiers": tiers,
        "min_size": lo,
        "max_size": hi,
        "window_hours": draw(st.integers(rules.MIN_WINDOW_HOURS, rules.MAX_WINDOW_HOURS)),
        "single_price": tiers[0][1] + draw(st.integers(0, 1000)),
        "opener_perk": perk,
        "opener_price": draw(st.integers(1, tiers[0][1])) if perk == "price" else None,
        "completion_percent": draw(st.integers(1, 100)),
        "per_member_limit": limit,
        "max_quantity_per_order": draw(st.integers(1, limit)),
    }


@given(campaigns())
def test_valid_campaigns_are_accepted(settings: dict[str, Any]) -> None:
    rules.validate_campaign(**settings)


BREAKS = {
    "min_size": (lambda s: {**s, "min_size": 1}, {"min_size"}),
    "max_size": (lambda s: {**s, "max_size": s["min_size"] - 1}, {"max_size"}),
    "window_long": (
        lambda s: {**s, "window_hours": rules.MAX_WINDOW_HOURS + 1},
        {"window_hours"},
    ),
    "window_zero": (lambda s: {**s, "window_hours": 0}, {"window_hours"}),
    # A group price above the single price (or no positive single price at all).
    "single_price": (
        lambda s: {**s, "single_price": s["tiers"][0][1] - 1},
        {"tiers", "single_price"},
    ),
    "opener_perk": (lambda s: {**s, "opener_perk": "robot"}, {"opener_perk"}),
    "opener_price_high": (
        lambda s: {**s, "opener_perk": "price", "opener_price": s["tiers"][0][1] + 1},
        {"opener_price"},
    ),
    "opener_price_none": (
        lambda s: {**s, "opener_perk": "price", "opener_price": None},
        {"opener_price"},
    ),
    "completion_high": (lambda s: {**s, "completion_percent": 101}, {"completion_percent"}),
    "completion_zero": (lambda s: {**s, "completion_percent": 0}, {"completion_percent"}),
    "per_member_limit": (
        lambda s: {**s, "per_member_limit": 0, "max_quantity_per_order": 1},
        {"per_member_limit"},
    ),
    "max_quantity_per_order": (
        lambda s: {**s, "max_quantity_per_order": s["per_member_limit"] + 1},
        {"max_quantity_per_order"},
    ),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
@given(settings=campaigns())
def test_each_broken_setting_is_refused(name: str, settings: dict[str, Any]) -> None:
    breaks, fields = BREAKS[name]
    with pytest.raises(rules.RuleViolation) as err:
        rules.validate_campaign(**breaks(settings))
    assert err.value.field in fields


# ---------------------------------------------------------------- the team's state machine

T = rules.TeamStatus
EDGES = {
    (T.PENDING, T.OPEN),
    (T.PENDING, T.CLOSED),
    (T.OPEN, T.FORMED),
    (T.OPEN, T.SETTLED),
    (T.OPEN, T.FAILED),
    (T.OPEN, T.CLOSED),
    (T.FORMED, T.SETTLED),
    (T.FORMED, T.FAILED),
}  # the diagram of docs/ARCHITECTURE.md "The team's life"


def test_the_first_payment_opens_the_team() -> None:
    move = rules.after_payment("pending", 1, min_size=2, max_size=3)
    assert (move.opened, move.formed, move.settle_now) == (True, False, False)
    assert move.status(T.PENDING) is T.OPEN


def test_reaching_the_min_size_forms_and_the_max_settles() -> None:
    assert rules.after_payment("open", 2, min_size=2, max_size=3).status(T.OPEN) is T.FORMED
    full = rules.after_payment("formed", 3, min_size=2, max_size=3)
    assert (full.formed, full.settle_now) == (False, True)


@given(st.sampled_from(["settled", "failed", "closed"]), st.integers(1, 50))
def test_no_payment_lands_on_a_finished_team(status: str, paid: int) -> None:
    with pytest.raises(ValueError):
        rules.after_payment(status, paid, min_size=2, max_size=50)


@given(st.integers(2, 10), st.integers(0, 10), st.booleans())
def test_leaving_is_allowed_only_before_the_team_forms(
    min_size: int, extra: int, is_opener: bool
) -> None:
    assert rules.may_leave("open", is_opener=is_opener, seat_paid=True)
    assert rules.may_leave("open", is_opener=is_opener, seat_paid=False)
    for status in ("formed", "settled", "failed", "closed"):
        assert not rules.may_leave(status, is_opener=is_opener, seat_paid=True)
    # A pending team: only its opener, who has not paid, may walk away.
    assert rules.may_leave("pending", is_opener=True, seat_paid=False)
    assert not rules.may_leave("pending", is_opener=False, seat_paid=False)


@given(
    min_size=st.integers(2, 6),
    extra=st.integers(0, 6),
    events=st.lists(
        st.one_of(
            st.tuples(st.just("pay"), st.integers(1, 3)),
            st.tuples(st.just("leave"), st.booleans()),
            st.tuples(st.just("release_opener"), st.just(True)),
            st.tuples(st.just("deadline"), st.booleans()),
        ),
        max_size=30,
    ),
)
def test_every_sequence_of_events_follows_the_diagram(
    min_size: int, extra: int, events: list[tuple[str, Any]]
) -> None:
    """Drive a team with arbitrary events through the pure transitions, as the service
    applies them: the status only moves along the diagram's edges, a formed team always has
    its min size paid, a full team settles at once, and a finished team never moves again."""
    max_size = min_size + extra
    status, paid, opener_paid = T.PENDING, 0, False
    for event, arg in events:
        before = status
        if status in (T.SETTLED, T.FAILED, T.CLOSED):
            break
        if event == "pay":
            if status is T.PENDING and opener_paid:
                continue
            k = 1 if status is T.PENDING else min(arg, max_size - paid)
            if k <= 0:
                continue
            paid += k
            opener_paid = True
            move = rules.after_payment(status, paid, min_size=min_size, max_size=max_size)
            status = move.status(status)
            assert move.settle_now == (paid >= max_size)
            if move.settle_now:
                outcome = rules.settlement_outcome(
                    paid, min_size, completion_enabled=False, completion_percent=80
                )
                assert rules.settlement_due(status, paid, max_size=max_size, deadline_passed=False)
                status = rules.settled_status(outcome)
                assert status is T.SETTLED
        elif event == "leave":
            was_opener = arg
            if not rules.may_leave(status, is_opener=was_opener, seat_paid=status is not T.PENDING):
                assert status is not T.OPEN
                continue
            if status is T.PENDING:
                status = T.CLOSED  # the opener walks away before paying: released, closed
                continue
            paid -= 1
            after = rules.after_leaving(was_opener=was_opener, paid_left=paid)
            assert after.close == (was_opener and paid == 0)
            if paid == 0:
                status = T.CLOSED
        elif event == "release_opener":
            if rules.closes_on_release(status, was_opener=True):
                assert status is T.PENDING
                status = T.CLOSED
        elif event == "deadline":
            due = rules.settlement_due(status, paid, max_size=max_size, deadline_passed=True)
            assert due == (status in (T.OPEN, T.FORMED))
            if due:
                completion = arg
                outcome = rules.settlement_outcome(
                    paid, min_size, completion_enabled=completion, completion_percent=50
                )
                status = rules.settled_status(outcome)
                assert (status is T.SETTLED) == (
                    paid >= min_size
                    or rules.completion_allowed(paid, min_size, enabled=completion, percent=50)
                )
        if status is not before:
            assert (before, status) in EDGES, (before, status)
        if status is T.FORMED:
            assert paid >= min_size
        if status is T.OPEN:
            assert 0 < paid < min_size or paid == 0
