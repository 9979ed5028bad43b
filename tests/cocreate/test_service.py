"""Co-creation through its services, on SQLite and PostgreSQL: who may vote, once per
member, the threshold reached once, archiving, conversion and the voters' early window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.cocreate.support import age_accounts, propose, race, set_threshold, vote, voters
from tests.conftest import run_worker, scalar
from tests.pools.support import (
    seed_leader,
    seed_members,
    seed_operator,
    seed_paid_order,
    seed_sku,
)
from tuangou.cocreate import errors, tasks
from tuangou.cocreate import service as cocreate
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.pools import errors as pool_errors
from tuangou.pools import service as pools


def _proposal(proposal_id: int) -> dict[str, Any]:
    with unit_of_work(readonly=True) as s:
        p = cocreate.get_proposal(s, proposal_id)
        return {"status": p.status, "votes": p.votes, "pledged": p.pledged, "wave_id": p.wave_id}


def _messages(topic: str, proposal_id: int) -> int:
    run_worker()
    return int(
        scalar(
            "SELECT count(*) FROM notifications WHERE kind = :k AND event_key = :key",
            k=topic,
            key=f"proposal:{proposal_id}:{topic.split('.')[1]}",
        )
    )


@pytest.fixture
def leader() -> Any:
    return seed_leader(seed_operator().user_id)


def test_an_account_votes_from_exactly_n_days_old(db: str, leader: Any) -> None:
    author, newcomer = seed_members(leader, 2)
    pid = propose(author, leader)
    # The account is N days old less a second: refused, saying when it may vote.
    age_accounts([newcomer], days=0)
    clock.advance(timedelta(days=7) - timedelta(seconds=1))
    with pytest.raises(errors.NotEligibleToVote) as refused:
        vote(newcomer, pid, pledge=2)
    assert "eligible_at" in refused.value.extra
    assert _proposal(pid)["votes"] == 0
    clock.advance(timedelta(seconds=1))  # exactly N days old
    vote(newcomer, pid, pledge=2)
    assert _proposal(pid) == {"status": "open", "votes": 1, "pledged": 2, "wave_id": None}


def test_a_completed_order_makes_a_new_account_eligible(db: str, leader: Any) -> None:
    author, buyer = seed_members(leader, 2)
    pid = propose(author, leader)
    _, sku = seed_sku()
    from tests.pools.support import Item, seed_wave

    _, listing_id, (item_id,) = seed_wave(leader, [Item(sku_id=sku)])
    order_id = seed_paid_order(buyer, listing_id, {item_id: 1})
    with pytest.raises(errors.NotEligibleToVote):
        vote(buyer, pid)  # paid, not completed
    from tests.pools.support import execute

    execute("UPDATE orders SET status = 'completed' WHERE id = :i", i=order_id)
    vote(buyer, pid)
    assert _proposal(pid)["votes"] == 1


def test_a_member_votes_once_even_when_racing(db: str, leader: Any) -> None:
    author, member = voters(leader, 2)
    pid = propose(author, leader)
    results = race([lambda: vote(member, pid, pledge=3) for _ in range(6)])
    assert sum(isinstance(r, errors.AlreadyVoted) for r in results) == 5
    assert sum(isinstance(r, cocreate.Voted) for r in results) == 1
    assert _proposal(pid)["votes"] == 1 and _proposal(pid)["pledged"] == 3
    assert scalar("SELECT count(*) FROM proposal_votes WHERE proposal_id = :p", p=pid) == 1


def test_the_threshold_is_reached_exactly_once_under_concurrency(db: str, leader: Any) -> None:
    set_threshold(leader, votes=3, units=500)
    author, *people = voters(leader, 7)
    pid = propose(author, leader)
    results = race([lambda p=p: vote(p, pid) for p in people])
    assert all(isinstance(r, cocreate.Voted) for r in results), results
    assert sum(r.became_ready for r in results) == 1
    assert _proposal(pid) == {"status": "ready", "votes": 6, "pledged": 0, "wave_id": None}
    assert _messages("proposal.ready", pid) == 1


def test_pledged_units_alone_reach_the_threshold(db: str, leader: Any) -> None:
    set_threshold(leader, votes=100, units=10)
    author, a, b = voters(leader, 3)
    pid = propose(author, leader)
    assert not vote(a, pid, pledge=9).became_ready
    assert vote(b, pid, pledge=1).became_ready
    assert _proposal(pid)["status"] == "ready"


def test_withdrawing_a_vote_and_closed_proposals(db: str, leader: Any) -> None:
    author, a = voters(leader, 2)
    pid = propose(author, leader)
    vote(a, pid, pledge=5)
    run_in_transaction(lambda s: cocreate.unvote(s, user_id=a.user_id, proposal_id=pid))
    assert _proposal(pid)["votes"] == 0 and _proposal(pid)["pledged"] == 0
    with pytest.raises(errors.NotVoted):
        run_in_transaction(lambda s: cocreate.unvote(s, user_id=a.user_id, proposal_id=pid))
    run_in_transaction(lambda s: cocreate.withdraw(s, user_id=author.user_id, proposal_id=pid))
    with pytest.raises(errors.ProposalClosed):
        vote(a, pid)
    assert _proposal(pid) == {"status": "withdrawn", "votes": 0, "pledged": 0, "wave_id": None}


def test_archiving_is_idempotent(db: str, leader: Any) -> None:
    set_threshold(leader, votes=3, units=500)
    author, a, b, c = voters(leader, 4)
    stale = propose(author, leader, "旧提案")
    ready = propose(author, leader, "达标")
    for p in (a, b, c):
        vote(p, ready)
    clock.advance(timedelta(days=59))
    fresh = propose(author, leader, "新提案")
    assert tasks.archive_stale() == 0
    clock.advance(timedelta(days=1, seconds=1))
    assert tasks.archive_stale() == 1
    assert tasks.archive_stale() == 0
    assert [_proposal(i)["status"] for i in (stale, ready, fresh)] == ["archived", "ready", "open"]
    with pytest.raises(errors.ProposalClosed):
        vote(a, stale)


def _ready(leader: Any, pledges: list[int]) -> tuple[int, list[Any]]:
    set_threshold(leader, votes=len(pledges), units=10_000)
    author, *people = voters(leader, len(pledges) + 1)
    pid = propose(author, leader)
    for person, pledge in zip(people, pledges, strict=True):
        vote(person, pid, pledge=pledge)
    assert _proposal(pid)["status"] == "ready"
    return pid, people


def _convert(leader: Any, pid: int, sku: int, moq: int, **kw: Any) -> Any:
    data = cocreate.ConvertInput(
        sku_id=sku,
        price=kw.get("price", 1200),
        moq=moq,
        stock=kw.get("stock", 200),
        cutoff_at=clock.now() + timedelta(days=3),
        delivery_date=(clock.now() + timedelta(days=4)).date(),
        pickup_point_id=leader.pickup_point_id,
    )
    return run_in_transaction(
        lambda s: cocreate.convert(s, user_id=leader.person.user_id, proposal_id=pid, data=data)
    )


def test_conversion_creates_a_wave_with_moq_at_most_the_pledges(db: str, leader: Any) -> None:
    pid, _ = _ready(leader, [3, 4, 0])
    _, sku = seed_sku(price=1000)
    with pytest.raises(errors.MoqAbovePledged):
        _convert(leader, pid, sku, moq=8)
    assert _proposal(pid)["status"] == "ready"  # the refusal changed nothing
    assert scalar("SELECT count(*) FROM waves") == 0
    proposal = _convert(leader, pid, sku, moq=7)
    assert proposal.status == "converted" and proposal.wave_id is not None
    with unit_of_work(readonly=True) as s:
        (item,) = pools.items_of(s, proposal.wave_id)
        assert (item.moq, item.price, item.sku_id) == (7, 1200, sku)
    with pytest.raises(errors.ProposalClosed):
        _convert(leader, pid, sku, moq=7)
    with pytest.raises(errors.ProposalClosed):
        vote(voters(leader, 1)[0], pid)
    assert _messages("proposal.converted", pid) == 3  # every voter told


def test_an_open_proposal_cannot_be_converted(db: str, leader: Any) -> None:
    author, a = voters(leader, 2)
    pid = propose(author, leader)
    vote(a, pid, pledge=3)
    _, sku = seed_sku()
    with pytest.raises(errors.ProposalNotReady):
        _convert(leader, pid, sku, moq=1)


def test_the_early_window_keeps_the_wave_for_voters(db: str, leader: Any) -> None:
    pid, (v1, _, _) = _ready(leader, [2, 3, 0])
    (outsider,) = voters(leader, 1)
    _, sku = seed_sku()
    proposal = _convert(leader, pid, sku, moq=5)
    listing_id = proposal.listing_id
    with unit_of_work(readonly=True) as s:
        (item,) = pools.items_of(s, proposal.wave_id)
        listing = pools.get_listing(s, listing_id)
        assert pools.may_see_listing(s, listing, user_id=v1.user_id)
        assert not pools.may_see_listing(s, listing, user_id=outsider.user_id)
        assert not pools.may_see_listing(
            s, listing, user_id=outsider.user_id, share=listing.share_token
        )
        assert pools.may_see_listing(s, listing, user_id=leader.person.user_id)
        seen = pools.listings_of_community(s, leader.community_id, viewer_id=outsider.user_id)
        assert seen == []
    with pytest.raises(pool_errors.ListingNotFound):
        seed_paid_order(outsider, listing_id, {item.id: 1})
    seed_paid_order(v1, listing_id, {item.id: 1})
    clock.advance(timedelta(hours=24, seconds=1))
    with unit_of_work(readonly=True) as s:
        assert pools.may_see_listing(s, pools.get_listing(s, listing_id), user_id=outsider.user_id)
    seed_paid_order(outsider, listing_id, {item.id: 2})
    with unit_of_work(readonly=True) as s:
        outcome = cocreate.outcome(s, cocreate.get_proposal(s, pid))
    assert outcome is not None
    assert (outcome.pledgers, outcome.pledgers_ordered) == (2, 1)
    assert (outcome.pledged_units, outcome.ordered_units) == (5, 1)
    assert outcome.reviews is None


def test_only_the_leader_converts_and_sets_the_threshold(db: str, leader: Any) -> None:
    pid, (v1, _, _) = _ready(leader, [1, 1, 1])
    other = seed_leader(seed_operator().user_id, "赵团长")
    _, sku = seed_sku()
    from tuangou.communities import errors as community_errors

    with pytest.raises(community_errors.CommunityNotFound):
        _convert(other, pid, sku, moq=1)
    with pytest.raises(community_errors.NotCommunityLeader):
        run_in_transaction(
            lambda s: cocreate.set_settings(
                s,
                user_id=v1.user_id,
                community_id=leader.community_id,
                votes=5,
                units=50,
                early_hours=24,
            )
        )
    with pytest.raises(errors.InvalidProposal):
        set_threshold(leader, votes=1, units=50)
