"""Leader credit over HTTP: the leader sees their own score and its parts; operators any
leader's."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tuangou.api.deps import Caller, Operator
from tuangou.communities import service as communities
from tuangou.communities.schemas import CreditOut, CreditPartOut
from tuangou.core.db import unit_of_work
from tuangou.credit import rules as credit_rules
from tuangou.credit import service as credit

router = APIRouter(tags=["leaders"])


def credit_view(session: Session, leader_id: int) -> CreditOut:
    leader = communities.get_leader(session, leader_id)
    score = credit.leader_credit(session, leader_id)
    return CreditOut.model_construct(
        leader_id=leader.id,
        score=score.score,
        threshold=score.threshold,
        below_threshold=score.below_threshold,
        leader_status=leader.status,
        paused_reason=leader.paused_reason,
        window_days=credit_rules.WINDOW_DAYS,
        parts=[
            CreditPartOut.model_construct(
                name=p.name,
                label=credit_rules.LABELS[p.name][0],
                label_en=credit_rules.LABELS[p.name][1],
                weight=p.weight,
                value=round(float(p.value), 4),
                observed=None if p.observed is None else round(float(p.observed), 4),
                sample=p.sample,
                points=p.points,
            )
            for p in score.parts
        ],
    )


@router.get("/leader/credit")
def my_credit(who: Caller) -> CreditOut:
    """Your credit score (团长信用) with each part: value, weight and points. Below the
    threshold you cannot publish or adopt waves."""
    with unit_of_work(readonly=True) as session:
        leader = communities.get_leader_by_user(session, who.user_id)
        return credit_view(session, leader.id)


@router.get("/admin/leaders/{leader_id}/credit", tags=["operator: leaders"])
def leader_credit(leader_id: int, who: Operator) -> CreditOut:
    with unit_of_work(readonly=True) as session:
        return credit_view(session, leader_id)
