"""The operator's supplier quality (品控, ``/ops/quality``): every supplier's record over the
window, flagged ones first with their reasons, and the thresholds that flag them (one form:
rates in per cent, the rating in stars); a supplier's page shows its whole record, the
window beside all time. The same services as ``/api/admin/quality/…``."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.core.db import read
from tuangou.quality import service as quality
from tuangou.web import views
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import _ctx, _save
from tuangou.web.pages.supplier import bps_to_percent, percent_to_bps
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import render

router = APIRouter(prefix="/ops/quality")
_RATING = re.compile(r"^[1-5](\.\d)?$")
PERCENT_FIELDS = ("max_aftersale", "min_on_time", "max_failed_moq")


def _form_of(t: quality.Thresholds) -> FormState:
    return FormState.of(
        window_days=str(t.window_days),
        max_aftersale=bps_to_percent(t.max_aftersale_bps),
        min_rating=f"{t.min_rating_tenths / 10:.1f}",
        min_reviews=str(t.min_reviews),
        min_on_time=bps_to_percent(t.min_on_time_bps),
        max_failed_moq=bps_to_percent(t.max_failed_moq_bps),
        min_sample=str(t.min_sample),
    )


def _page(request: Request, form: FormState | None = None, status: int = 200) -> Response:
    def load(session: Session) -> dict[str, Any]:
        return {
            "records": quality.records(session),
            "thresholds": quality.get_thresholds(session),
        }

    found = read(load)
    return render(
        request,
        "operator/quality.html",
        _ctx(request, **found, form=form or _form_of(found["thresholds"])),
        status_code=status,
    )


@router.get("")
def records(request: Request, who: PageOperator) -> Response:
    return _page(request)


@router.post("/thresholds")
def set_thresholds(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    window = state.integer(request, "window_days", low=7, high=365)
    reviews = state.integer(request, "min_reviews", low=1, high=100000)
    sample = state.integer(request, "min_sample", low=1, high=100000)
    rates: dict[str, int] = {}
    for name in PERCENT_FIELDS:
        bps = percent_to_bps(state.text(name))
        if bps is None or bps > 10000:
            state.add(request, name, "Enter a per cent from 0 to 100")
        else:
            rates[name] = bps
    rating = state.text("min_rating")
    if not _RATING.match(rating) or float(rating) > 5:
        state.add(request, "min_rating", "Enter a rating from 1.0 to 5.0")
    if state.ok and window is not None and reviews is not None and sample is not None:
        whole, _, tenth = rating.partition(".")
        chosen = quality.Thresholds(
            window_days=window,
            max_aftersale_bps=rates["max_aftersale"],
            min_rating_tenths=int(whole) * 10 + int(tenth or "0"),
            min_reviews=reviews,
            min_on_time_bps=rates["min_on_time"],
            max_failed_moq_bps=rates["max_failed_moq"],
            min_sample=sample,
        )
        done = _save(
            request,
            state,
            lambda s: quality.set_thresholds(s, chosen, user_id=who.user_id),
            "/ops/quality#thresholds",
            "_form",
        )
        if done is not None:
            return done
    return _page(request, state, status=400)


@router.get("/{supplier_id}")
def supplier_record(supplier_id: int, request: Request, who: PageOperator) -> Response:
    found = read(lambda s: quality.record(s, supplier_id))
    return render(
        request,
        "operator/quality_supplier.html",
        _ctx(request, record=found, case_kinds=views.CASE_KINDS),
    )
