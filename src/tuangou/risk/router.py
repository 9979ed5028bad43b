"""The risk review queue over HTTP (operators)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from tuangou.api.deps import Operator
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.risk import schemas
from tuangou.risk import service as risk

router = APIRouter(tags=["operator: risk"])


@router.get("/admin/risk/cases")
def cases(
    who: Operator,
    status: Literal["open", "confirmed", "cleared", "all"] = Query("open"),
) -> list[schemas.RiskCaseOut]:
    """The review queue, oldest first: each case with its members and its reasons."""
    with unit_of_work(readonly=True) as session:
        found = risk.list_cases(session, status=None if status == "all" else status)
        return [schemas.RiskCaseOut.of(c) for c in found]


@router.get("/admin/risk/cases/{risk_case_id}")
def case(risk_case_id: int, who: Operator) -> schemas.RiskCaseDetailOut:
    """One case with its evidence: the reasons, and the graph around it as edges."""
    with unit_of_work(readonly=True) as session:
        return schemas.RiskCaseDetailOut.of(risk.get_case(session, risk_case_id))


@router.post("/admin/risk/cases/{risk_case_id}/decision")
def decide(risk_case_id: int, body: schemas.DecisionIn, who: Operator) -> schemas.RiskCaseOut:
    """Confirm (the members are blocked and their helps reversed) or clear (the members are
    not flagged again for the same evidence). A case is decided once (409 after)."""

    def work(session: Session) -> schemas.RiskCaseOut:
        view = risk.decide_case(
            session,
            risk_case_id,
            confirm=body.decision == "confirm",
            operator_id=who.user_id,
            note=body.note.strip() or None,
        )
        return schemas.RiskCaseOut.of(view)

    return run_in_transaction(work)


@router.post("/admin/risk/analyse")
def analyse(who: Operator) -> schemas.AnalysedOut:
    """Run the graph work now (the worker runs it every few minutes)."""
    return schemas.AnalysedOut(opened=len(run_in_transaction(lambda s: risk.analyse(s))))
