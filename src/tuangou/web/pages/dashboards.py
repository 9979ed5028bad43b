"""What the operator's and the leaders' dashboard pages share: reading the range and the
narrowing from the query, the charts (inline SVG, :mod:`tuangou.web.pages.operator.charts`),
the page, the CSV export of each figure and the definitions page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from markupsafe import Markup

from tuangou.analytics import boards, rules
from tuangou.analytics.errors import InvalidRange
from tuangou.analytics.figures import Figures
from tuangou.analytics.rules import Scope
from tuangou.web import responses
from tuangou.web.forms import FormState
from tuangou.web.pages.operator import charts
from tuangou.web.pages.operator.common import REFUND_REASONS
from tuangou.web.templating import language, render, translate

PRESETS = (7, 30, 90, 180, 365)
CSV_MEDIA = "text/csv; charset=utf-8"
CASE_KINDS = {"missing": "Missing items", "damaged": "Damaged", "wrong": "Wrong item"}


@dataclass(frozen=True)
class Asked:
    """The range and narrowing read from a page's query (with what was wrong with it)."""

    form: FormState
    scope: Scope


def _int(form: FormState, name: str) -> int | None:
    text = form.text(name)
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
        form.errors[name] = "Choose from the list"
        return None
    return int(text)


def _day(form: FormState, name: str) -> date | None:
    text = form.text(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        form.errors[name] = "Enter a date as 2025-03-31"
        return None


def asked(request: Request, *, leaders: bool) -> Asked:
    """The scope the query asks for; anything wrong is said on the form and the default
    range (the last 30 days, the whole scope) is shown instead."""
    form = FormState.of(None, **dict(request.query_params))
    days_text = form.text("days") or "30"
    days = int(days_text) if days_text.isdigit() and int(days_text) in PRESETS else 30
    if days_text != str(days):
        form.errors["days"] = "Choose from the list"
    start, end = _day(form, "start"), _day(form, "end")
    community_id = _int(form, "community_id")
    leader_id = _int(form, "leader_id") if leaders else None
    try:
        scope = boards.scope(
            start=start, end=end, days=days, community_id=community_id, leader_id=leader_id
        )
    except InvalidRange:
        form.errors["start"] = "The range must start before it ends and cover at most 400 days"
        scope = boards.scope()
    if not form.ok:
        scope = boards.scope(community_id=scope.community_id, leader_id=scope.leader_id)
        form.errors = {k: translate(request, v) for k, v in form.errors.items()}
    return Asked(form, scope)


def query_of(scope: Scope) -> str:
    """The query string that asks for ``scope`` again (for the export links)."""
    values: dict[str, Any] = {"start": scope.start.isoformat(), "end": scope.end.isoformat()}
    if scope.community_id is not None:
        values["community_id"] = scope.community_id
    if scope.leader_id is not None:
        values["leader_id"] = scope.leader_id
    return urlencode(values)


def _percents(rows: list[Any]) -> list[float | None]:
    return [None if r.rate is None else round(r.rate * 100, 1) for r in rows]


def chart_set(request: Request, f: Figures) -> dict[str, Markup]:
    t = lambda m: translate(request, m)  # noqa: E731
    lang = language(request)
    days = [d.day for d in f.days]
    rates = [charts.Series(t("Wave confirmation rate"), _percents(f.waves), "#1a7f37")]
    if f.teams is not None:
        rates.insert(0, charts.Series(t("Team success rate"), _percents(f.teams), "#e02e24"))
    found = {
        "gmv": charts.money_bars(
            days, [d.gmv for d in f.days], lang=lang, label=t("GMV per day (¥)"), colour="#e02e24"
        ),
        "orders": charts.count_bars(
            days, [d.orders for d in f.days], lang=lang, label=t("Orders per day"), colour="#0b57d0"
        ),
        "rates": charts.percent_lines(
            days, rates, lang=lang, label=t("Success rates per day, in percent")
        ),
    }
    if f.leaders:
        found["leaders"] = charts.ranked_bars(
            [(r.name, r.gmv) for r in f.leaders[:10]],
            label=t("Leader performance (¥)"),
            colour="#6f42c1",
        )
    if f.refunds:
        found["refunds"] = charts.ranked_bars(
            [(t(reason_label(r.reason)), r.amount) for r in f.refunds],
            label=t("Refunds by reason (¥)"),
            colour="#b35c00",
        )
    return found


def reason_label(reason: str) -> str:
    return str(REFUND_REASONS.get(reason, reason))


def page(
    request: Request,
    f: Figures,
    form: FormState,
    *,
    layout: str,
    base: str,
    communities: list[tuple[int, str]],
    leaders: list[tuple[int, str]] | None,
    context: dict[str, Any],
) -> Response:
    """The dashboard page: the range form, every figure with its chart or table, its
    definition's link and its CSV export."""
    return render(
        request,
        "dashboards/page.html",
        {
            **context,
            "layout": layout,
            "base": base,
            "f": f,
            "form": form,
            "charts": chart_set(request, f),
            "presets": PRESETS,
            "communities": communities,
            "leader_choices": leaders,
            "query": query_of(f.scope),
            "percent": rules.percent,
            "case_kinds": CASE_KINDS,
            "reason_label": reason_label,
            "titles": {k: title for k, (title, _) in rules.DEFINITIONS.items()},
        },
        status_code=200 if form.ok else 422,
    )


def export(request: Request, wanted: Asked, f: Figures, figure: str, who: str) -> Response:
    """One figure as a CSV file; a figure that does not exist, or a range that is wrong, is
    refused (422) with what was wrong, and nothing is exported."""
    if figure not in rules.DEFINITIONS or not wanted.form.ok:
        problems = [translate(request, "No such figure")] if figure not in rules.DEFINITIONS else []
        problems += list(wanted.form.errors.values())
        return Response("\n".join(problems) + "\n", status_code=422, media_type="text/plain")
    body = boards.csv_text(f, figure)
    name = f"{who}-{figure}-{f.scope.start.isoformat()}-{f.scope.end.isoformat()}.csv"
    return responses.download(body, CSV_MEDIA, name)


def definitions(request: Request, *, layout: str, base: str, context: dict[str, Any]) -> Response:
    return render(
        request,
        "dashboards/definitions.html",
        {**context, "layout": layout, "base": base, "definitions": rules.DEFINITIONS},
    )
