from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from tuangou.accounts.service import Principal
from tuangou.api.deps import IdemKey, Member, Operator, idempotent, idempotent_grouped, screen
from tuangou.api.errors import problem
from tuangou.api.responses import next_page
from tuangou.catalog import service as catalog
from tuangou.core import clock, soldout
from tuangou.core.db import unit_of_work
from tuangou.core.errors import DomainError
from tuangou.core.paging import MAX_CURSOR, MAX_LIMIT
from tuangou.orders import service as orders
from tuangou.orders.schemas import OrderOut
from tuangou.payments.schemas import PaymentOut
from tuangou.teams import schemas
from tuangou.teams import service as teams
from tuangou.teams.models import Team, TeamCampaign

router = APIRouter(tags=["team buys"])


def _product(session: Session, campaign: TeamCampaign) -> dict[str, Any]:
    return catalog.sku_summary(session, campaign.sku_id)


def _team(session: Session, team: Team) -> dict[str, Any]:
    campaign = teams.get_campaign(session, team.campaign_id)
    return schemas.team_view(team, campaign, teams.chain_list(session, team.id))


def _seat_reply(seat: teams.Seat) -> dict[str, Any]:
    # A light team summary: the full view with its chain list is one GET away. The service
    # leaves the team's counters as its own writes left them, so nothing is read again.
    return schemas.SeatOut.model_construct(
        team=schemas.TeamSummaryOut.of(seat.team),
        order=OrderOut.of(
            seat.order,
            facts={"team_id": seat.team.id, "is_opener": seat.team.opener_id == seat.order.user_id},
        ),
        payment=PaymentOut.of(seat.started.payment),
        pay_url=seat.started.pay_url,
    ).model_dump()


@router.get("/campaigns", response_model=list[schemas.CampaignOut])
def live_campaigns(
    request: Request,
    response: Response,
    cursor: str | None = Query(default=None, max_length=MAX_CURSOR),
    limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
) -> list[dict[str, Any]]:
    """Team-buy campaigns running now, by id; when there are more than ``limit``, the
    ``X-Next-Cursor`` header (and ``Link: rel="next"``) names the next page."""
    with unit_of_work(readonly=True) as session:
        found, after = teams.page_campaigns(session, cursor=cursor, limit=limit)
        next_page(request, response, after)
        return [schemas.campaign_view(c, product=_product(session, c)) for c in found]


def _teams_page(c: TeamCampaign, page: teams.OpenTeamsPage) -> list[dict[str, Any]]:
    return [schemas.team_view(t, c, page.chains[t.id]) for t in page.teams]


@router.get("/campaigns/{campaign_id}", response_model=schemas.CampaignWithTeamsOut)
def campaign(campaign_id: int) -> dict[str, Any]:
    """A campaign with the first page of the teams one can join now (the ones closest to
    forming first), their total and the next page's cursor."""
    with unit_of_work(readonly=True) as session:
        c = teams.get_campaign(session, campaign_id)
        view = schemas.campaign_view(c, product=_product(session, c))
        page = teams.open_teams_page(session, c.id, with_total=True)
        view["open_teams"] = _teams_page(c, page)
        view["open_teams_total"] = page.total
        view["open_teams_next"] = page.next_cursor
        return view


@router.get("/campaigns/{campaign_id}/teams")
def campaign_teams(
    campaign_id: int,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=teams.OPEN_TEAMS_MOST)] = 20,
) -> schemas.OpenTeamsPageOut:
    """The next page of a campaign's open teams, after the cursor the detail (or the previous
    page) gave, in the same order; keyset paging, so a page costs the same at any depth."""
    with unit_of_work(readonly=True) as session:
        c = teams.get_campaign(session, campaign_id)
        page = teams.open_teams_page(session, c.id, cursor=cursor, limit=limit)
        return schemas.OpenTeamsPageOut.model_validate(
            {"teams": _teams_page(c, page), "next_cursor": page.next_cursor}
        )


@router.post("/campaigns/{campaign_id}/teams", status_code=201, response_model=schemas.SeatOut)
async def open_team(
    campaign_id: int, body: schemas.SeatIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Open a team: creates the opener's order and its payment; the team opens once paid.
    With nothing free to open a team that could form, ``sold_out`` or ``too_few_to_open``
    comes from memory, without touching the database."""
    refused = teams.refusal_to_open(campaign_id, body.quantity) if key is None else None
    if refused is not None:
        return _refused(refused, request)
    await run_in_threadpool(
        lambda: screen(request, type="join", actor=who.user_id, target=f"campaign:{campaign_id}")
    )
    return await _take_seat(
        request,
        who,
        key,
        body,
        lambda session, address: teams.open_team(
            session,
            user_id=who.user_id,
            campaign_id=campaign_id,
            quantity=body.quantity,
            address=address,
            address_id=body.address_id,
            coupon_id=body.coupon_id,
        ),
    )


@router.post("/campaigns/{campaign_id}/solo", status_code=201, response_model=schemas.SoloOut)
async def buy_alone(
    campaign_id: int, body: schemas.SeatIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """单独购买: buy alone at the single price, without a team (when the campaign allows it).
    A plain order to the member's address, paid like any order, confirmed once paid. The
    risk engine may refuse it (``risk_refused``)."""
    address = body.address.model_dump() if body.address else None

    def work(session: Session) -> dict[str, Any]:
        solo = teams.buy_alone(
            session,
            user_id=who.user_id,
            campaign_id=campaign_id,
            quantity=body.quantity,
            address=address,
            address_id=body.address_id,
            coupon_id=body.coupon_id,
        )
        screen(
            request,
            session,
            type="order",
            actor=who.user_id,
            target=f"order:{solo.order.id}",
            amount_fen=solo.order.amount,
        )
        return schemas.SoloOut.model_construct(
            order=OrderOut.of(solo.order),
            payment=PaymentOut.of(solo.started.payment),
            pay_url=solo.started.pay_url,
        ).model_dump()

    return await idempotent_grouped(
        request, who=who, key=key, body=body.model_dump(), work=work, status_code=201
    )


@router.get("/teams/{team_id}", response_model=schemas.TeamOut)
def team(team_id: int) -> dict[str, Any]:
    """A team as its share link shows it: ladder, seats left, deadline, masked chain list."""
    with unit_of_work(readonly=True) as session:
        return _team(session, teams.get_team(session, team_id))


@router.post("/teams/{team_id}/join", status_code=201, response_model=schemas.SeatOut)
async def join_team(
    team_id: int, body: schemas.SeatIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Join a team through its share link: creates the order and its payment. A team with
    nothing reserved in a campaign with nothing free is refused ``sold_out`` from memory."""
    refused = teams.refusal_to_join(team_id, body.quantity) if key is None else None
    if refused is not None:
        return _refused(refused, request)
    await run_in_threadpool(
        lambda: screen(request, type="join", actor=who.user_id, target=f"team:{team_id}")
    )
    return await _take_seat(
        request,
        who,
        key,
        body,
        lambda session, address: teams.join_team(
            session,
            user_id=who.user_id,
            team_id=team_id,
            quantity=body.quantity,
            address=address,
            address_id=body.address_id,
            coupon_id=body.coupon_id,
        ),
    )


def _refused(refused: DomainError, request: Request) -> JSONResponse:
    return problem(
        refused.status, refused.code, refused.title, refused.detail, instance=request.url.path
    )


def _open_refusal(match: re.Match[str], body: dict[str, Any]) -> DomainError | None:
    return teams.refusal_to_open(int(match.group(1)), body.get("quantity", 1))


def _join_refusal(match: re.Match[str], body: dict[str, Any]) -> DomainError | None:
    return teams.refusal_to_join(int(match.group(1)), body.get("quantity", 1))


# The API's gate (``api.gate.RefusalGate``) answers these before the routing when memory can.
soldout.gate_route("POST", r"^/api/campaigns/([0-9]{1,10})/teams$", _open_refusal, reads_body=True)
soldout.gate_route("POST", r"^/api/teams/([0-9]{1,10})/join$", _join_refusal, reads_body=True)


async def _take_seat(
    request: Request,
    who: Principal,
    key: str | None,
    body: schemas.SeatIn,
    take: Callable[[Session, dict[str, Any] | None], teams.Seat],
) -> JSONResponse:
    """Open or join, once per idempotency key: the seat and the way to pay for it. (The
    checks above ran on the event loop; the work is committed by group commit.)"""
    address = body.address.model_dump() if body.address else None

    def work(session: Session) -> dict[str, Any]:
        return _seat_reply(take(session, address))

    return await idempotent_grouped(
        request, who=who, key=key, body=body.model_dump(), work=work, status_code=201
    )


@router.post("/teams/{team_id}/leave", response_model=schemas.LeftTeamOut)
def leave_team(team_id: int, request: Request, who: Member, key: IdemKey = None) -> JSONResponse:
    """Leave before the team forms: a paid seat is refunded in full."""

    def work(session: Session) -> dict[str, Any]:
        order = teams.leave_team(session, user_id=who.user_id, team_id=team_id)
        return {
            "order": OrderOut.of(
                order, facts=orders.facts(session, [order])[order.id]
            ).model_dump(),
            "team": _team(session, teams.get_team(session, team_id)),
        }

    return idempotent(request, who=who, key=key, body=None, work=work)


def _operator_view(session: Session, campaign: TeamCampaign) -> dict[str, Any]:
    return schemas.campaign_view(campaign, product=_product(session, campaign), operator=True)


@router.post(
    "/admin/campaigns",
    status_code=201,
    tags=["operator: campaigns"],
    response_model=schemas.CampaignAdminOut,
)
def create_campaign(body: schemas.CampaignIn, who: Operator) -> dict[str, Any]:
    data = body.model_dump()
    data["starts_at"] = data["starts_at"] or clock.now()
    with unit_of_work() as session:
        c = teams.create_campaign(session, teams.CampaignInput(**data))
        return _operator_view(session, c)


@router.get(
    "/admin/campaigns",
    tags=["operator: campaigns"],
    response_model=list[schemas.CampaignAdminOut],
)
def all_campaigns(who: Operator) -> list[dict[str, Any]]:
    with unit_of_work(readonly=True) as session:
        return [_operator_view(session, c) for c in teams.list_campaigns(session, live_only=False)]


@router.get(
    "/admin/campaigns/{campaign_id}",
    tags=["operator: campaigns"],
    response_model=schemas.CampaignAdminOut,
)
def campaign_for_operator(campaign_id: int, who: Operator) -> dict[str, Any]:
    """A campaign with the platform's own terms: completion threshold, subsidy budget and
    how much of it is spent (not shown to shoppers)."""
    with unit_of_work(readonly=True) as session:
        return _operator_view(session, teams.get_campaign(session, campaign_id))


@router.patch(
    "/admin/campaigns/{campaign_id}",
    tags=["operator: campaigns"],
    response_model=schemas.CampaignAdminOut,
)
def set_status(campaign_id: int, body: schemas.CampaignStatusIn, who: Operator) -> dict[str, Any]:
    """Pause or resume a campaign, or turn 单独购买 on or off."""
    with unit_of_work() as session:
        c = teams.set_campaign_status(session, campaign_id, body.status, allow_solo=body.allow_solo)
        return _operator_view(session, c)
