"""Random sequences of awards, spends, adjustments and expiries against a FIFO model: the
member's balance is always the sum of their entries and never negative, and each expiry
takes exactly what the model says is left of the expired years."""

from __future__ import annotations

import itertools
from datetime import date, time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import audit_violations
from tests.points.helpers import journal_sum, local, member, read, tx
from tuangou.points import errors
from tuangou.points import service as points

pytestmark = pytest.mark.usefixtures("db")

ops = st.lists(
    st.one_of(
        st.tuples(st.just("award"), st.integers(1, 60)),
        st.tuples(st.just("spend"), st.integers(1, 80)),
        st.tuples(st.just("take"), st.integers(1, 40)),  # a negative adjustment
        st.tuples(st.just("year"), st.integers(1, 2)),  # time passes; the job expires
    ),
    min_size=1,
    max_size=14,
)
_keys = itertools.count()


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops)
def test_balance_is_the_sum_of_entries_and_expiry_is_fifo(steps: list[tuple[str, int]]) -> None:
    a = member()
    year = 2030
    buckets: dict[int, int] = {}  # the model: what is left of each year's points

    def take_oldest(n: int) -> None:
        for y in sorted(buckets):
            used = min(n, buckets[y])
            buckets[y] -= used
            n -= used

    for op, n in steps:
        key = f"k{next(_keys)}"
        held = sum(buckets.values())
        if op == "award":
            at = local(date(year, 6, 1), time(12))
            tx(
                lambda s, key=key, n=n, at=at: points.award(
                    s, user_id=a, reason="task", key=key, points=n, at=at
                )
            )
            buckets[year] = buckets.get(year, 0) + n
        elif op in ("spend", "take"):

            def go(s: Any, op: str = op, n: int = n, key: str = key) -> bool:
                if op == "spend":
                    return points.spend(s, user_id=a, points=n, reason="coupon", key=key)
                return points.award(s, user_id=a, reason="admin_adjust", key=key, points=-n)

            if n > held:
                with pytest.raises(errors.NotEnoughPoints):
                    tx(go)
            else:
                tx(go)
                take_oldest(n)
        else:
            year += n
            today = date(year, 1, 1)
            expired = tx(lambda s, today=today: points.expire_member(s, a, today=today))
            due = sum(v for y, v in buckets.items() if y + 1 < year)
            assert expired == due
            for y in list(buckets):
                if y + 1 < year:
                    buckets[y] = 0
        balance = read(lambda s: points.balance_of(s, a))
        assert balance == journal_sum(a) == sum(buckets.values())
        assert balance >= 0
    assert audit_violations() == []
