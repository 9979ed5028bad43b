"""Leaderboards on both backends: scores against hand-computed ones, the periods in the
deployment's time zone, risk holds and voided actions, frozen boards, the leader's award."""

from __future__ import annotations

from datetime import date

import pytest

from tests.cocreate.support import race
from tests.conftest import rows, scalar
from tests.leaderboards.support import (
    ActionKind,
    Period,
    act,
    at_local,
    board,
    clock_at,
    community,
    hold,
    read,
    tx,
)
from tuangou.communities import errors as community_errors
from tuangou.leaderboards import errors, tasks
from tuangou.leaderboards import service as boards
from tuangou.points import service as points

pytestmark = pytest.mark.usefixtures("db")

WEEK = date(2026, 11, 16)  # a Monday
NOV = date(2026, 11, 1)
LIKE, HELP, INVITE, EVENT = (
    ActionKind.REVIEW_LIKED,
    ActionKind.HELP,
    ActionKind.INVITE,
    ActionKind.EVENT,
)


def november(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A community and its members a, b, c, d with these actions (weights: like 1, help 2,
    event 3, invite 5):

    a: likes on the 16th, 17th, 18th; an event on the 20th  -> week 6, month 6
    b: an invite on the 10th; helps on the 17th (two)        -> week 4, month 9
    c: an event on the 19th; a like on the 21st              -> week 4, month 4
    d: a help on the 3rd                                      -> week -, month 2
    and, in another community, a's invite (counts there only)."""
    op, leader, (a, b, c, d) = community(4)
    cid = leader.community_id
    _, other, _ = community(0)
    with clock_at(monkeypatch, at_local(date(2026, 11, 22))):
        for day in (16, 17, 18):
            act(cid, a, LIKE, at_local(date(2026, 11, day)))
        act(cid, a, EVENT, at_local(date(2026, 11, 20)))
        act(cid, b, INVITE, at_local(date(2026, 11, 10)))
        act(cid, b, HELP, at_local(date(2026, 11, 17), 9))
        act(cid, b, HELP, at_local(date(2026, 11, 17), 10))
        act(cid, c, EVENT, at_local(date(2026, 11, 19)))
        act(cid, c, LIKE, at_local(date(2026, 11, 21)))
        act(cid, d, HELP, at_local(date(2026, 11, 3)))
        act(other.community_id, a, INVITE, at_local(date(2026, 11, 18)))
    return op, leader, (a, b, c, d)


def test_scores_match_the_hand_computed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    _, leader, (a, b, c, d) = november(monkeypatch)
    cid = leader.community_id
    with clock_at(monkeypatch, at_local(date(2026, 11, 22))):
        # The week: b and c tie at 4; b reached it first (the 17th, c the 21st).
        assert board(cid, Period.WEEK, WEEK) == [
            (1, a.user_id, 6),
            (2, b.user_id, 4),
            (3, c.user_id, 4),
        ]
        assert board(cid, Period.MONTH, NOV) == [
            (1, b.user_id, 9),
            (2, a.user_id, 6),
            (3, c.user_id, 4),
            (4, d.user_id, 2),
        ]
        found = read(lambda s: boards.board(s, cid, Period.MONTH, NOV))
        assert found.rank_of(b.user_id).counts == {INVITE: 1, HELP: 2}
        assert not found.final


def test_an_action_counts_once_however_often_it_comes(monkeypatch: pytest.MonkeyPatch) -> None:
    _, leader, (a, *_) = community(1)
    cid = leader.community_id
    with clock_at(monkeypatch, at_local(date(2026, 11, 20))):
        assert act(cid, a, HELP, at_local(date(2026, 11, 20)), ref="help:77") == 1
        assert act(cid, a, HELP, at_local(date(2026, 11, 20)), ref="help:77") == 0
        assert board(cid, Period.WEEK, WEEK) == [(1, a.user_id, 2)]


def test_periods_turn_at_local_midnight(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asia/Shanghai: Sunday 23:59 is still the week; Monday 00:00 (Sunday 16:00 UTC) is the
    next. December 1st 00:00 local is November 30th in UTC, and counts in December."""
    _, leader, (a, b) = community(2)
    cid = leader.community_id
    with clock_at(monkeypatch, at_local(date(2026, 11, 23), 12)):  # within the grace day
        act(cid, a, EVENT, at_local(date(2026, 11, 22), 23, 59))
        act(cid, b, EVENT, at_local(date(2026, 11, 23), 0, 0))
    with clock_at(monkeypatch, at_local(date(2026, 12, 1), 1)):
        act(cid, a, HELP, at_local(date(2026, 11, 30), 23, 59))
        act(cid, b, HELP, at_local(date(2026, 12, 1), 0, 0))
        assert at_local(date(2026, 12, 1)).date() == date(2026, 12, 1)  # noon
        assert at_local(date(2026, 12, 1), 0, 0).date() == date(2026, 11, 30)  # UTC
        assert board(cid, Period.WEEK, WEEK) == [(1, a.user_id, 3)]
        assert board(cid, Period.WEEK, date(2026, 11, 23)) == [(1, b.user_id, 3)]
        nov = board(cid, Period.MONTH, NOV)
        assert nov == [(1, a.user_id, 5), (2, b.user_id, 3)]
        assert board(cid, Period.MONTH, date(2026, 12, 1)) == [(1, b.user_id, 2)]
        # The API's "at" names the same periods.
        assert read(lambda s: boards.parse_period("week", "2026-11-22")) == (Period.WEEK, WEEK)
        with pytest.raises(errors.InvalidPeriod):
            boards.parse_period("year", None)


def test_members_the_risk_engine_holds_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    op, leader, (a, b, c, d) = november(monkeypatch)
    with clock_at(monkeypatch, at_local(date(2026, 11, 22))):
        hold(op.user_id, [b.user_id])  # flagged: an open case
        assert board(leader.community_id, Period.MONTH, NOV) == [
            (1, a.user_id, 6),
            (2, c.user_id, 4),
            (3, d.user_id, 2),
        ]


def test_a_confirmed_rings_helps_and_the_likes_it_gave_never_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    op, leader, (a, b, c, ring) = community(4)
    cid = leader.community_id
    with clock_at(monkeypatch, at_local(date(2026, 11, 20))):
        for hour in (8, 9, 10):
            act(cid, ring, HELP, at_local(date(2026, 11, 18), hour))  # 6
        act(cid, a, LIKE, at_local(date(2026, 11, 18)), by=ring.user_id)  # from the ring
        act(cid, a, LIKE, at_local(date(2026, 11, 18)), by=c.user_id)
        act(cid, b, HELP, at_local(date(2026, 11, 19)))
        assert board(cid, Period.WEEK, WEEK)[0] == (1, ring.user_id, 6)
        hold(op.user_id, [ring.user_id], confirm=True)
        assert board(cid, Period.WEEK, WEEK) == [(1, b.user_id, 2), (2, a.user_id, 1)]
        # The ring's actions stay, voided, and count for nobody even once cleared of holds.
        assert scalar("SELECT COUNT(*) FROM board_actions WHERE voided_at IS NOT NULL") == 4
        tally = {
            t.user_id: t.score for t in read(lambda s: boards.tallies(s, cid, Period.WEEK, WEEK))
        }
        assert ring.user_id not in tally and tally[a.user_id] == 1


def test_a_past_board_never_changes_after_its_grace_day(monkeypatch: pytest.MonkeyPatch) -> None:
    op, leader, (a, b, c, d) = november(monkeypatch)
    cid = leader.community_id
    expected = [(1, b.user_id, 9), (2, a.user_id, 6), (3, c.user_id, 4), (4, d.user_id, 2)]
    # Within the grace day (December 1st, local): not final, nothing to freeze.
    with clock_at(monkeypatch, at_local(date(2026, 12, 1), 23, 0)):
        assert not read(lambda s: boards.is_final(Period.MONTH, NOV))
        assert (cid, Period.MONTH, NOV) not in read(boards.freeze_due)
        # A late event (an outbox delay) still counts for November.
        act(cid, c, LIKE, at_local(date(2026, 11, 30)))
    expected[2] = (3, c.user_id, 5)
    with clock_at(monkeypatch, at_local(date(2026, 12, 2), 0, 0)):
        assert board(cid, Period.MONTH, NOV) == expected
        assert tasks.freeze_final() >= 2  # the month and the week of the 23rd... and more
        assert tasks.freeze_final() == 0
        # Later holds, voids and late actions change nothing of it.
        hold(op.user_id, [b.user_id], confirm=True)
        act(cid, d, INVITE, at_local(date(2026, 11, 29)))
        found = read(lambda s: boards.board(s, cid, Period.MONTH, NOV))
        assert found.final and found.frozen
        assert [(p.rank, p.user_id, p.score) for p in found.standings] == expected
    assert (
        scalar(
            "SELECT COUNT(*) FROM board_freezes WHERE community_id = :c AND period = 'month'", c=cid
        )
        == 1
    )


def test_a_board_not_frozen_ignores_actions_recorded_after_its_grace_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, leader, (a, b) = community(2)
    cid = leader.community_id
    with clock_at(monkeypatch, at_local(date(2026, 11, 20))):
        act(cid, a, HELP, at_local(date(2026, 11, 20)))
    with clock_at(monkeypatch, at_local(date(2026, 12, 9))):
        act(cid, b, INVITE, at_local(date(2026, 11, 20)))
        assert board(cid, Period.MONTH, NOV) == [(1, a.user_id, 2)]


def award(leader_user: int, cid: int, members: list[int], pts: int = 100, month: str = "2026-11"):  # type: ignore[no-untyped-def]
    return tx(
        lambda s: boards.award(
            s, user_id=leader_user, community_id=cid, month=month, members=members, points_each=pts
        )
    )


def balance(uid: int) -> int:
    return read(lambda s: points.balance_of(s, uid))


def test_the_leader_awards_the_months_top_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _, leader, (a, b, c, d) = november(monkeypatch)
    cid, me = leader.community_id, leader.person.user_id
    with (
        clock_at(monkeypatch, at_local(date(2026, 12, 1), 20)),
        pytest.raises(errors.MonthNotClosed),  # within the grace day
    ):
        award(me, cid, [b.user_id])
    with clock_at(monkeypatch, at_local(date(2026, 12, 3))):
        with pytest.raises(errors.InvalidAward):  # 4th: not among the top 3
            award(me, cid, [b.user_id, d.user_id])
        with pytest.raises(errors.InvalidAward):  # above P
            award(me, cid, [b.user_id], pts=101)
        with pytest.raises(errors.InvalidAward):
            award(me, cid, [b.user_id], month="2026-13")
        row = award(me, cid, [b.user_id, a.user_id], pts=80)
        assert boards.awarded_members(row) == [b.user_id, a.user_id]
        with pytest.raises(errors.AlreadyAwarded):
            award(me, cid, [c.user_id])
    assert (balance(a.user_id), balance(b.user_id), balance(c.user_id)) == (80, 80, 0)
    assert rows("SELECT key FROM points_awards WHERE reason = 'leader_award' ORDER BY user_id") == [
        (f"board:{cid}:2026-11:{a.user_id}",),
        (f"board:{cid}:2026-11:{b.user_id}",),
    ]
    assert scalar("SELECT COUNT(*) FROM outbox_events WHERE topic = 'leaderboard.awarded'") == 1


def test_the_operator_settings_bound_the_award(monkeypatch: pytest.MonkeyPatch) -> None:
    _, leader, (_a, _b, _c, d) = november(monkeypatch)
    with pytest.raises(errors.InvalidSettings):
        tx(lambda s: boards.set_settings(s, boards.AwardSettings(members=0, points=10)))
    tx(lambda s: boards.set_settings(s, boards.AwardSettings(members=4, points=500)))
    with clock_at(monkeypatch, at_local(date(2026, 12, 3))):
        award(leader.person.user_id, leader.community_id, [d.user_id], pts=500)
    assert balance(d.user_id) == 500


def test_only_the_communitys_leader_awards(monkeypatch: pytest.MonkeyPatch) -> None:
    _op, leader, (a, b, _c, _d) = november(monkeypatch)
    _, stranger, _ = community(0)
    with clock_at(monkeypatch, at_local(date(2026, 12, 3))):
        with pytest.raises(community_errors.NotCommunityLeader):
            award(a.user_id, leader.community_id, [b.user_id])
        with pytest.raises(community_errors.CommunityNotFound):
            award(stranger.person.user_id, leader.community_id, [b.user_id])
    assert scalar("SELECT COUNT(*) FROM board_awards") == 0
    assert balance(b.user_id) == 0


def test_concurrent_clicks_award_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _, leader, (a, b, _c, _d) = november(monkeypatch)
    cid, me = leader.community_id, leader.person.user_id
    with clock_at(monkeypatch, at_local(date(2026, 12, 3))):
        results = race([lambda: award(me, cid, [b.user_id, a.user_id]) for _ in range(6)])
    won = [r for r in results if not isinstance(r, Exception)]
    assert len(won) == 1, results
    assert all(isinstance(r, errors.AlreadyAwarded) for r in results if r not in won)
    assert balance(b.user_id) == 100 and balance(a.user_id) == 100
    assert scalar("SELECT COUNT(*) FROM board_awards") == 1
    assert scalar("SELECT COUNT(*) FROM board_standings WHERE community_id = :c", c=cid) == 4
