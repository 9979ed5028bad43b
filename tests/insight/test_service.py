"""Demand insight over a community's week, on SQLite and PostgreSQL: what is read (published
texts of this community and week), who may see it, and the goods that answer a wish."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.cocreate.support import propose, vote, voters
from tests.pools.support import (
    Person,
    SeededLeader,
    seed_leader,
    seed_members,
    seed_operator,
    seed_sku,
)
from tuangou.communities import errors as community_errors
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.insight import errors, rules
from tuangou.insight import service as insight
from tuangou.posts.models import Post, PostReply


def _post(
    author: Person,
    leader: SeededLeader,
    text: str,
    *,
    at: datetime | None = None,
    status: str = "published",
) -> int:
    def work(session) -> int:  # type: ignore[no-untyped-def]
        post = Post(
            community_id=leader.community_id,
            author_id=author.user_id,
            kind="experience",
            text=text,
            status=status,
            created_at=at or clock.now(),
        )
        session.add(post)
        session.flush()
        return post.id

    return run_in_transaction(work)


def _reply(author: Person, leader: SeededLeader, post_id: int, text: str) -> None:
    run_in_transaction(
        lambda s: s.add(
            PostReply(
                post_id=post_id,
                community_id=leader.community_id,
                author_id=author.user_id,
                text=text,
                status="published",
                created_at=clock.now(),
            )
        )
    )


def _insight(who: Person, leader: SeededLeader, **kw) -> insight.Insight:  # type: ignore[no-untyped-def]
    with unit_of_work(readonly=True) as s:
        return insight.community_insight(
            s, user_id=who.user_id, community_id=leader.community_id, **kw
        )


@pytest.fixture
def world(db: str) -> tuple[Person, SeededLeader, list[Person]]:
    operator = seed_operator()
    leader = seed_leader(operator.user_id)
    return operator, leader, seed_members(leader, 4)


def test_the_weeks_wishes_with_their_evidence_and_the_goods_that_answer_them(world) -> None:  # type: ignore[no-untyped-def]
    _, leader, (a, b, c, d) = world
    _, sku_id = seed_sku(title="丹东草莓")
    first = _post(a, leader, "想买草莓，最好是丹东的")
    _reply(b, leader, first, "求草莓+1")
    _post(c, leader, "有没有大闸蟹")
    _post(d, leader, "草莓什么时候到")  # a mention, by a fourth member
    _post(d, leader, "想买车厘子", status="hidden")  # hidden by a moderator: not read
    found = _insight(leader.person, leader)
    top = found.wishes[0]
    assert top.phrase == "草莓"
    assert (top.askers, top.mentions) == (2, 3)
    assert top.score == rules.WISH_WEIGHT * 2 + 3
    assert {(e.kind, e.asked) for e in top.evidence} == {
        ("post", True),
        ("reply", True),
        ("post", False),
    }
    assert all(e.post_id == first for e in top.evidence if e.kind == "reply")
    assert [g.sku_id for g in top.goods] == [sku_id]
    phrases = [w.phrase for w in found.wishes]
    assert "大闸蟹" in phrases and "车厘子" not in phrases
    assert found.texts_read == 4
    assert found.next_week is None


def test_a_week_is_monday_to_sunday_in_the_deployments_time_zone(world) -> None:  # type: ignore[no-untyped-def]
    _, leader, (a, *_) = world
    monday = rules.week_start(clock.local_date(clock.now()))
    start = clock.local_midnight(monday)
    _post(a, leader, "想买荔枝", at=start)  # the first instant of the week
    _post(a, leader, "想买榴莲", at=start - timedelta(seconds=1))  # the last of the one before
    this_week = [w.phrase for w in _insight(leader.person, leader).wishes]
    assert "荔枝" in this_week and "榴莲" not in this_week
    last = _insight(leader.person, leader, week=rules.week_label(monday - timedelta(days=7)))
    assert [w.phrase for w in last.wishes] == ["榴莲"]
    assert last.next_week == rules.week_label(monday)


def test_a_proposal_and_its_votes_are_members_asking(world) -> None:  # type: ignore[no-untyped-def]
    _, leader, (a, *_) = world
    proposal = propose(a, leader, title="云南蓝莓")
    for person in voters(leader, 2):
        vote(person, proposal)
    wish = {w.phrase: w for w in _insight(leader.person, leader).wishes}["云南蓝莓"]
    assert wish.askers == 3
    assert wish.evidence[0].proposal_id == proposal


def test_only_its_leader_and_operators_see_it(world) -> None:  # type: ignore[no-untyped-def]
    operator, leader, (a, *_) = world
    other = seed_leader(operator.user_id, name="李团长")
    _post(a, leader, "想买草莓")
    assert _insight(operator, leader, operator=True).wishes[0].phrase == "草莓"
    with pytest.raises(community_errors.NotCommunityLeader):
        _insight(a, leader)  # a member: 403
    with pytest.raises(community_errors.CommunityNotFound):
        _insight(other.person, leader)  # another leader: as if there were none
    # Nothing of one community leaks into another's.
    assert _insight(other.person, other).wishes == []


@pytest.mark.parametrize("week", ["2026-49", "2026-W60", "2999-W01"])
def test_a_bad_or_future_week_is_refused(world, week: str) -> None:  # type: ignore[no-untyped-def]
    _, leader, _ = world
    with pytest.raises(errors.InvalidWeek):
        _insight(leader.person, leader, week=week)
