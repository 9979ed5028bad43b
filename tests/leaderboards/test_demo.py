"""The demo site's leaderboard: a community with a populated board this week and last month."""

from __future__ import annotations

import pytest

from tests.leaderboards.support import read
from tuangou import demo
from tuangou.communities import service as communities
from tuangou.leaderboards import service as boards

pytestmark = pytest.mark.usefixtures("db")


def test_the_demo_community_has_a_board() -> None:
    from sqlalchemy import select

    from tuangou.accounts.models import User

    demo.load()
    demo.load()  # loading again adds nothing

    def boards_of(s):  # type: ignore[no-untyped-def]
        leader = s.scalar(select(User.id).where(User.phone == demo.LEADERS[0][0]))
        cid = next(
            c.id for c in communities.communities_of(s, leader) if c.name == demo.LEADERS[0][4]
        )
        week = boards.board(s, cid, *boards.parse_period("week", None))
        month = boards.board(s, cid, boards.Period.MONTH, boards.last_month())
        return week, month

    week, month = read(boards_of)
    assert len(week.standings) >= 2
    assert [s.rank for s in month.standings] == [1, 2, 3]
    assert month.standings[0].score >= month.standings[1].score
