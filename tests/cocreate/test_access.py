"""Level early access to a proposal's pre-sale wave, and suppliers the operator links to a
community converting its ready proposals, through the services on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.cocreate.support import race, set_threshold, vote, voters
from tests.conftest import run_worker, scalar
from tests.pools.support import (
    Person,
    seed_leader,
    seed_operator,
    seed_paid_order,
    seed_sku,
    seed_sku_of,
)
from tuangou.cocreate import errors
from tuangou.cocreate import service as cocreate
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import Forbidden
from tuangou.points import service as points
from tuangou.pools import errors as pool_errors
from tuangou.pools import service as pools


@pytest.fixture
def operator() -> Person:
    return seed_operator()


@pytest.fixture
def leader(operator: Person) -> Any:
    return seed_leader(operator.user_id)


def _ready(leader: Any, pledges: list[int], early_hours: int = 24) -> tuple[int, Person, list[Any]]:
    from tests.cocreate.support import propose

    set_threshold(leader, votes=len(pledges), units=10_000, early_hours=early_hours)
    author, *people = voters(leader, len(pledges) + 1)
    pid = propose(author, leader)
    for person, pledge in zip(people, pledges, strict=True):
        vote(person, pid, pledge=pledge)
    return pid, author, people


def _data(leader: Any, sku: int, moq: int, **kw: Any) -> cocreate.ConvertInput:
    return cocreate.ConvertInput(
        sku_id=sku,
        price=kw.get("price", 1200),
        moq=moq,
        stock=200,
        cutoff_at=clock.now() + timedelta(days=3),
        delivery_date=(clock.now() + timedelta(days=4)).date(),
        pickup_point_id=leader.pickup_point_id,
    )


def _leader_converts(leader: Any, pid: int, sku: int, moq: int) -> Any:
    data = _data(leader, sku, moq)
    return run_in_transaction(
        lambda s: cocreate.convert(s, user_id=leader.person.user_id, proposal_id=pid, data=data)
    )


def _supplier_user(supplier_id: int) -> int:
    from tuangou.accounts import service as accounts

    def make(session: Any) -> int:
        phone = f"139{supplier_id:08d}"
        return accounts.create_user(
            session,
            phone=phone,
            password=None,
            nickname="供应商",
            role="supplier",
            supplier_id=supplier_id,
        ).id

    return run_in_transaction(make)


def _supplier_converts(supplier_id: int, user_id: int, leader: Any, pid: int, sku: int) -> Any:
    data = _data(leader, sku, 1)
    return run_in_transaction(
        lambda s: cocreate.convert_as_supplier(
            s, user_id=user_id, supplier_id=supplier_id, proposal_id=pid, data=data
        )
    )


def _link(operator: Person, leader: Any, supplier_id: int) -> None:
    run_in_transaction(
        lambda s: cocreate.link_supplier(
            s,
            operator_id=operator.user_id,
            community_id=leader.community_id,
            supplier_id=supplier_id,
        )
    )


def _experience(person: Person, amount: int) -> None:
    run_in_transaction(
        lambda s: points.award(
            s, user_id=person.user_id, reason="task", key=f"lvl:{person.user_id}", points=amount
        )
    )


def _sees(person: Person, listing_id: int) -> bool:
    with unit_of_work(readonly=True) as s:
        return pools.may_see_listing(s, pools.get_listing(s, listing_id), user_id=person.user_id)


# ---------------------------------------------------------------- level early access


def test_a_level_opens_the_wave_its_early_hours_before_everyone(db: str, leader: Any) -> None:
    pid, _, _ = _ready(leader, [1, 2, 2])
    neighbour, newcomer = voters(leader, 2)
    _experience(neighbour, 800)  # 热心邻居: 2 hours early
    with unit_of_work(readonly=True) as s:
        assert points.level_of(s, neighbour.user_id).early_hours == 2
        assert points.level_of(s, newcomer.user_id).early_hours == 0
    _, sku = seed_sku()
    proposal = _leader_converts(leader, pid, sku, moq=5)
    listing, opening = proposal.listing_id, proposal.early_until
    with unit_of_work(readonly=True) as s:
        (item,) = pools.items_of(s, proposal.wave_id)
        assert pools.opens_at(s, proposal.wave_id) == opening
        assert pools.open_to(s, proposal.wave_id, neighbour.user_id) == opening - timedelta(hours=2)
        assert pools.open_to(s, proposal.wave_id, newcomer.user_id) == opening
    # One second before the level's window: refused as any member is before the opening.
    clock.advance(opening - timedelta(hours=2, seconds=1) - clock.now())
    assert not _sees(neighbour, listing)
    with pytest.raises(pool_errors.ListingNotFound):
        seed_paid_order(neighbour, listing, {item.id: 1})
    clock.advance(timedelta(seconds=1))  # exactly N hours before the opening
    assert _sees(neighbour, listing)
    seed_paid_order(neighbour, listing, {item.id: 1})
    # A member below the level waits for the opening, to the second.
    clock.advance(opening - timedelta(seconds=1) - clock.now())
    assert not _sees(newcomer, listing)
    with pytest.raises(pool_errors.ListingNotFound):
        seed_paid_order(newcomer, listing, {item.id: 1})
    with unit_of_work(readonly=True) as s:
        assert pools.listings_of_community(s, leader.community_id, viewer_id=newcomer.user_id) == []
    clock.advance(timedelta(seconds=1))
    assert _sees(newcomer, listing)
    seed_paid_order(newcomer, listing, {item.id: 1})


def test_the_longer_window_wins_for_a_voter_with_a_level(db: str, leader: Any) -> None:
    # Voters' window of 1 hour; a voter whose level gives 2 hours sees the wave 2 hours
    # before its opening, that is from its conversion; a voter without a level from then
    # too (the voters' window is the whole hour).
    pid, _, (levelled, plain, _) = _ready(leader, [1, 2, 2], early_hours=1)
    _experience(levelled, 800)
    (outsider,) = voters(leader, 1)
    _experience(outsider, 800)
    _, sku = seed_sku()
    proposal = _leader_converts(leader, pid, sku, moq=5)
    with unit_of_work(readonly=True) as s:
        wave = proposal.wave_id
        start = proposal.early_until
        assert pools.open_to(s, wave, levelled.user_id) == start - timedelta(hours=2)
        assert pools.open_to(s, wave, plain.user_id) == start - timedelta(hours=1)
        assert pools.early_window(s, wave, outsider.user_id) == timedelta(hours=2)
    assert _sees(levelled, proposal.listing_id)
    assert _sees(plain, proposal.listing_id)
    assert _sees(outsider, proposal.listing_id)  # the level's 2 hours cover the voters' hour


def test_a_wave_without_an_opening_is_open_to_every_level(db: str, leader: Any) -> None:
    from tests.pools.support import Item, seed_wave

    (member,) = voters(leader, 1)
    _, sku = seed_sku()
    wave, _, _ = seed_wave(leader, [Item(sku_id=sku)])
    with unit_of_work(readonly=True) as s:
        assert pools.opens_at(s, wave) is None
        assert not pools.held_back(s, wave, member.user_id)


# ---------------------------------------------------------------- supplier links


def test_the_operator_links_and_unlinks_with_a_trail(
    db: str, operator: Person, leader: Any
) -> None:
    supplier, _ = seed_sku()
    _link(operator, leader, supplier)
    with pytest.raises(errors.SupplierAlreadyLinked):
        _link(operator, leader, supplier)
    with unit_of_work(readonly=True) as s:
        (link,) = cocreate.links_of_community(s, leader.community_id)
        assert (link.supplier_id, link.linked_by) == (supplier, operator.user_id)
        assert cocreate.is_linked(s, supplier, leader.community_id)
    run_in_transaction(
        lambda s: cocreate.unlink_supplier(
            s, operator_id=operator.user_id, community_id=leader.community_id, supplier_id=supplier
        )
    )
    with pytest.raises(errors.SupplierLinkNotFound):
        run_in_transaction(
            lambda s: cocreate.unlink_supplier(
                s,
                operator_id=operator.user_id,
                community_id=leader.community_id,
                supplier_id=supplier,
            )
        )
    with unit_of_work(readonly=True) as s:
        assert cocreate.links_of_community(s, leader.community_id) == []
        trail = cocreate.link_trail(s, community_id=leader.community_id)
    assert [(e.action, e.supplier_id, e.by_user_id) for e in trail] == [
        ("unlinked", supplier, operator.user_id),
        ("linked", supplier, operator.user_id),
    ]


def test_a_linked_supplier_converts_as_the_leader_does(
    db: str, operator: Person, leader: Any
) -> None:
    pid, author, (v1, _, _) = _ready(leader, [1, 2, 2])
    (outsider,) = voters(leader, 1)
    supplier, sku = seed_sku(price=1000)
    user = _supplier_user(supplier)
    with pytest.raises(errors.SupplierNotLinked):
        _supplier_converts(supplier, user, leader, pid, sku)
    _link(operator, leader, supplier)
    with unit_of_work(readonly=True) as s:
        assert [p.id for p in cocreate.ready_for_supplier(s, supplier)] == [pid]
    # Another supplier's SKU, or an MOQ above the pledges: refused, nothing changes.
    _, foreign = seed_sku()
    with pytest.raises(Forbidden):
        _supplier_converts(supplier, user, leader, pid, foreign)
    data = _data(leader, sku, 6)
    with pytest.raises(errors.MoqAbovePledged):
        run_in_transaction(
            lambda s: cocreate.convert_as_supplier(
                s, user_id=user, supplier_id=supplier, proposal_id=pid, data=data
            )
        )
    assert scalar("SELECT count(*) FROM waves") == 0
    proposal = _supplier_converts(supplier, user, leader, pid, sku)
    assert (proposal.status, proposal.supplier_id, proposal.converted_by) == (
        "converted",
        supplier,
        user,
    )
    with unit_of_work(readonly=True) as s:
        wave = pools.get_wave(s, proposal.wave_id)
        listing = pools.get_listing(s, proposal.listing_id)
        assert (wave.source, wave.supplier_id, wave.created_by) == ("supplier", supplier, user)
        assert listing.community_id == leader.community_id
        assert (listing.leader_id, listing.pickup_point_id) == (
            leader.leader_id,
            leader.pickup_point_id,
        )
        assert cocreate.ready_for_supplier(s, supplier) == []
    # The voters' early window, exactly as with the leader's conversion.
    assert _sees(v1, proposal.listing_id)
    assert not _sees(outsider, proposal.listing_id)
    # Converted once: neither the supplier nor the leader converts it again.
    with pytest.raises(errors.ProposalClosed):
        _supplier_converts(supplier, user, leader, pid, sku)
    with pytest.raises(errors.ProposalClosed):
        _leader_converts(leader, pid, sku, moq=1)
    run_worker()
    told = scalar(
        "SELECT count(*) FROM notifications WHERE kind = 'proposal.published' "
        "AND user_id IN (:a, :b)",
        a=author.user_id,
        b=leader.person.user_id,
    )
    assert told == 2
    assert scalar("SELECT count(*) FROM notifications WHERE kind = 'proposal.converted'") == 3


def test_leader_and_supplier_racing_make_exactly_one_wave(
    db: str, operator: Person, leader: Any
) -> None:
    pid, _, _ = _ready(leader, [1, 2, 2])
    supplier, sku = seed_sku()
    user = _supplier_user(supplier)
    _link(operator, leader, supplier)
    own = seed_sku_of(supplier)
    results = race(
        [
            lambda: _leader_converts(leader, pid, sku, moq=5),
            lambda: _supplier_converts(supplier, user, leader, pid, own),
        ]
    )
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1
    assert len(lost) == 1 and isinstance(lost[0], errors.ProposalClosed)
    assert scalar("SELECT count(*) FROM waves") == 1
    assert scalar("SELECT count(*) FROM wave_listings") == 1
    assert scalar("SELECT wave_id FROM proposals WHERE id = :id", id=pid) == won[0].wave_id
