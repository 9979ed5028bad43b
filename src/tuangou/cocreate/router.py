from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.api.deps import Caller, IdemKey, Member, Operator, SupplierStaff, idempotent
from tuangou.cocreate import schemas
from tuangou.cocreate import service as cocreate
from tuangou.cocreate.models import Proposal
from tuangou.core.db import unit_of_work

router = APIRouter(tags=["co-creation"])


def proposal_out(
    session: Session, p: Proposal, viewer_id: int | None, *, whole: bool = False
) -> schemas.ProposalOut:
    vote = cocreate.vote_of(session, p.id, viewer_id)
    return schemas.ProposalOut.of(
        p,
        settings=cocreate.settings_of(session, p.community_id),
        viewer_id=viewer_id,
        my_pledge=vote.pledge if vote is not None else None,
        photos=cocreate.photos_of(session, [p.id])[p.id],
        outcome=cocreate.outcome(session, p) if whole else None,
    )


@router.get("/communities/{community_id}/proposals")
def community_proposals(
    community_id: int,
    who: Caller,
    status: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[int | None, Query(ge=1)] = None,
) -> schemas.ProposalPageOut:
    """A community's proposals (共创), newest first, a page at a time, with each one's votes
    and pledged units against the community's threshold. For its members, its leader and
    operators."""
    with unit_of_work(readonly=True) as session:
        rows, more = cocreate.proposals_of(
            session,
            community_id=community_id,
            user_id=who.user_id,
            operator=who.role == "operator",
            status=status,
            cursor=cursor,
        )
        return schemas.ProposalPageOut(
            items=[proposal_out(session, p, who.user_id) for p in rows], next_cursor=more
        )


@router.post(
    "/communities/{community_id}/proposals",
    status_code=201,
    response_model=schemas.ProposalOut,
)
def propose(
    community_id: int,
    body: schemas.ProposalIn,
    request: Request,
    who: Member,
    key: IdemKey = None,
) -> JSONResponse:
    """Propose a product to your community: a title, a description, a photo, a target price
    and an optional supplier hint."""

    def work(session: Session) -> dict[str, Any]:
        p = cocreate.propose(
            session,
            user_id=who.user_id,
            community_id=community_id,
            title=body.title,
            description=body.description,
            target_price=body.target_price,
            supplier_hint=body.supplier_hint,
            photo_ids=body.photo_ids,
        )
        return proposal_out(session, p, who.user_id).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


@router.get("/proposals/{proposal_id}")
def proposal(proposal_id: int, who: Caller) -> schemas.ProposalOut:
    """A proposal with your vote, and, once converted, what became of it: the wave, how many
    pledgers ordered and how much of their pledges, the reviews after delivery."""
    with unit_of_work(readonly=True) as session:
        p = cocreate.visible_proposal(
            session, proposal_id, user_id=who.user_id, operator=who.role == "operator"
        )
        return proposal_out(session, p, who.user_id, whole=True)


@router.delete("/proposals/{proposal_id}", response_model=schemas.ProposalOut)
def withdraw(proposal_id: int, request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """Its author withdraws an open proposal (``proposal_closed`` once it is not open)."""

    def work(session: Session) -> dict[str, Any]:
        p = cocreate.withdraw(session, user_id=who.user_id, proposal_id=proposal_id)
        return proposal_out(session, p, who.user_id).model_dump()

    return idempotent(request, who=who, key=key, body=None, work=work)


@router.put("/proposals/{proposal_id}/vote", response_model=schemas.ProposalOut)
def vote(
    proposal_id: int, body: schemas.VoteIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Vote once, optionally pledging 1–99 units you would buy. Refusals:
    ``not_eligible_to_vote`` (with ``eligible_at``), ``already_voted``, ``proposal_closed``."""

    def work(session: Session) -> dict[str, Any]:
        done = cocreate.vote(
            session, user_id=who.user_id, proposal_id=proposal_id, pledge=body.pledge
        )
        return proposal_out(session, done.proposal, who.user_id).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.delete("/proposals/{proposal_id}/vote", response_model=schemas.ProposalOut)
def unvote(proposal_id: int, request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """Withdraw your vote and pledge while the proposal is open."""

    def work(session: Session) -> dict[str, Any]:
        p = cocreate.unvote(session, user_id=who.user_id, proposal_id=proposal_id)
        return proposal_out(session, p, who.user_id).model_dump()

    return idempotent(request, who=who, key=key, body=None, work=work)


# ---------------------------------------------------------------- leaders


@router.get("/leader/communities/{community_id}/cocreate-settings", tags=["leaders"])
def settings(community_id: int, who: Caller) -> schemas.SettingsOut:
    """The community's threshold (votes ≥ V or pledged units ≥ Q) and the voters' early
    window, for its leader."""
    with unit_of_work(readonly=True) as session:
        return schemas.SettingsOut.of(
            cocreate.leader_settings(session, user_id=who.user_id, community_id=community_id)
        )


@router.put(
    "/leader/communities/{community_id}/cocreate-settings",
    tags=["leaders"],
    response_model=schemas.SettingsOut,
)
def set_settings(
    community_id: int,
    body: schemas.SettingsIn,
    request: Request,
    who: Caller,
    key: IdemKey = None,
) -> JSONResponse:
    def work(session: Session) -> dict[str, Any]:
        s = cocreate.set_settings(
            session,
            user_id=who.user_id,
            community_id=community_id,
            votes=body.votes,
            units=body.units,
            early_hours=body.early_hours,
        )
        return schemas.SettingsOut.of(s).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.get("/leader/proposals", tags=["leaders"])
def ready_proposals(who: Caller) -> list[schemas.ProposalOut]:
    """The proposals ready to become a wave in the communities you lead."""
    with unit_of_work(readonly=True) as session:
        return [
            proposal_out(session, p, who.user_id)
            for p in cocreate.ready_for_leader(session, who.user_id)
        ]


@router.post(
    "/leader/proposals/{proposal_id}/convert",
    status_code=201,
    tags=["leaders"],
    response_model=schemas.ProposalOut,
)
def convert(
    proposal_id: int,
    body: schemas.ConvertIn,
    request: Request,
    who: Caller,
    key: IdemKey = None,
) -> JSONResponse:
    """Turn a ready proposal into a pre-sale wave in its community (the normal wave path:
    your own goods, or a supplier's SKU within its terms), with an MOQ of at most the pledged
    units (``pledge_below_moq``). Its voters are told first and have the early window."""

    def work(session: Session) -> dict[str, Any]:
        p = cocreate.convert(
            session, user_id=who.user_id, proposal_id=proposal_id, data=body.data()
        )
        return proposal_out(session, p, who.user_id, whole=True).model_dump()

    return idempotent(
        request, who=who, key=key, body=body.model_dump(mode="json"), work=work, status_code=201
    )


# ---------------------------------------------------------------- suppliers linked by the operator


def _links_out(session: Session, community_id: int) -> schemas.SupplierLinksOut:
    return schemas.SupplierLinksOut(
        community_id=community_id,
        links=[schemas.LinkOut.of(x) for x in cocreate.links_of_community(session, community_id)],
        trail=[
            schemas.LinkEventOut.of(e)
            for e in cocreate.link_trail(session, community_id=community_id)
        ],
    )


@router.get("/admin/communities/{community_id}/suppliers", tags=["operator: co-creation"])
def community_suppliers(community_id: int, who: Operator) -> schemas.SupplierLinksOut:
    """The suppliers linked to a community (they may turn its ready proposals into pre-sale
    waves of their own SKUs), and the trail of who linked and unlinked them, and when."""
    with unit_of_work(readonly=True) as session:
        return _links_out(session, community_id)


@router.post(
    "/admin/communities/{community_id}/suppliers",
    status_code=201,
    tags=["operator: co-creation"],
    response_model=schemas.SupplierLinksOut,
)
def link_supplier(
    community_id: int, body: schemas.LinkIn, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """Link a supplier to the community (``supplier_already_linked`` if it is)."""

    def work(session: Session) -> dict[str, Any]:
        cocreate.link_supplier(
            session,
            operator_id=who.user_id,
            community_id=community_id,
            supplier_id=body.supplier_id,
        )
        return _links_out(session, community_id).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


@router.delete(
    "/admin/communities/{community_id}/suppliers/{supplier_id}",
    tags=["operator: co-creation"],
    response_model=schemas.SupplierLinksOut,
)
def unlink_supplier(
    community_id: int, supplier_id: int, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """Unlink a supplier (``supplier_link_not_found`` if it was not linked); the waves it
    made stay."""

    def work(session: Session) -> dict[str, Any]:
        cocreate.unlink_supplier(
            session, operator_id=who.user_id, community_id=community_id, supplier_id=supplier_id
        )
        return _links_out(session, community_id).model_dump()

    return idempotent(request, who=who, key=key, body=None, work=work)


@router.get("/supplier/proposals", tags=["supplier"])
def supplier_proposals(who: SupplierStaff) -> list[schemas.ProposalOut]:
    """共创需求: the ready proposals of the communities the operator linked your supplier to."""
    assert who.supplier_id is not None
    with unit_of_work(readonly=True) as session:
        return [
            proposal_out(session, p, who.user_id)
            for p in cocreate.ready_for_supplier(session, who.supplier_id)
        ]


@router.post(
    "/supplier/proposals/{proposal_id}/convert",
    status_code=201,
    tags=["supplier"],
    response_model=schemas.ProposalOut,
)
def supplier_convert(
    proposal_id: int,
    body: schemas.SupplierConvertIn,
    request: Request,
    who: SupplierStaff,
    key: IdemKey = None,
) -> JSONResponse:
    """Turn a ready proposal of a community your supplier is linked to into a pre-sale wave
    of one of your SKUs (``supplier_not_linked`` otherwise): MOQ at most the pledged units
    (``pledge_below_moq``); the community's leader is the wave's leader and its first open
    pickup point the wave's; voters are told first and have the early window, and the
    proposer and the leader are told. A proposal converted once: ``proposal_closed``."""
    assert who.supplier_id is not None
    supplier_id = who.supplier_id

    def work(session: Session) -> dict[str, Any]:
        p = cocreate.convert_as_supplier(
            session,
            user_id=who.user_id,
            supplier_id=supplier_id,
            proposal_id=proposal_id,
            data=body.data(),
        )
        return proposal_out(session, p, who.user_id, whole=True).model_dump()

    return idempotent(
        request, who=who, key=key, body=body.model_dump(mode="json"), work=work, status_code=201
    )
