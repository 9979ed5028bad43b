"""The operator's risk review queue (风控审核), under ``/ops/risk``: the open cases oldest
first, each with its reasons and members; a case's page shows its evidence, the graph around
it as a picture (a server-rendered SVG), and the decision: confirm the ring (its members are
blocked, their helps reversed) or clear it (the same evidence flags them no more)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import read
from tuangou.risk import picture
from tuangou.risk import service as risk
from tuangou.web import i18n
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import _ctx, _decide, age_text
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import language, render, translate

router = APIRouter(prefix="/ops/risk")

KINDS = {
    "dense_ring": i18n.lazy("Help ring"),
    "same_person": i18n.lazy("One person, many accounts"),
    "lockstep": i18n.lazy("Accounts acting in lockstep"),
    "invite_farm": i18n.lazy("Invite farm"),
    "helped_by_flagged": i18n.lazy("Helped by a farm"),
}
CASE_STATUSES = {
    "open": i18n.lazy("Waiting for review"),
    "confirmed": i18n.lazy("Confirmed: members blocked"),
    "cleared": i18n.lazy("Cleared"),
}
FLAGS = {"flagged": i18n.lazy("Flagged"), "blocked": i18n.lazy("Blocked")}
EDGES = {
    "help": i18n.lazy("Helped"),
    "invite": i18n.lazy("Invited"),
    "acts-on": i18n.lazy("Acted on"),
    "device": i18n.lazy("Device"),
    "phone": i18n.lazy("Phone number"),
    "payout": i18n.lazy("Payout account"),
}


def _lang(request: Request) -> str:
    return "zh" if language(request).lower().startswith("zh") else "en"


def _row(request: Request, c: risk.CaseView) -> dict[str, Any]:
    age = int((clock.now() - c.opened_at).total_seconds())
    lang = _lang(request)
    return {
        "c": c,
        "kind": KINDS.get(c.kind, i18n.lazy("Held event")),
        "age": age_text(request, max(0, age)),
        "reasons": [r.text(lang) for r in c.reasons],
    }


@router.get("")
def queue(request: Request, who: PageOperator) -> Response:
    status = request.query_params.get("status", "open")
    if status not in CASE_STATUSES:
        status = "open"
    cases = read(lambda s: risk.list_cases(s, status=status))
    return render(
        request,
        "operator/risk.html",
        _ctx(
            request,
            rows=[_row(request, c) for c in cases],
            status=status,
            case_statuses=CASE_STATUSES,
        ),
    )


def _case_page(
    request: Request,
    case_id: int,
    form: FormState | None = None,
    failed: int | None = None,
    status: int = 200,
) -> Response:
    def load(session: Session) -> tuple[risk.CaseView, dict[int, str]]:
        view = risk.get_case(session, case_id)
        around = {int(n[2:]) for e in view.edges for n in e[:2] if n.startswith("m:")}
        return view, accounts.masked_names(session, sorted(around | {m.id for m in view.members}))

    view, names = read(load)
    row = _row(request, view)
    svg = picture.svg(
        view.edges,
        names,
        {m.id for m in view.members},
        title=" · ".join(row["reasons"]),
        kinds={k: translate(request, v) for k, v in EDGES.items()},
    )
    return render(
        request,
        "operator/risk_case.html",
        _ctx(
            request,
            row=row,
            picture=Markup(svg),  # built from escaped parts only (risk.picture)
            case_statuses=CASE_STATUSES,
            flags=FLAGS,
            form=form or FormState(),
            failed=failed,
        ),
        status_code=status,
    )


@router.get("/{case_id}")
def case(case_id: int, request: Request, who: PageOperator) -> Response:
    return _case_page(request, case_id)


def _decision(case_id: int, request: Request, form: Any, who: Any, *, confirm: bool) -> Response:
    return _decide(
        request,
        form,
        case_id,
        lambda s, state: risk.decide_case(
            s,
            case_id,
            confirm=confirm,
            operator_id=who.user_id,
            note=state.text("note") or None,
        ),
        lambda request, **kw: _case_page(request, case_id, **kw),
        f"/ops/risk/{case_id}",
        needs_reason=False,
        message="decided",
    )


@router.post("/{case_id}/confirm")
def confirm(case_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    return _decision(case_id, request, form, who, confirm=True)


@router.post("/{case_id}/clear")
def clear(case_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    return _decision(case_id, request, form, who, confirm=False)
