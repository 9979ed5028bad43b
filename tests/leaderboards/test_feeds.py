"""What feeds the boards, on both backends: a like on a verified review (the reviews
domain's own, once per member, never one's own), a counted help and an invitee's first
completed order (each attributed to every community the member belongs to)."""

from __future__ import annotations

import itertools
from datetime import date
from types import SimpleNamespace

import pytest

from tests.conftest import rows, scalar
from tests.leaderboards.support import Period, at_local, board, clock_at, community, tx
from tests.pools.support import seed_members
from tuangou import wiring
from tuangou.core import outbox
from tuangou.leaderboards import service as boards
from tuangou.reviews import errors as review_errors
from tuangou.reviews import service as reviews

pytestmark = pytest.mark.usefixtures("db")
WEEK = date(2026, 11, 16)
_orders = itertools.count(1)


def review_of(author: int, community_id: int | None, status: str = "published") -> int:
    from tuangou.reviews.models import Review

    def write(s):  # type: ignore[no-untyped-def]
        r = Review(
            order_id=next(_orders),
            line_id=0,
            user_id=author,
            order_kind="wave",
            campaign_id=1,
            sku_id=1,
            product_id=1,
            supplier_id=1,
            community_id=community_id,
            leader_user_id=None,
            title="苹果",
            quantity=1,
            completed_on=date(2026, 11, 15),
            rating=5,
            text="好吃",
            photo_count=0,
            status=status,
            created_at=at_local(date(2026, 11, 15)),
        )
        s.add(r)
        s.flush()
        return int(r.id)

    return tx(write)


def like(user: int, review_id: int) -> reviews.Liked:
    return tx(lambda s: reviews.like(s, user_id=user, review_id=review_id))


def test_likes_on_a_verified_review_score_its_author_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, leader, (a, b, c) = community(3)
    cid = leader.community_id
    with clock_at(monkeypatch, at_local(date(2026, 11, 18))):
        rid = review_of(a.user_id, cid)
        assert like(b.user_id, rid).new
        again = like(b.user_id, rid)
        assert not again.new and again.likes == 1
        assert like(c.user_id, rid).likes == 2
        with pytest.raises(review_errors.CannotLikeOwnReview):
            like(a.user_id, rid)
        with pytest.raises(review_errors.ReviewNotFound):  # held: not for others to like
            like(b.user_id, review_of(a.user_id, cid, status="held"))
        nowhere = review_of(c.user_id, None)  # a team buy's review: no community
        like(b.user_id, nowhere)
        outbox.deliver_pending()
        assert board(cid, Period.WEEK, WEEK) == [(1, a.user_id, 2)]
    assert scalar("SELECT likes FROM reviews WHERE id = :r", r=rid) == 2
    assert scalar("SELECT COUNT(*) FROM review_likes WHERE review_id = :r", r=rid) == 2
    assert rows("SELECT DISTINCT user_id, by_user_id FROM board_actions ORDER BY by_user_id") == [
        (a.user_id, b.user_id),
        (a.user_id, c.user_id),
    ]


def test_a_help_counts_in_every_community_of_its_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    _, first, (a,) = community(1)
    _, second, _ = community(0)
    from tuangou.communities import service as communities

    tx(lambda s: communities.join_by_invite(s, second.invite_code, a.user_id))
    with clock_at(monkeypatch, at_local(date(2026, 11, 18))):
        at = at_local(date(2026, 11, 18))
        assert tx(lambda s: boards.on_bargain_help(s, helper_id=a.user_id, help_id=9, at=at)) == 2
        assert tx(lambda s: boards.on_bargain_help(s, helper_id=a.user_id, help_id=9, at=at)) == 0
        for leader in (first, second):
            assert board(leader.community_id, Period.WEEK, WEEK) == [(1, a.user_id, 2)]


def test_an_invitee_first_completed_order_scores_the_inviter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tuangou.referral import service as referral

    _, leader, (inviter,) = community(1)
    (invitee,) = seed_members(leader, 1)
    tx(
        lambda s: referral.bind(
            s, user_id=invitee.user_id, code=referral.member(s, inviter.user_id).code
        )
    )
    with clock_at(monkeypatch, at_local(date(2026, 11, 18))):
        for order_id in (1, 2):  # the first completed order, then another
            event = SimpleNamespace(
                payload={"user_ids": [invitee.user_id], "order_id": order_id},
                created_at=at_local(date(2026, 11, 17 + order_id)),
            )
            tx(lambda s, e=event: wiring._board_on_order_completed(s, e))
        # Nobody invited the inviter: their own orders score nobody.
        lone = SimpleNamespace(payload={"user_ids": [inviter.user_id]}, created_at=event.created_at)
        tx(lambda s: wiring._board_on_order_completed(s, lone))
        assert board(leader.community_id, Period.WEEK, WEEK) == [(1, inviter.user_id, 5)]
