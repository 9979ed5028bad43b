"""The demo's leaderboard (``demo._leaderboard``): the first leader's community gets a board
this week and last month, once. Built on a small world with the demo leader's phone and
community name rather than the whole demo (which other tests load)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.leaderboards.support import read, tx
from tests.pools.support import seed_members, seed_operator
from tuangou import demo
from tuangou.leaderboards import service as boards

pytestmark = pytest.mark.usefixtures("db")


def test_the_demo_community_has_a_board() -> None:
    from tests.pools.support import SeededLeader
    from tuangou.accounts import service as accounts
    from tuangou.communities import service as communities

    op = seed_operator()
    phone, name, point, address, community_name = demo.LEADERS[0]

    def make(s: Any) -> SeededLeader:
        user = accounts.create_user(s, phone=phone, password=None, nickname=name)
        application = communities.apply(
            s, user.id, communities.PickupPointInput(point, address, 31.2, 121.4)
        )
        approval = communities.approve_application(s, application.id, operator_id=op.user_id)
        c = communities.create_community(s, user.id, name=community_name)
        return SeededLeader(None, approval.leader.id, 0, c.id, c.invite_code)  # type: ignore[arg-type]

    leader = tx(make)
    seed_members(leader, 3)
    tx(demo._leaderboard)
    tx(demo._leaderboard)  # loading again adds nothing
    cid = leader.community_id
    week = read(lambda s: boards.board(s, cid, *boards.parse_period("week", None)))
    month = read(lambda s: boards.board(s, cid, boards.Period.MONTH, boards.last_month()))
    assert len(week.standings) >= 2
    # Last month: 5 + 2, 3 + 2, 3 (and this week's, when the week began last month).
    assert [p.rank for p in month.standings] == [1, 2, 3]
    assert [p.score for p in month.standings] >= [7, 5, 3]
    assert read(lambda s: boards.has_actions(s, cid))
