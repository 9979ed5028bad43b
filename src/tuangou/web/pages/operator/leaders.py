"""The leaders' queues: applications to approve or reject, withdrawals to decide; and the
leaders' sub-leader links (current, pending invitations, history), each current link with a
way to end it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.commission import service as commission
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import _ctx, _decide, _done, _refused, _save, age_text
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import render

router = APIRouter(prefix="/ops")


@router.get("/applications")
def applications(request: Request, who: PageOperator) -> Response:
    return _applications_page(request)


def _applications_page(
    request: Request, *, form: FormState | None = None, failed: int | None = None, status: int = 200
) -> Response:
    queue = read(
        lambda s: communities.application_queue(s, status=communities.ApplicationStatus.PENDING)
    )
    rows = [{"q": q, "age": age_text(request, q.age_seconds)} for q in queue]
    return render(
        request,
        "operator/applications.html",
        _ctx(request, rows=rows, form=form or FormState(), failed=failed),
        status_code=status,
    )


@router.post("/applications/{application_id}/approve")
def approve_application(
    application_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    try:
        run_in_transaction(
            lambda s: communities.approve_application(s, application_id, operator_id=who.user_id)
        )
    except DomainError as exc:
        state = FormState.of(form)
        state.refuse(request, exc)
        return _applications_page(request, form=state, failed=application_id, status=_refused(exc))
    return _done("/ops/applications")


@router.post("/applications/{application_id}/reject")
def reject_application(
    application_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    state = FormState.of(form)
    state.required(request, "reason")
    if state.ok:
        saved = _save(
            request,
            state,
            lambda s: communities.reject_application(
                s, application_id, operator_id=who.user_id, reason=state.text("reason")
            ),
            "/ops/applications",
            "reason",
        )
        if saved:
            return saved
    return _applications_page(request, form=state, failed=application_id, status=400)


# ---------------------------------------------------------------- withdrawals


def _withdrawals_page(
    request: Request, form: FormState | None = None, failed: int | None = None, status: int = 200
) -> Response:
    def load(session: Session) -> list[dict[str, Any]]:
        now = clock.now()
        rows = []
        for w in commission.withdrawals(session, status=commission.WithdrawalStatus.REQUESTED):
            user_id = commission.owner_user(session, w)
            rows.append(
                {
                    "w": w,
                    "leader": communities.people(session, [user_id])[user_id],
                    "age": int((now - w.created_at).total_seconds()),
                }
            )
        return rows

    rows = read(load)
    for row in rows:
        row["age"] = age_text(request, max(0, row["age"]))
    return render(
        request,
        "operator/withdrawals.html",
        _ctx(request, rows=rows, form=form or FormState(), failed=failed),
        status_code=status,
    )


@router.get("/withdrawals")
def withdrawals(request: Request, who: PageOperator) -> Response:
    return _withdrawals_page(request)


@router.post("/withdrawals/{withdrawal_id}/approve")
def approve_withdrawal(
    withdrawal_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    return _decide(
        request,
        form,
        withdrawal_id,
        lambda s, _: commission.decide_withdrawal(
            s, withdrawal_id=withdrawal_id, operator_id=who.user_id, approve=True
        ),
        _withdrawals_page,
        "/ops/withdrawals",
        needs_reason=False,
    )


@router.post("/withdrawals/{withdrawal_id}/reject")
def reject_withdrawal(
    withdrawal_id: int, request: Request, form: Form, who: PageOperator
) -> Response:
    return _decide(
        request,
        form,
        withdrawal_id,
        lambda s, st: commission.decide_withdrawal(
            s,
            withdrawal_id=withdrawal_id,
            operator_id=who.user_id,
            approve=False,
            reason=st.text("reason"),
        ),
        _withdrawals_page,
        "/ops/withdrawals",
        needs_reason=True,
    )


# ---------------------------------------------------------------- sub-leader links


def _leaders_page(
    request: Request, *, form: FormState | None = None, failed: int | None = None, status: int = 200
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        return {
            "links": communities.list_links(session, current=True),
            "invitations": communities.list_invitations(
                session, status=communities.InvitationStatus.PENDING
            ),
            "history": communities.list_links(session, current=False, limit=100),
        }

    return render(
        request,
        "operator/leaders.html",
        _ctx(request, **read(load), form=form or FormState(), failed=failed),
        status_code=status,
    )


@router.get("/leaders")
def leaders(request: Request, who: PageOperator) -> Response:
    return _leaders_page(request)


@router.post("/sub-leader-links/{link_id}/end")
def end_link(link_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    """End a sub-leader link, with a reason both leaders read."""
    state = FormState.of(form)
    state.required(request, "reason")
    state.at_most(request, "reason", 200)
    if state.ok:
        saved = _save(
            request,
            state,
            lambda s: communities.end_link(
                s, link_id, operator_id=who.user_id, reason=state.text("reason")
            ),
            "/ops/leaders",
            "reason",
        )
        if saved:
            return saved
    return _leaders_page(request, form=state, failed=link_id, status=400)
