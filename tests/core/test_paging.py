from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuangou.core import paging


@given(st.datetimes(), st.integers(0, 2**63 - 1))
def test_a_cursor_names_the_key_it_was_made_of(moment: datetime, ident: int) -> None:
    assert paging.decode(paging.encode(moment, ident), datetime, int) == (moment, ident)
    assert paging.decode(paging.encode(ident), int) == (ident,)


@pytest.mark.parametrize(
    "bad",
    ["", "x", "!!!", "MjAyNnwx", "LTE", paging.encode(datetime(2026, 1, 1), 1)[:-2], "MQ"],
)
def test_a_cursor_not_given_by_the_list_is_refused(bad: str) -> None:
    with pytest.raises(paging.InvalidCursor) as refused:
        paging.decode(bad, datetime, int)
    assert refused.value.code == "invalid_cursor"
    assert refused.value.status == 422
