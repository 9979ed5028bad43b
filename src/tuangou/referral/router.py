"""Referral over HTTP: a member's invite link, invitees, commission and withdrawals; the
operator's terms and partners."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.api.deps import IdemKey, Member, Operator, idempotent
from tuangou.core.config import get_settings
from tuangou.core.db import unit_of_work
from tuangou.referral import schemas
from tuangou.referral import service as referral

router = APIRouter(tags=["referral"])


def invite_link(request: Request, code: str) -> str:
    base = get_settings().public_url or str(request.base_url)
    return f"{base.rstrip('/')}/i/{code}"


@router.get("/me/referral")
def me(request: Request, who: Member) -> schemas.ReferralOut:
    """Your invite code and link, whether you can earn now (and how to become eligible), the
    rates, and your referral wallet."""
    with unit_of_work() as session:
        o = referral.overview(session, who.user_id)
        return schemas.ReferralOut.of(o, invite_link(request, o.code))


@router.get("/me/referral/invitees")
def invitees(who: Member) -> list[schemas.InviteeOut]:
    """The members you invited (masked), newest first, and what each brought you."""
    with unit_of_work(readonly=True) as session:
        return [schemas.InviteeOut.of(i) for i in referral.invitees(session, who.user_id)]


@router.get("/me/referral/commissions")
def commissions(
    who: Member, cursor: int | None = Query(None, ge=1), limit: int = Query(50, ge=1, le=200)
) -> schemas.CommissionPageOut:
    """Every commission line traced to its order, newest first, with where each fen is:
    frozen, available, withdrawn or reversed. Pass ``next_cursor`` back for the next page."""
    with unit_of_work() as session:
        found, nxt = referral.lines(session, who.user_id, cursor=cursor, limit=limit)
        return schemas.CommissionPageOut.model_construct(
            items=[schemas.CommissionLineOut.of(line) for line in found], next_cursor=nxt
        )


@router.get("/me/referral/withdrawals")
def my_withdrawals(who: Member) -> list[schemas.ReferralWithdrawalOut]:
    with unit_of_work(readonly=True) as session:
        return [
            schemas.ReferralWithdrawalOut.of(w) for w in referral.withdrawals(session, who.user_id)
        ]


@router.post(
    "/me/referral/withdrawals", status_code=201, response_model=schemas.ReferralWithdrawalOut
)
def withdraw(
    body: schemas.WithdrawalIn, request: Request, who: Member, key: IdemKey = None
) -> JSONResponse:
    """Ask to be paid your available referral commission; an operator approves it
    (``withdrawal_exceeds_available`` when it is more than is available)."""

    def work(session: Session) -> dict[str, Any]:
        row = referral.request_withdrawal(
            session, user_id=who.user_id, amount=body.amount, account_note=body.account_note
        )
        return schemas.ReferralWithdrawalOut.of(row).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


# ---------------------------------------------------------------- operators


@router.get("/admin/referral/settings", tags=["operator: referral"])
def settings(who: Operator) -> schemas.SettingsOut:
    with unit_of_work(readonly=True) as session:
        return schemas.SettingsOut.of(referral.terms(session))


@router.put(
    "/admin/referral/settings", tags=["operator: referral"], response_model=schemas.SettingsOut
)
def put_settings(
    body: schemas.SettingsIn, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """The rates (level 1 + level 2 at most 30%), who can earn, the minimum spend, how long a
    binding lasts (null: forever) and commission on one's own purchases
    (``invalid_referral_settings``: nothing changes)."""

    def work(session: Session) -> dict[str, Any]:
        t = referral.update_terms(session, body.terms(), operator_id=who.user_id)
        return schemas.SettingsOut.of(t).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)


@router.get("/admin/referral/partners", tags=["operator: referral"])
def partners(who: Operator) -> list[schemas.PartnerOut]:
    with unit_of_work(readonly=True) as session:
        return [
            schemas.PartnerOut.model_construct(
                user_id=p["user_id"],
                nickname=p["nickname"],
                masked_phone=p["masked_phone"],
                appointed=True,
            )
            for p in referral.partner_rows(session)
        ]


def _appoint(request: Request, who: Any, key: str | None, user_id: int, on: bool) -> JSONResponse:
    def work(session: Session) -> dict[str, Any]:
        referral.appoint(session, user_id=user_id, appointed=on)
        p = next((p for p in referral.partner_rows(session) if p["user_id"] == user_id), None)
        return schemas.PartnerOut.model_construct(
            user_id=user_id,
            nickname=p["nickname"] if p else "",
            masked_phone=p["masked_phone"] if p else "",
            appointed=on,
        ).model_dump()

    return idempotent(request, who=who, key=key, body={"user_id": user_id, "on": on}, work=work)


@router.post(
    "/admin/referral/partners/{user_id}",
    tags=["operator: referral"],
    response_model=schemas.PartnerOut,
)
def appoint(user_id: int, request: Request, who: Operator, key: IdemKey = None) -> JSONResponse:
    """Appoint a member a partner (who earns in the mode "appointed")."""
    return _appoint(request, who, key, user_id, True)


@router.delete(
    "/admin/referral/partners/{user_id}",
    tags=["operator: referral"],
    response_model=schemas.PartnerOut,
)
def dismiss(user_id: int, request: Request, who: Operator, key: IdemKey = None) -> JSONResponse:
    """End a member's appointment: no commission accrues to them from then on (in the mode
    "appointed"); what they earned stays theirs."""
    return _appoint(request, who, key, user_id, False)
