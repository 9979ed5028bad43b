"""The posting rhythm's pure rules at their edges, and the feed's cursor."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuangou.posts import rules
from tuangou.posts.rules import NewMemberLimits, Rhythm, WaitReason

TZ = ZoneInfo("Asia/Shanghai")
LIMITS = NewMemberLimits()


def local(hour: int, minute: int = 0, second: int = 0, day: int = 8) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=TZ)


def post(now: datetime, rhythm: Rhythm = Rhythm(), **kw: object) -> rules.Wait | None:
    args: dict[str, object] = {
        "deal": False,
        "deals_today": 0,
        "joined_at": None,
        "last_post_at": None,
    }
    args.update(kw)
    return rules.post_wait(now, rhythm, LIMITS, **args)  # type: ignore[arg-type]


def reply(now: datetime, rhythm: Rhythm = Rhythm(), **kw: object) -> rules.Wait | None:
    args: dict[str, object] = {"joined_at": None, "last_reply_at": None, "replies_since_joining": 0}
    args.update(kw)
    return rules.reply_wait(now, rhythm, LIMITS, **args)  # type: ignore[arg-type]


def test_deal_posts_exactly_n_then_until_midnight() -> None:
    now = local(10)
    assert post(now, deal=True, deals_today=2) is None  # the third of three
    wait = post(now, deal=True, deals_today=3)
    assert wait is not None and wait.reason == WaitReason.DEAL_CAP
    assert wait.until == local(0, day=9) and wait.seconds(now) == 14 * 3600
    assert post(now, deal=False, deals_today=3) is None  # experience posts are not capped
    assert post(now, Rhythm(deals_per_day=0), deal=True, deals_today=0) is not None


def test_posting_hours_edges() -> None:
    hours = Rhythm(opens=time(8), closes=time(22))
    assert post(local(8), hours) is None
    assert post(local(21, 59, 59), hours) is None
    wait = post(local(7, 59, 59), hours)
    assert (
        wait is not None and wait.reason == WaitReason.HOURS and wait.seconds(local(7, 59, 59)) == 1
    )
    wait = post(local(22), hours)
    assert wait is not None and wait.until == local(8, day=9)


def test_hours_across_midnight() -> None:
    night = Rhythm(opens=time(20), closes=time(2))
    assert post(local(23), night) is None and post(local(1, 59), night) is None
    wait = post(local(2), night)
    assert wait is not None and wait.until == local(20)


def test_the_deal_cap_then_the_hours_wait_for_the_next_opening() -> None:
    hours = Rhythm(opens=time(8), closes=time(22))
    wait = post(local(10), hours, deal=True, deals_today=3)
    assert wait is not None and wait.reason == WaitReason.DEAL_CAP
    assert wait.until == local(8, day=9)  # midnight is closed: the first moment is 08:00


def test_new_member_post_gap_edges() -> None:
    joined = local(9)
    last = local(10)
    wait = post(local(10, 1, 59), joined_at=joined, last_post_at=last)
    assert wait is not None and wait.reason == WaitReason.POST_GAP and wait.until == local(10, 2)
    assert post(local(10, 2), joined_at=joined, last_post_at=last) is None
    # A day after joining, no gap; the leader and admins (joined_at None) never.
    assert post(local(10, 0, 1, day=9), joined_at=local(10), last_post_at=local(10, day=9)) is None
    assert post(local(10, 0, 1), joined_at=None, last_post_at=last) is None


def test_new_member_replies_gap_and_first_day_edges() -> None:
    joined = local(9)
    wait = reply(local(10, 0, 29), joined_at=joined, last_reply_at=local(10))
    assert (
        wait is not None
        and wait.reason == WaitReason.REPLY_GAP
        and wait.seconds(local(10, 0, 29)) == 1
    )
    assert reply(local(10, 0, 30), joined_at=joined, last_reply_at=local(10)) is None
    assert reply(local(11), joined_at=joined, replies_since_joining=9) is None
    wait = reply(local(11), joined_at=joined, replies_since_joining=10)
    assert wait is not None and wait.reason == WaitReason.FIRST_DAY_REPLIES
    assert wait.until == local(9, day=9)
    assert reply(local(9, day=9), joined_at=joined, replies_since_joining=10) is None


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=TZ)
)
hours = st.one_of(
    st.just(Rhythm()),
    st.tuples(st.integers(0, 23), st.integers(0, 23))
    .filter(lambda p: p[0] != p[1])
    .map(lambda p: Rhythm(opens=time(p[0]), closes=time(p[1]))),
)


@given(
    now=moments,
    rhythm=hours,
    deals=st.integers(0, 5),
    joined_ago=st.one_of(st.none(), st.integers(0, 3 * 86400)),
    posted_ago=st.one_of(st.none(), st.integers(0, 600)),
)
def test_a_wait_ends_at_a_moment_when_posting_is_allowed(
    now: datetime, rhythm: Rhythm, deals: int, joined_ago: int | None, posted_ago: int | None
) -> None:
    joined = None if joined_ago is None else now - timedelta(seconds=joined_ago)
    last = None if posted_ago is None or joined is None else now - timedelta(seconds=posted_ago)
    kw = {"deal": True, "deals_today": deals, "joined_at": joined, "last_post_at": last}
    wait = post(now, rhythm, **kw)
    if wait is None:
        return
    assert wait.until > now and wait.seconds(now) >= 1
    # At that moment nothing refuses (a later day starts with no deal post).
    later = dict(kw, deals_today=deals if wait.until.date() == now.date() else 0)
    assert post(wait.until, rhythm, **later) is None
    # And a second before it, something still does.
    before = wait.until - timedelta(seconds=1)
    if before > now:
        earlier = dict(kw, deals_today=deals if before.date() == now.date() else 0)
        assert post(before, rhythm, **earlier) is not None


def test_rhythm_bounds() -> None:
    assert rules.check_rhythm(Rhythm(deals_per_day=10)).deals_per_day == 10
    for bad in (
        Rhythm(deals_per_day=11),
        Rhythm(deals_per_day=-1),
        Rhythm(opens=time(8)),
        Rhythm(opens=time(8), closes=time(8)),
    ):
        with pytest.raises(rules.RuleViolation):
            rules.check_rhythm(bad)
    with pytest.raises(rules.RuleViolation):
        rules.parse_hour("25:00")
    assert rules.parse_hour("8:05") == time(8, 5)


def test_text_is_trimmed_and_bounded() -> None:
    assert rules.clean_text("  好  ", field="text", max_len=2) == "好"
    with pytest.raises(rules.RuleViolation):
        rules.clean_text(" ", field="text", max_len=5)
    with pytest.raises(rules.RuleViolation):
        rules.clean_text("abc", field="text", max_len=2)
