"""Co-creation (共创 / C2M): proposals, votes and pledges, the threshold, and the proposal
turned into a pre-sale wave with its voters' early window.

Guarded writes as everywhere: one vote per member is the vote table's primary key (an
insert that does nothing on a conflict); the proposal's counts move with one UPDATE guarded
by its status; it becomes ready by compare-and-set (``WHERE status = 'open'`` and the
threshold met), so the leader is told once however many votes race; it is converted,
archived or withdrawn by compare-and-set too. The lock order is the vote row, then the
proposal row, on every path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.cocreate import errors, rules
from tuangou.cocreate.models import (
    CocreateSettings,
    Proposal,
    ProposalVote,
    SupplierLink,
    SupplierLinkEvent,
)
from tuangou.cocreate.rules import ProposalStatus
from tuangou.communities import errors as community_errors
from tuangou.communities import service as communities
from tuangou.core import clock, outbox
from tuangou.core.config import get_settings
from tuangou.core.db import get_or_404, table, upsert_insert
from tuangou.core.errors import Forbidden
from tuangou.orders import service as orders
from tuangou.photos import service as photos
from tuangou.pools import service as pools

PHOTO_KIND = "proposal"
PAGE_SIZE = 20


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _invalid(exc: rules.RuleViolation) -> errors.InvalidProposal:
    return errors.InvalidProposal(str(exc), field=exc.field)


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class CommunitySettings:
    community_id: int
    votes: int
    units: int
    early_hours: int

    @property
    def threshold(self) -> rules.Threshold:
        return rules.Threshold(votes=self.votes, units=self.units)


def settings_of(session: Session, community_id: int) -> CommunitySettings:
    row = session.get(CocreateSettings, community_id)
    if row is None:
        return CommunitySettings(
            community_id, rules.DEFAULT_VOTES, rules.DEFAULT_UNITS, rules.DEFAULT_EARLY_HOURS
        )
    return CommunitySettings(community_id, row.votes, row.units, row.early_hours)


def is_leader_of(session: Session, user_id: int, community_id: int) -> bool:
    community = communities.get_community(session, community_id)
    return communities.get_leader(session, community.leader_id).user_id == user_id


def leader_settings(session: Session, *, user_id: int, community_id: int) -> CommunitySettings:
    communities.require_community_leader(session, user_id, community_id)
    return settings_of(session, community_id)


def set_settings(
    session: Session, *, user_id: int, community_id: int, votes: int, units: int, early_hours: int
) -> CommunitySettings:
    """The leader sets the threshold (votes ≥ V or pledged units ≥ Q) and the early window,
    within the operator's bounds. It applies to votes from now on: a proposal already ready
    stays ready."""
    communities.require_community_leader(session, user_id, community_id)
    try:
        rules.check_threshold(votes, units, early_hours)
    except rules.RuleViolation as exc:
        raise _invalid(exc) from exc
    values = {
        "votes": votes,
        "units": units,
        "early_hours": early_hours,
        "updated_by": user_id,
        "updated_at": clock.now(),
    }
    session.execute(
        upsert_insert(session)(table(CocreateSettings))
        .values(community_id=community_id, **values)
        .on_conflict_do_update(index_elements=["community_id"], set_=values)
    )
    return settings_of(session, community_id)


# ---------------------------------------------------------------- proposals


def any_proposal(session: Session) -> bool:
    return session.scalar(select(Proposal.id).limit(1)) is not None


def get_proposal(session: Session, proposal_id: int) -> Proposal:
    return get_or_404(session, Proposal, proposal_id, errors.ProposalNotFound)


def may_see(session: Session, proposal: Proposal, user_id: int | None, *, operator: bool) -> bool:
    """The community's members, its leader and operators see a proposal (and its photo)."""
    if operator:
        return True
    if user_id is None:
        return False
    return communities.is_member(session, proposal.community_id, user_id) or is_leader_of(
        session, user_id, proposal.community_id
    )


def photo_visible(session: Session, viewer_id: int | None, proposal_id: int) -> bool:
    """The photo rule (``photos.register_visibility``); operators are let in by photos."""
    proposal = session.get(Proposal, proposal_id)
    return proposal is not None and may_see(session, proposal, viewer_id, operator=False)


def visible_proposal(
    session: Session, proposal_id: int, *, user_id: int | None, operator: bool = False
) -> Proposal:
    proposal = get_proposal(session, proposal_id)
    if not may_see(session, proposal, user_id, operator=operator):
        raise errors.ProposalNotFound()
    return proposal


def _require_visible_community(
    session: Session, community_id: int, user_id: int, *, operator: bool = False
) -> None:
    communities.get_community(session, community_id)
    if operator or communities.is_member(session, community_id, user_id):
        return
    if not is_leader_of(session, user_id, community_id):
        raise community_errors.CommunityNotFound()


def propose(
    session: Session,
    *,
    user_id: int,
    community_id: int,
    title: str,
    description: str,
    target_price: int,
    supplier_hint: str = "",
    photo_ids: list[str] | None = None,
) -> Proposal:
    """A member proposes a product to their community, with at most one photo (uploaded
    first with ``photos.upload``)."""
    communities.get_community(session, community_id)
    if not communities.is_member(session, community_id, user_id):
        raise community_errors.CommunityNotFound()
    description, supplier_hint = description.strip(), supplier_hint.strip()
    try:
        rules.check_proposal(title, description, target_price, supplier_hint)
    except rules.RuleViolation as exc:
        raise _invalid(exc) from exc
    proposal = Proposal(
        community_id=community_id,
        author_id=user_id,
        title=title.strip(),
        description=description,
        target_price=target_price,
        supplier_hint=supplier_hint,
        status=ProposalStatus.OPEN,
        votes=0,
        pledged=0,
        created_at=clock.now(),
    )
    session.add(proposal)
    session.flush()
    photos.attach(
        session,
        user_id=user_id,
        photo_ids=photo_ids or [],
        owner_kind=PHOTO_KIND,
        owner_id=proposal.id,
        max_count=rules.PHOTOS_PER_PROPOSAL,
    )
    return proposal


def proposals_of(
    session: Session,
    *,
    community_id: int,
    user_id: int,
    operator: bool = False,
    status: str | None = None,
    cursor: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[Proposal], int | None]:
    """A community's proposals, newest first, a page at a time: the next page starts below
    the returned cursor (None: no more)."""
    _require_visible_community(session, community_id, user_id, operator=operator)
    query = select(Proposal).where(Proposal.community_id == community_id)
    if status:
        if status not in set(ProposalStatus):
            raise errors.InvalidProposal("unknown status", field="status")
        query = query.where(Proposal.status == status)
    if cursor is not None:
        query = query.where(Proposal.id < cursor)
    rows = list(session.scalars(query.order_by(Proposal.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def withdraw(session: Session, *, user_id: int, proposal_id: int) -> Proposal:
    """Its author withdraws an open proposal (a ready one is the leader's to convert)."""
    proposal = visible_proposal(session, proposal_id, user_id=user_id)
    if proposal.author_id != user_id:
        raise Forbidden("only its author withdraws a proposal")
    done = session.execute(
        update(table(Proposal))
        .where(Proposal.id == proposal_id, Proposal.status == ProposalStatus.OPEN)
        .values(status=ProposalStatus.WITHDRAWN, closed_at=clock.now())
    )
    if not _rowcount(done):
        raise errors.ProposalClosed("only an open proposal can be withdrawn")
    session.refresh(proposal)
    return proposal


# ---------------------------------------------------------------- votes


def _completed_order(session: Session, user_id: int) -> bool:
    # Only an account younger than the minimum age asks: it has few orders.
    return any(
        o.status == rules.COMPLETED_ORDER for o in orders.list_for_user(session, user_id, limit=200)
    )


def eligible_from(session: Session, user_id: int) -> datetime | None:
    """None if the member may vote now; else the instant they may (their account old
    enough)."""
    user = accounts.get_user(session, user_id)
    days = get_settings().cocreate_vote_account_days
    if rules.may_vote(
        account_created=user.created_at, now=clock.now(), min_days=days, completed_order=False
    ):
        return None
    if _completed_order(session, user_id):
        return None
    return rules.eligible_from(user.created_at, days)


@dataclass(frozen=True)
class Voted:
    proposal: Proposal
    pledge: int
    became_ready: bool


def vote(session: Session, *, user_id: int, proposal_id: int, pledge: int = 0) -> Voted:
    """A member votes once, optionally pledging units they would buy. Refusals:
    ``not_eligible_to_vote`` (saying when), ``already_voted``, ``proposal_closed``."""
    proposal = visible_proposal(session, proposal_id, user_id=user_id)
    if not communities.is_member(session, proposal.community_id, user_id):
        raise Forbidden("only the community's members vote")
    try:
        rules.check_pledge(pledge)
    except rules.RuleViolation as exc:
        raise _invalid(exc) from exc
    if proposal.status not in rules.VOTABLE:
        raise errors.ProposalClosed()
    when = eligible_from(session, user_id)
    if when is not None:
        raise errors.NotEligibleToVote(
            "votes count from members with a completed order or an account "
            f"{get_settings().cocreate_vote_account_days} days old: you may vote from "
            f"{clock.to_local(when):%Y-%m-%d %H:%M}",
            eligible_at=clock.iso(when),
        )
    inserted = session.execute(
        upsert_insert(session)(table(ProposalVote))
        .values(proposal_id=proposal_id, user_id=user_id, pledge=pledge, created_at=clock.now())
        .on_conflict_do_nothing()
    )
    if not _rowcount(inserted):
        raise errors.AlreadyVoted()
    counted = session.execute(
        update(table(Proposal))
        .where(Proposal.id == proposal_id, Proposal.status.in_(rules.VOTABLE))
        .values(votes=Proposal.votes + 1, pledged=Proposal.pledged + pledge)
    )
    if not _rowcount(counted):
        raise errors.ProposalClosed()  # closed meanwhile: the vote is rolled back with it
    became_ready = _mark_ready(session, proposal)
    session.refresh(proposal)
    return Voted(proposal=proposal, pledge=pledge, became_ready=became_ready)


def _mark_ready(session: Session, proposal: Proposal) -> bool:
    """Open → ready once the threshold is met (compare-and-set); the leader is told once."""
    threshold = settings_of(session, proposal.community_id).threshold
    done = session.execute(
        update(table(Proposal))
        .where(
            Proposal.id == proposal.id,
            Proposal.status == ProposalStatus.OPEN,
            (Proposal.votes >= threshold.votes) | (Proposal.pledged >= threshold.units),
        )
        .values(status=ProposalStatus.READY, ready_at=clock.now())
    )
    if not _rowcount(done):
        return False
    session.refresh(proposal)
    community = communities.get_community(session, proposal.community_id)
    leader = communities.get_leader(session, community.leader_id)
    outbox.emit(
        session,
        "proposal.ready",
        {
            "user_ids": [leader.user_id],
            "proposal_id": proposal.id,
            "community_id": proposal.community_id,
            "title": proposal.title,
            "votes": proposal.votes,
            "units": proposal.pledged,
        },
    )
    return True


def unvote(session: Session, *, user_id: int, proposal_id: int) -> Proposal:
    """A member withdraws their vote (and pledge) while the proposal is open."""
    proposal = visible_proposal(session, proposal_id, user_id=user_id)
    if proposal.status != ProposalStatus.OPEN:
        raise errors.ProposalClosed("a vote can be withdrawn only while the proposal is open")
    row = session.execute(
        delete(table(ProposalVote))
        .where(ProposalVote.proposal_id == proposal_id, ProposalVote.user_id == user_id)
        .returning(ProposalVote.pledge)
    ).first()
    if row is None:
        raise errors.NotVoted()
    counted = session.execute(
        update(table(Proposal))
        .where(Proposal.id == proposal_id, Proposal.status == ProposalStatus.OPEN)
        .values(votes=Proposal.votes - 1, pledged=Proposal.pledged - int(row[0]))
    )
    if not _rowcount(counted):
        raise errors.ProposalClosed("a vote can be withdrawn only while the proposal is open")
    session.refresh(proposal)
    return proposal


def vote_of(session: Session, proposal_id: int, user_id: int | None) -> ProposalVote | None:
    if user_id is None:
        return None
    return session.get(ProposalVote, (proposal_id, user_id))


def voters_of(session: Session, proposal_id: int) -> dict[int, int]:
    """Each voter's pledge."""
    return {
        v.user_id: v.pledge
        for v in session.scalars(
            select(ProposalVote).where(ProposalVote.proposal_id == proposal_id)
        )
    }


# ---------------------------------------------------------------- conversion


@dataclass
class ConvertInput:
    sku_id: int
    price: int
    moq: int
    stock: int
    cutoff_at: datetime
    delivery_date: date
    pickup_point_id: int
    per_member_limit: int = 10
    title: str = ""
    commission_bps: int | None = None  # the wave's leader commission (None: the default)


def ready_for_leader(session: Session, user_id: int) -> list[Proposal]:
    """The proposals ready to convert in the communities the user leads (a non-leader:
    ``not_a_leader``)."""
    leader = communities.get_leader_by_user(session, user_id)
    ids = [c.id for c in communities.communities_led_by(session, leader.id)]
    if not ids:
        return []
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.community_id.in_(ids), Proposal.status == ProposalStatus.READY)
            .order_by(Proposal.ready_at, Proposal.id)
        )
    )


def convert(session: Session, *, user_id: int, proposal_id: int, data: ConvertInput) -> Proposal:
    """The community's leader turns a ready proposal into a pre-sale wave through the normal
    wave path (their own goods, or a supplier's SKU within its terms), with an MOQ of the
    pledged units or less. Its voters are told first, and only they may see and order the
    wave until the early window ends."""
    proposal = get_proposal(session, proposal_id)
    communities.require_community_leader(session, user_id, proposal.community_id)

    def publish(wave: pools.WaveInput) -> tuple[Any, Any]:
        return pools.publish_wave(
            session,
            user_id=user_id,
            community_id=proposal.community_id,
            pickup_point_id=data.pickup_point_id,
            data=wave,
        )

    return _convert(session, proposal, data, by=user_id, supplier_id=None, publish=publish)


def convert_as_supplier(
    session: Session, *, user_id: int, supplier_id: int, proposal_id: int, data: ConvertInput
) -> Proposal:
    """A supplier the operator linked to the proposal's community turns it into a pre-sale
    wave of its own SKU (``pools.publish_supplier_wave``: the community's leader is the
    wave's leader, members collect at the leader's first open pickup point, and
    ``data.pickup_point_id`` is not used). The same conversion as the leader's: MOQ at most
    the pledged units, voters told first with the same early window. An unlinked supplier:
    ``supplier_not_linked`` (403)."""
    proposal = get_proposal(session, proposal_id)
    if not is_linked(session, supplier_id, proposal.community_id):
        raise errors.SupplierNotLinked()

    def publish(wave: pools.WaveInput) -> tuple[Any, Any]:
        return pools.publish_supplier_wave(
            session,
            user_id=user_id,
            supplier_id=supplier_id,
            community_id=proposal.community_id,
            data=wave,
        )

    return _convert(session, proposal, data, by=user_id, supplier_id=supplier_id, publish=publish)


def _convert(
    session: Session,
    proposal: Proposal,
    data: ConvertInput,
    *,
    by: int,
    supplier_id: int | None,
    publish: Callable[[pools.WaveInput], tuple[Any, Any]],
) -> Proposal:
    """The one conversion, whoever converts: ready → converted by compare-and-set (a second
    conversion, even a concurrent one, is ``proposal_closed`` and makes no wave), the wave
    published by ``publish``, the voters' early window set and the voters told first; the
    proposer and the community's leader are told who converted it."""
    if data.moq > rules.max_moq(proposal.pledged):
        raise errors.MoqAbovePledged(
            f"the minimum order may be at most the {proposal.pledged} units pledged",
            field="moq",
            pledged=proposal.pledged,
        )
    now = clock.now()
    taken = session.execute(
        update(table(Proposal))
        .where(Proposal.id == proposal.id, Proposal.status == ProposalStatus.READY)
        .values(
            status=ProposalStatus.CONVERTED,
            closed_at=now,
            converted_by=by,
            supplier_id=supplier_id,
        )
    )
    if not _rowcount(taken):
        session.refresh(proposal)
        if proposal.status == ProposalStatus.OPEN:
            raise errors.ProposalNotReady()
        raise errors.ProposalClosed()
    session.refresh(proposal)
    title = data.title.strip() or proposal.title
    wave_input = pools.WaveInput(
        title=title,
        description=proposal.description,
        cutoff_at=data.cutoff_at,
        delivery_date=data.delivery_date,
        items=[
            pools.ItemInput(
                sku_id=data.sku_id,
                price=data.price,
                moq=data.moq,
                stock=data.stock,
                per_member_limit=data.per_member_limit,
                title=title,
            )
        ],
    )
    if data.commission_bps is not None:
        wave_input.commission_bps = data.commission_bps
    wave, listing = publish(wave_input)
    early = settings_of(session, proposal.community_id).early_hours
    proposal.wave_id = wave.id
    proposal.listing_id = listing.id
    proposal.early_until = min(now + timedelta(hours=early), wave.cutoff_at)
    session.flush()
    voters = sorted(voters_of(session, proposal.id))
    if voters:
        outbox.emit(
            session,
            "proposal.converted",
            {
                "user_ids": voters,
                "proposal_id": proposal.id,
                "wave_id": wave.id,
                "listing_id": listing.id,
                "title": proposal.title,
                "early_until": f"{clock.to_local(proposal.early_until):%m-%d %H:%M}",
            },
        )
    community = communities.get_community(session, proposal.community_id)
    leader_user = communities.get_leader(session, community.leader_id).user_id
    told = sorted({proposal.author_id, leader_user} - {by})
    if told:
        outbox.emit(
            session,
            "proposal.published",
            {
                "user_ids": told,
                "proposal_id": proposal.id,
                "wave_id": wave.id,
                "listing_id": listing.id,
                "title": proposal.title,
                "by": "supplier" if supplier_id is not None else "leader",
                "supplier_id": supplier_id,
            },
        )
    return proposal


def opening(session: Session, wave_id: int) -> datetime | None:
    """When a proposal's wave opens to everyone (``pools.register_opening``): the end of its
    voters' early window."""
    return session.scalar(select(Proposal.early_until).where(Proposal.wave_id == wave_id))


def early_access(session: Session, wave_id: int, user_id: int) -> timedelta:
    """How long before its opening a user may see and order a proposal's wave
    (``pools.register_early_access``): its voters and its leader, from the conversion (the
    whole early window); anyone else, not at all by this rule."""
    proposal = session.scalar(select(Proposal).where(Proposal.wave_id == wave_id))
    if proposal is None or proposal.early_until is None or proposal.closed_at is None:
        return timedelta(0)
    window = proposal.early_until - proposal.closed_at
    if session.get(ProposalVote, (proposal.id, user_id)) is not None:
        return window
    if is_leader_of(session, user_id, proposal.community_id):
        return window
    return timedelta(0)


# ---------------------------------------------------------------- suppliers linked by the operator


@dataclass(frozen=True)
class LinkEvent:
    community_id: int
    supplier_id: int
    action: str
    by_user_id: int
    at: datetime


def is_linked(session: Session, supplier_id: int, community_id: int) -> bool:
    return session.get(SupplierLink, (community_id, supplier_id)) is not None


def links_of_community(session: Session, community_id: int) -> list[SupplierLink]:
    communities.get_community(session, community_id)
    return list(
        session.scalars(
            select(SupplierLink)
            .where(SupplierLink.community_id == community_id)
            .order_by(SupplierLink.supplier_id)
        )
    )


def all_links(session: Session, *, limit: int = 500) -> list[SupplierLink]:
    return list(
        session.scalars(
            select(SupplierLink)
            .order_by(SupplierLink.community_id, SupplierLink.supplier_id)
            .limit(limit)
        )
    )


def link_trail(
    session: Session, *, community_id: int | None = None, limit: int = 100
) -> list[SupplierLinkEvent]:
    """Who linked and unlinked which supplier, and when, newest first."""
    query = select(SupplierLinkEvent).order_by(SupplierLinkEvent.id.desc()).limit(limit)
    if community_id is not None:
        query = query.where(SupplierLinkEvent.community_id == community_id)
    return list(session.scalars(query))


def communities_of_supplier(session: Session, supplier_id: int) -> list[int]:
    return list(
        session.scalars(
            select(SupplierLink.community_id)
            .where(SupplierLink.supplier_id == supplier_id)
            .order_by(SupplierLink.community_id)
        )
    )


def link_supplier(
    session: Session, *, operator_id: int, community_id: int, supplier_id: int
) -> SupplierLink:
    """The operator links a supplier to a community (``supplier_already_linked`` if it is);
    the trail records who and when."""
    communities.get_community(session, community_id)
    catalog.get_supplier(session, supplier_id)
    now = clock.now()
    done = session.execute(
        upsert_insert(session)(table(SupplierLink))
        .values(
            community_id=community_id, supplier_id=supplier_id, linked_by=operator_id, linked_at=now
        )
        .on_conflict_do_nothing()
    )
    if not _rowcount(done):
        raise errors.SupplierAlreadyLinked()
    session.add(
        SupplierLinkEvent(
            community_id=community_id,
            supplier_id=supplier_id,
            action="linked",
            by_user_id=operator_id,
            at=now,
        )
    )
    session.flush()
    link = session.get(SupplierLink, (community_id, supplier_id))
    assert link is not None
    return link


def unlink_supplier(
    session: Session, *, operator_id: int, community_id: int, supplier_id: int
) -> None:
    """The operator unlinks a supplier (``supplier_link_not_found`` if it was not linked);
    the waves it already made stay as they are."""
    done = session.execute(
        delete(table(SupplierLink)).where(
            SupplierLink.community_id == community_id, SupplierLink.supplier_id == supplier_id
        )
    )
    if not _rowcount(done):
        raise errors.SupplierLinkNotFound()
    session.add(
        SupplierLinkEvent(
            community_id=community_id,
            supplier_id=supplier_id,
            action="unlinked",
            by_user_id=operator_id,
            at=clock.now(),
        )
    )
    session.flush()


def ready_for_supplier(session: Session, supplier_id: int) -> list[Proposal]:
    """The ready proposals of the communities the supplier is linked to."""
    ids = communities_of_supplier(session, supplier_id)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Proposal)
            .where(Proposal.community_id.in_(ids), Proposal.status == ProposalStatus.READY)
            .order_by(Proposal.ready_at, Proposal.id)
            .limit(200)
        )
    )


def supplier_proposal(session: Session, supplier_id: int, proposal_id: int) -> Proposal:
    """A proposal for a supplier to convert: one of a linked community (else 403)."""
    proposal = get_proposal(session, proposal_id)
    if not is_linked(session, supplier_id, proposal.community_id):
        raise errors.SupplierNotLinked()
    return proposal


# ---------------------------------------------------------------- what became of it

ReviewSummary = dict[str, Any]
_review_summary: list[Callable[[Session, int], ReviewSummary | None]] = []


def register_review_summary(source: Callable[[Session, int], ReviewSummary | None]) -> None:
    """Where the reviews of a converted proposal's wave come from: ``source(session,
    wave_id)`` returns ``{"count": n, "average": stars, "url": link}`` or None. The
    composition root points it at the reviews domain's summary of a wave."""
    _review_summary[:] = [source]


def review_summary(session: Session, wave_id: int) -> ReviewSummary | None:
    """The reviews of the wave after delivery (None until a reviews source is registered)."""
    return _review_summary[0](session, wave_id) if _review_summary else None


@dataclass(frozen=True)
class Outcome:
    wave_id: int
    listing_id: int | None
    wave_title: str
    wave_status: str
    early_until: datetime | None
    pledgers: int  # voters who pledged units
    pledgers_ordered: int  # of them, those who ordered
    pledged_units: int
    ordered_units: int  # what the pledgers ordered, each counted up to their pledge
    reviews: ReviewSummary | None


def outcome(session: Session, proposal: Proposal) -> Outcome | None:
    """What became of a converted proposal: its wave, how many pledgers ordered and how much
    of their pledges, and the reviews after delivery."""
    if proposal.wave_id is None:
        return None
    wave = pools.get_wave(session, proposal.wave_id)
    pledges = {uid: p for uid, p in voters_of(session, proposal.id).items() if p > 0}
    ordered = pools.ordered_units(session, wave.id, list(pledges))
    return Outcome(
        wave_id=wave.id,
        listing_id=proposal.listing_id,
        wave_title=wave.title,
        wave_status=wave.status,
        early_until=proposal.early_until,
        pledgers=len(pledges),
        pledgers_ordered=sum(1 for uid in pledges if ordered.get(uid, 0) > 0),
        pledged_units=sum(pledges.values()),
        ordered_units=sum(min(ordered.get(uid, 0), p) for uid, p in pledges.items()),
        reviews=review_summary(session, wave.id),
    )


# ---------------------------------------------------------------- archiving


def due_for_archive(session: Session, limit: int = 200) -> list[int]:
    before = rules.archive_before(clock.now(), get_settings().cocreate_archive_days)
    return list(
        session.scalars(
            select(Proposal.id)
            .where(Proposal.status == ProposalStatus.OPEN, Proposal.created_at < before)
            .order_by(Proposal.id)
            .limit(limit)
        )
    )


def archive(session: Session, proposal_id: int) -> bool:
    """Archive an open proposal past the archive days (compare-and-set: once)."""
    before = rules.archive_before(clock.now(), get_settings().cocreate_archive_days)
    done = session.execute(
        update(table(Proposal))
        .where(
            Proposal.id == proposal_id,
            Proposal.status == ProposalStatus.OPEN,
            Proposal.created_at < before,
        )
        .values(status=ProposalStatus.ARCHIVED, closed_at=clock.now())
    )
    return _rowcount(done) == 1


def photos_of(session: Session, proposal_ids: list[int]) -> dict[int, list[Any]]:
    return photos.photos_of(session, PHOTO_KIND, proposal_ids)


def proposals_between(
    session: Session, community_id: int, start: datetime, end: datetime, *, limit: int = 500
) -> list[Proposal]:
    """The community's proposals made in ``[start, end)`` and not withdrawn, newest first:
    each is a member asking for a product, and its votes are more members asking."""
    return list(
        session.scalars(
            select(Proposal)
            .where(
                Proposal.community_id == community_id,
                Proposal.status != ProposalStatus.WITHDRAWN,
                Proposal.created_at >= start,
                Proposal.created_at < end,
            )
            .order_by(Proposal.created_at.desc(), Proposal.id.desc())
            .limit(limit)
        )
    )
