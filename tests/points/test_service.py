"""The points journal, awards, check-in, spending, expiry and levels, on both backends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta

import pytest

from tests.conftest import audit_violations, rows, scalar
from tests.points.helpers import frozen, journal_sum, local, member, read, task_points, tx
from tuangou.points import errors, rules
from tuangou.points import service as points

pytestmark = pytest.mark.usefixtures("db")


def balance(user_id: int) -> int:
    return read(lambda s: points.balance_of(s, user_id))


def test_award_is_double_entry_and_idempotent_on_member_reason_key() -> None:
    a, b = member(), member()
    assert tx(lambda s: points.award(s, user_id=a, reason="review", key="review:1", points=20))
    assert not tx(lambda s: points.award(s, user_id=a, reason="review", key="review:1", points=20))
    # The same key under another reason, or for another member, is another award.
    assert tx(lambda s: points.award(s, user_id=a, reason="task", key="review:1", points=5))
    assert tx(lambda s: points.award(s, user_id=b, reason="review", key="review:1", points=20))
    # (A review also counts toward the weekly review task, which awards its own points.)
    assert balance(a) - task_points(a) == 25 and balance(a) == journal_sum(a)
    assert balance(b) - task_points(b) == 20 and balance(b) == journal_sum(b)
    assert scalar("SELECT SUM(amount) FROM points_entries") == 0
    issued = scalar("SELECT SUM(amount) FROM points_entries WHERE account = 'issued'")
    assert issued == -45 - task_points(a) - task_points(b)
    assert read(lambda s: points.experience_of(s, a)) == 25 + task_points(a)
    assert audit_violations() == []


def test_award_refuses_what_is_not_an_award() -> None:
    a = member()
    for bad in (
        {"reason": "lottery", "key": "k", "points": 1},
        {"reason": "review", "key": "", "points": 1},
        {"reason": "review", "key": "x" * 65, "points": 1},
        {"reason": "review", "key": "k", "points": -5},
        {"reason": "review", "key": "k", "points": rules.MAX_POINTS_PER_AWARD + 1},
    ):
        with pytest.raises(errors.InvalidAward):
            tx(lambda s, bad=bad: points.award(s, user_id=a, **bad))
    assert rows("SELECT * FROM points_awards") == []
    assert rows("SELECT * FROM points_entries") == []


def test_adjustment_takes_points_away_but_never_below_zero_and_earns_no_experience() -> None:
    a = member()
    tx(lambda s: points.award(s, user_id=a, reason="admin_adjust", key="adj:1", points=30))
    tx(lambda s: points.award(s, user_id=a, reason="admin_adjust", key="adj:2", points=-10))
    assert balance(a) == 20
    with pytest.raises(errors.NotEnoughPoints):
        tx(lambda s: points.award(s, user_id=a, reason="admin_adjust", key="adj:3", points=-21))
    assert balance(a) == 20 == journal_sum(a)
    assert read(lambda s: points.experience_of(s, a)) == 0
    assert scalar("SELECT COUNT(*) FROM points_awards WHERE user_id = :u", u=a) == 2


def test_spend_uses_points_once_and_refuses_a_short_balance() -> None:
    a = member()
    tx(lambda s: points.award(s, user_id=a, reason="task", key="t1", points=50))
    assert tx(lambda s: points.spend(s, user_id=a, points=30, reason="coupon", key="c1"))
    assert not tx(lambda s: points.spend(s, user_id=a, points=30, reason="coupon", key="c1"))
    assert balance(a) == 20
    with pytest.raises(errors.NotEnoughPoints):
        tx(lambda s: points.spend(s, user_id=a, points=21, reason="coupon", key="c2"))
    with pytest.raises(errors.InvalidAward):
        tx(lambda s: points.spend(s, user_id=a, points=0, reason="coupon", key="c3"))
    assert balance(a) == 20 == journal_sum(a)
    assert scalar("SELECT SUM(amount) FROM points_entries WHERE account = 'spent'") == 30
    # Spending never touches experience.
    assert read(lambda s: points.experience_of(s, a)) == 50
    assert audit_violations() == []


def test_ten_concurrent_spends_of_the_whole_balance_succeed_once() -> None:
    a = member()
    tx(lambda s: points.award(s, user_id=a, reason="task", key="t1", points=10))

    def attempt(i: int) -> str:
        try:
            tx(lambda s: points.spend(s, user_id=a, points=10, reason="coupon", key=f"c{i}"))
            return "ok"
        except errors.NotEnoughPoints:
            return "short"

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert outcomes.count("ok") == 1, outcomes
    assert balance(a) == 0 == journal_sum(a)
    assert audit_violations() == []


# ---------------------------------------------------------------- check-in


def test_ten_concurrent_checkins_award_once() -> None:
    a = member()

    def attempt(_: int) -> str:
        try:
            tx(lambda s: points.checkin(s, a))
            return "ok"
        except errors.AlreadyCheckedIn:
            return "already"

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("already") == 9
    assert scalar("SELECT COUNT(*) FROM points_checkins WHERE user_id = :u", u=a) == 1
    assert scalar("SELECT COUNT(*) FROM points_awards WHERE user_id = :u", u=a) == 1
    assert balance(a) == rules.DEFAULT_LADDER[0] == journal_sum(a)
    assert audit_violations() == []


def test_the_day_ends_at_local_midnight(monkeypatch: pytest.MonkeyPatch) -> None:
    """23:59:59 and 00:00:00 local time are two days: two check-ins, a streak of two."""
    a = member()
    day = date(2027, 3, 14)
    with frozen(monkeypatch, local(day, time(23, 59, 59))):
        first = tx(lambda s: points.checkin(s, a))
    with frozen(monkeypatch, local(day + timedelta(days=1), time(0, 0, 0))):
        second = tx(lambda s: points.checkin(s, a))
        with pytest.raises(errors.AlreadyCheckedIn):
            tx(lambda s: points.checkin(s, a))
    assert (first.day, first.streak) == (day, 1)
    assert (second.day, second.streak) == (day + timedelta(days=1), 2)
    assert balance(a) == rules.DEFAULT_LADDER[0] + rules.DEFAULT_LADDER[1]


def test_utc_midnight_is_no_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Just before and just after midnight UTC fall in one local day (east of UTC): the
    second check-in is refused, whatever the UTC date says."""
    a = member()
    before = datetime(2027, 3, 14, 23, 59, 59)  # UTC
    after = datetime(2027, 3, 15, 0, 0, 0)
    with frozen(monkeypatch, before):
        done = tx(lambda s: points.checkin(s, a))
    with frozen(monkeypatch, after), pytest.raises(errors.AlreadyCheckedIn):
        tx(lambda s: points.checkin(s, a))
    from tuangou.core import clock

    assert done.day == clock.local_date(before) == clock.local_date(after)
    assert scalar("SELECT COUNT(*) FROM points_checkins WHERE user_id = :u", u=a) == 1


def test_streak_climbs_the_ladder_and_a_missed_day_restarts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = member()
    start = date(2027, 5, 1)
    got = []
    for n in range(9):  # nine days in a row: the ladder, then its last step
        with frozen(monkeypatch, local(start + timedelta(days=n), time(9))):
            got.append(tx(lambda s: points.checkin(s, a)))
    assert [c.streak for c in got] == list(range(1, 10))
    assert [c.points for c in got] == [5, 5, 10, 10, 15, 15, 30, 30, 30]
    # A missed day: the streak starts again.
    with frozen(monkeypatch, local(start + timedelta(days=10), time(9))):
        again = tx(lambda s: points.checkin(s, a))
        assert read(lambda s: points.streak_of(s, a)) == (1, True)
    # (The task's and the achievement's experience may have raised the level's bonus.)
    assert (again.streak, again.points - again.bonus) == (1, 5)
    with frozen(monkeypatch, local(start + timedelta(days=12), time(9))):
        assert read(lambda s: points.streak_of(s, a)) == (0, False)
    # (Check-ins also complete the weekly check-in task and the 7-day streak achievement.)
    assert balance(a) - task_points(a) == 150 + 5 + again.bonus
    assert balance(a) == journal_sum(a)


def test_the_ladder_is_the_operators(monkeypatch: pytest.MonkeyPatch) -> None:
    a = member()
    tx(lambda s: points.set_settings(s, points.PointsSettings(ladder=(1, 2, 3))))
    start = date(2027, 6, 1)
    got = []
    for n in range(4):
        with frozen(monkeypatch, local(start + timedelta(days=n), time(9))):
            got.append(tx(lambda s: points.checkin(s, a)).points)
    assert got == [1, 2, 3, 3]
    with pytest.raises(errors.InvalidSettings):
        tx(lambda s: points.set_settings(s, points.PointsSettings(ladder=())))
    with pytest.raises(errors.InvalidSettings):
        tx(lambda s: points.set_settings(s, points.PointsSettings(expiry_years=0)))
    assert read(points.get_settings).ladder == (1, 2, 3)


# ---------------------------------------------------------------- expiry


def _award_in(user_id: int, year: int, pts: int, key: str) -> None:
    at = local(date(year, 6, 1), time(12))
    tx(lambda s: points.award(s, user_id=user_id, reason="task", key=key, points=pts, at=at))


def test_expiry_takes_what_is_left_of_the_year_oldest_spent_first() -> None:
    """FIFO: 100 earned in 2026, 50 in 2027, 120 spent in 2027. The spend used the 2026
    points first (100) and 20 of 2027's: at the end of 2027 nothing of 2026 is left to
    expire; at the end of 2028 the 30 left of 2027 expire."""
    a = member()
    _award_in(a, 2026, 100, "y26")
    _award_in(a, 2027, 50, "y27")
    tx(lambda s: points.spend(s, user_id=a, points=120, reason="coupon", key="c1"))
    assert read(lambda s: points.expiring(s, a, today=date(2027, 7, 1))) == [
        points.Expiring(points=30, on=date(2028, 12, 31))
    ]
    assert tx(lambda s: points.expire_member(s, a, today=date(2028, 1, 1))) == 0
    assert balance(a) == 30
    assert tx(lambda s: points.expire_member(s, a, today=date(2029, 1, 1))) == 30
    assert balance(a) == 0 == journal_sum(a)
    assert audit_violations() == []


def test_expiry_spares_later_years_and_runs_once() -> None:
    a = member()
    _award_in(a, 2026, 100, "y26")
    _award_in(a, 2027, 40, "y27")
    tx(lambda s: points.spend(s, user_id=a, points=30, reason="coupon", key="c1"))
    # On 2027-12-31 the 2026 points are still good; on 2028-01-01 the 70 left expire.
    assert tx(lambda s: points.expire_member(s, a, today=date(2027, 12, 31))) == 0
    assert tx(lambda s: points.expire_member(s, a, today=date(2028, 1, 1))) == 70
    assert tx(lambda s: points.expire_member(s, a, today=date(2028, 1, 1))) == 0
    assert tx(lambda s: points.expire_member(s, a, today=date(2028, 6, 1))) == 0
    assert balance(a) == 40
    assert rows(
        "SELECT t.id, e.amount FROM points_entries e"
        " JOIN points_transfers t ON t.id = e.transfer_id"
        " WHERE t.kind = 'expire' AND e.account = 'expired'"
    ) == [(f"expire:{a}:2026", 70)]
    assert scalar("SELECT COUNT(*) FROM points_transfers WHERE kind = 'expire'") == 1
    assert audit_violations() == []


def test_the_expiry_job_runs_once_a_day_and_twice_expires_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tuangou.points import tasks

    a, b = member(), member()
    _award_in(a, 2026, 10, "y26")
    _award_in(b, 2026, 7, "y26")
    with frozen(monkeypatch, local(date(2028, 1, 1), time(0, 0, 1))):
        assert tasks.expire_daily() == 17
        assert tasks.expire_daily() == 0  # already ran today
        assert tasks.expire_all() == 0  # and nothing is left to expire
    assert balance(a) == balance(b) == 0
    assert scalar("SELECT COUNT(*) FROM points_transfers WHERE kind = 'expire'") == 2


def test_expiry_years_is_a_setting() -> None:
    a = member()
    _award_in(a, 2026, 10, "y26")
    tx(lambda s: points.set_settings(s, points.PointsSettings(expiry_years=2)))
    assert tx(lambda s: points.expire_member(s, a, today=date(2028, 6, 1))) == 0
    assert tx(lambda s: points.expire_member(s, a, today=date(2029, 1, 1))) == 10


# ---------------------------------------------------------------- levels


def test_levels_follow_experience_thresholds() -> None:
    a = member()
    assert read(lambda s: points.level_of(s, a)).name == "新邻居"
    tx(lambda s: points.award(s, user_id=a, reason="task", key="t1", points=199))
    assert read(lambda s: points.level_of(s, a)).name == "新邻居"
    view = read(lambda s: points.level_view(s, a))
    assert (view.to_next, view.next and view.next.name) == (1, "好邻居")
    tx(lambda s: points.award(s, user_id=a, reason="task", key="t2", points=1))
    assert read(lambda s: points.level_of(s, a)).name == "好邻居"
    # Spending points keeps experience (and the level).
    tx(lambda s: points.spend(s, user_id=a, points=200, reason="coupon", key="c"))
    assert read(lambda s: points.level_of(s, a)).name == "好邻居"
    # Experience of its own: an award may carry more (or less) than its points.
    tx(lambda s: points.award(s, user_id=a, reason="task", key="t3", points=0, experience=5000))
    top = read(lambda s: points.level_view(s, a))
    assert (top.level.name, top.next, top.progress_pct) == ("社区之星", None, 100)


def test_a_level_adds_its_checkin_bonus() -> None:
    a = member()
    tx(lambda s: points.award(s, user_id=a, reason="task", key="t", points=0, experience=800))
    done = tx(lambda s: points.checkin(s, a))
    assert (done.points, done.bonus) == (rules.DEFAULT_LADDER[0] + 2, 2)


def test_levels_are_the_operators_and_checked() -> None:
    mine = [points.Level("新人", 0), points.Level("老友", 10, discount_bps=100, early_hours=3)]
    tx(lambda s: points.set_levels(s, mine))
    assert read(points.get_levels) == mine
    for bad in (
        [points.Level("a", 5)],
        [points.Level("a", 0), points.Level("b", 0)],
        [points.Level("a", 0), points.Level("a", 10)],
        [points.Level(" ", 0)],
    ):
        with pytest.raises(errors.InvalidLevels):
            tx(lambda s, bad=bad: points.set_levels(s, bad))
    assert read(points.get_levels) == mine


# ---------------------------------------------------------------- reactions


def test_bargain_helps_earn_points_up_to_the_daily_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    a = member()
    day = date(2027, 8, 1)
    with frozen(monkeypatch, local(day, time(10))):
        now = local(day, time(10))
        got = [
            tx(lambda s, i=i: points.on_bargain_help(s, helper_id=a, help_id=i, at=now))
            for i in range(7)
        ]
    assert got == [True] * rules.DEFAULT_HELP_CAP + [False] * 2
    # The next local day, the cap starts again.
    later = local(day + timedelta(days=1), time(0, 0, 1))
    assert tx(lambda s: points.on_bargain_help(s, helper_id=a, help_id=99, at=later))
    assert balance(a) == (rules.DEFAULT_HELP_CAP + 1) * rules.DEFAULT_HELP_POINTS


def test_an_invitees_first_completed_order_earns_the_inviter_once() -> None:
    inviter, invitee = member(), member()
    assert not tx(lambda s: points.on_order_completed(s, invitee, 1))  # nobody invited them
    assert tx(lambda s: points.on_order_completed(s, invitee, 1, inviter_id=inviter))
    assert not tx(lambda s: points.on_order_completed(s, invitee, 2, inviter_id=inviter))
    # (The invitee's order also completes the inviter's weekly invite task.)
    assert balance(inviter) - task_points(inviter) == rules.DEFAULT_INVITE_POINTS
    points.register_inviter_lookup(lambda s, uid: inviter if uid == invitee else None)
    try:
        other = member()
        assert not tx(lambda s: points.on_order_completed(s, invitee, 3))
        assert not tx(lambda s: points.on_order_completed(s, other, 4))
    finally:
        points.register_inviter_lookup(None)
    assert balance(inviter) - task_points(inviter) == rules.DEFAULT_INVITE_POINTS


# ---------------------------------------------------------------- audit


def test_audit_catches_a_tampered_row() -> None:
    from sqlalchemy import text

    from tuangou.core.db import unit_of_work

    a = member()
    tx(lambda s: points.award(s, user_id=a, reason="task", key="t", points=10))
    assert audit_violations() == []
    with unit_of_work() as session:
        session.execute(
            text("UPDATE points_entries SET amount = 12 WHERE account = :a"), {"a": f"member:{a}"}
        )
    found = audit_violations()
    assert any("sums to" in v for v in found), found
    assert any(f"member {a}: points balance 10" in v for v in found), found
    with unit_of_work() as session:
        session.execute(
            text("UPDATE points_entries SET amount = 10 WHERE account = :a"), {"a": f"member:{a}"}
        )
        session.execute(
            text("UPDATE points_balances SET experience = 3 WHERE user_id = :u"), {"u": a}
        )
    found = audit_violations()
    assert found == [f"member {a}: experience 3 ≠ awards 10"], found


def test_a_month_before_year_end_members_are_told_what_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tuangou.core import outbox
    from tuangou.points import tasks

    a, b = member(), member()
    _award_in(a, 2027, 10, "y27")  # good until 2028-12-31
    _award_in(a, 2028, 5, "y28")  # good until 2029-12-31
    _award_in(b, 2028, 8, "y28")
    with frozen(monkeypatch, local(date(2028, 11, 30), time(12))):
        assert tasks.warn_expiring() == 0  # not yet December
    with frozen(monkeypatch, local(date(2028, 12, 1), time(0, 0, 1))):
        assert tasks.expire_daily() == 1  # nothing expires; one member is told
        outbox.deliver_pending()
    with frozen(monkeypatch, local(date(2028, 12, 2), time(9))):
        assert tasks.expire_daily() == 0  # told once a year
    assert rows("SELECT user_id, kind, body FROM notifications") == [
        (a, "points.expiring", "您有 10 积分将于 2028-12-31 后过期, 请尽快使用。")
    ]
