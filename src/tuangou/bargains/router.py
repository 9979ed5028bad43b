from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.api.deps import Caller, IdemKey, Member, Operator, client_ip, idempotent, screen
from tuangou.bargains import errors, schemas
from tuangou.bargains import service as bargains
from tuangou.bargains.models import Bargain, BargainCampaign
from tuangou.catalog import service as catalog
from tuangou.core import clock
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.orders import service as orders
from tuangou.orders.schemas import OrderOut
from tuangou.payments.schemas import PaymentOut

router = APIRouter(tags=["bargains"])

DeviceId = Annotated[
    str | None,
    Header(alias="X-Device-Id", max_length=64, description="the caller's device, for the risk"),
]


def campaign_out(session: Session, c: BargainCampaign) -> dict[str, Any]:
    return schemas.BargainCampaignOut.of(c, catalog.sku_summary(session, c.sku_id)).model_dump()


def bargain_out(session: Session, b: Bargain, viewer_id: int | None) -> dict[str, Any]:
    return schemas.BargainOut.of(b, bargains.details(session, b), viewer_id=viewer_id).model_dump()


@router.get("/bargain-campaigns", response_model=list[schemas.BargainCampaignOut])
def live_campaigns() -> list[dict[str, Any]]:
    """Bargain campaigns running now."""
    with unit_of_work(readonly=True) as session:
        return [campaign_out(session, c) for c in bargains.list_campaigns(session)]


@router.get("/bargain-campaigns/{campaign_id}", response_model=schemas.BargainCampaignOut)
def campaign(campaign_id: int) -> dict[str, Any]:
    with unit_of_work(readonly=True) as session:
        return campaign_out(session, bargains.get_campaign(session, campaign_id))


@router.post(
    "/bargain-campaigns/{campaign_id}/bargains",
    status_code=201,
    response_model=schemas.BargainOut,
)
def start(campaign_id: int, who: Member, request: Request) -> dict[str, Any]:
    """Start a bargain: its cut schedule is fixed now; share its link with friends. The risk
    engine may refuse it (``risk_refused``)."""
    with unit_of_work() as session:
        b = bargains.start_bargain(session, user_id=who.user_id, campaign_id=campaign_id)
        screen(request, session, type="bargain", actor=who.user_id, target=f"bargain:{b.id}")
        return bargain_out(session, b, who.user_id)


@router.get("/bargains/mine", response_model=list[schemas.BargainOut])
def mine(who: Member) -> list[dict[str, Any]]:
    """The bargains the caller started, newest first."""
    with unit_of_work(readonly=True) as session:
        return [
            bargain_out(session, b, who.user_id) for b in bargains.bargains_of(session, who.user_id)
        ]


@router.get("/bargains/{bargain_id}", response_model=schemas.BargainOut)
def bargain(
    bargain_id: int,
    who: Caller,
    share: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """A bargain as its link shows it: the price falling, the helpers (masked) with their
    cuts, the cuts left and the time left. Its starter, its helpers, operators and whoever
    holds its share link see it; anyone else gets the 404 of a missing bargain."""
    with unit_of_work(readonly=True) as session:
        b = bargains.visible_bargain(
            session,
            bargain_id,
            user_id=who.user_id,
            operator=who.role == "operator",
            share=share,
        )
        return bargain_out(session, b, who.user_id)


@router.post("/bargains/{bargain_id}/help", status_code=201, response_model=schemas.HelpOut)
def help_bargain(
    bargain_id: int,
    body: schemas.HelpIn,
    request: Request,
    who: Member,
    device: DeviceId = None,
) -> dict[str, Any]:
    """Cut a friend's bargain once (the next cut of its schedule). Refusals: ``self_help``,
    ``already_helped``, ``help_limit_reached``, ``bargain_expired``, ``bargain_complete``,
    ``risk_refused``."""
    ip = client_ip(request)

    def work(session: Session) -> dict[str, Any] | None:
        done = bargains.help_bargain(
            session,
            helper_id=who.user_id,
            bargain_id=bargain_id,
            share=body.share,
            device=device,
            ip=ip,
        )
        if done.help is None:
            return None  # the refusal is recorded; the help is refused after the commit
        return schemas.HelpOut(
            cut=done.help.amount,
            bonus=done.help.bonus,
            bargain=schemas.BargainSummaryOut.of(done.bargain),
        ).model_dump()

    reply = run_in_transaction(work)
    if reply is None:
        raise errors.RiskRefused()
    return reply


@router.post("/bargains/{bargain_id}/order", status_code=201, response_model=schemas.BoughtOut)
def buy(
    bargain_id: int,
    body: schemas.BargainOrderIn,
    request: Request,
    who: Member,
    key: IdemKey = None,
) -> JSONResponse:
    """The starter buys at the price reached (or at the floor, if the campaign says so):
    the order and its payment; shipped to the address like a team buy. The risk engine may
    refuse it (``risk_refused``)."""
    address = body.address.model_dump() if body.address else None

    def work(session: Session) -> dict[str, Any]:
        bought = bargains.place_order(
            session,
            user_id=who.user_id,
            bargain_id=bargain_id,
            address=address,
            address_id=body.address_id,
            coupon_id=body.coupon_id,
        )
        screen(
            request,
            session,
            type="order",
            actor=who.user_id,
            target=f"order:{bought.order.id}",
            amount_fen=bought.order.amount,
        )
        return schemas.BoughtOut.model_construct(
            bargain=schemas.BargainOut.of(
                bought.bargain, bargains.details(session, bought.bargain), viewer_id=who.user_id
            ),
            order=OrderOut.of(
                bought.order, facts=orders.facts(session, [bought.order])[bought.order.id]
            ),
            payment=PaymentOut.of(bought.started.payment),
            pay_url=bought.started.pay_url,
        ).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


# ---------------------------------------------------------------- operators


@router.post(
    "/admin/bargain-campaigns",
    status_code=201,
    tags=["operator: bargains"],
    response_model=schemas.BargainCampaignOut,
)
def create_campaign(body: schemas.BargainCampaignIn, who: Operator) -> dict[str, Any]:
    data = body.model_dump()
    data["starts_at"] = data["starts_at"] or clock.now()
    with unit_of_work() as session:
        c = bargains.create_campaign(session, bargains.CampaignInput(**data))
        return campaign_out(session, c)


@router.get(
    "/admin/bargain-campaigns",
    tags=["operator: bargains"],
    response_model=list[schemas.BargainCampaignOut],
)
def all_campaigns(who: Operator) -> list[dict[str, Any]]:
    with unit_of_work(readonly=True) as session:
        return [campaign_out(session, c) for c in bargains.list_campaigns(session, live_only=False)]


@router.patch(
    "/admin/bargain-campaigns/{campaign_id}",
    tags=["operator: bargains"],
    response_model=schemas.BargainCampaignOut,
)
def set_status(
    campaign_id: int, body: schemas.BargainCampaignStatusIn, who: Operator
) -> dict[str, Any]:
    with unit_of_work() as session:
        return campaign_out(
            session, bargains.set_campaign_status(session, campaign_id, body.status)
        )


@router.get(
    "/admin/bargain-campaigns/{campaign_id}/bargains",
    tags=["operator: bargains"],
    response_model=list[schemas.BargainOut],
)
def campaign_bargains(campaign_id: int, who: Operator) -> list[dict[str, Any]]:
    with unit_of_work(readonly=True) as session:
        bargains.get_campaign(session, campaign_id)
        return [
            bargain_out(session, b, who.user_id)
            for b in bargains.bargains_of_campaign(session, campaign_id)
        ]


@router.post(
    "/admin/bargains/reverse-helps",
    tags=["operator: bargains"],
    response_model=schemas.ReversedOut,
)
def reverse_helps(body: schemas.ReverseHelpsIn, who: Operator) -> dict[str, Any]:
    """A confirmed fraud ring: void its members' helps on unpaid bargains (each bargain's
    price goes back up by their cuts), exactly once."""
    with unit_of_work() as session:
        return {"voided": bargains.reverse_helps(session, body.helper_ids, body.reason)}
