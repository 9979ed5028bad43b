"""The operator's dashboard: the queues' counts and the charts of the last 30 days (inline SVG,
see :mod:`tuangou.web.pages.operator.charts`), and the dashboards at ``/ops/dashboard``: every
figure of the platform, a community or a leader over a range, with CSV export and definitions
(:mod:`tuangou.web.pages.dashboards`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from tuangou.analytics import boards
from tuangou.analytics import dashboards as reference
from tuangou.analytics import rules as analytics_rules
from tuangou.analytics import service as analytics
from tuangou.analytics.figures import Figures
from tuangou.core.db import read
from tuangou.web.pages import dashboards
from tuangou.web.pages.operator import charts
from tuangou.web.pages.operator.common import QUEUES, REFUND_REASONS, _ctx, age_text
from tuangou.web.session import PageOperator
from tuangou.web.templating import language, render, translate

router = APIRouter(prefix="/ops")


def _charts(request: Request, d: analytics.Dashboard) -> dict[str, Markup]:
    t = lambda m: translate(request, m)  # noqa: E731
    lang = language(request)

    def ranking(rows: list[analytics.Ranked], title: str, colour: str) -> Markup:
        return charts.ranked_bars([(r.name, r.gmv) for r in rows], label=title, colour=colour)

    def percents(rows: list[analytics.Outcomes]) -> list[float | None]:
        return [None if r.rate is None else round(r.rate * 100, 1) for r in rows]

    return {
        "gmv": charts.money_bars(
            d.days, d.gmv, lang=lang, label=t("GMV per day (¥)"), colour="#e02e24"
        ),
        "rates": charts.percent_lines(
            d.days,
            [
                charts.Series(t("Team success rate"), percents(d.teams), "#e02e24"),
                charts.Series(t("Wave confirmation rate"), percents(d.waves), "#1a7f37"),
            ],
            lang=lang,
            label=t("Success rates per day, in percent"),
        ),
        "communities": ranking(d.top_communities, t("Top communities (¥)"), "#0b57d0"),
        "leaders": ranking(d.top_leaders, t("Top leaders (¥)"), "#6f42c1"),
        "refunds": charts.ranked_bars(
            [(t(REFUND_REASONS.get(r.reason, r.reason)), r.amount) for r in d.refunds],
            label=t("Refunds by reason (¥)"),
            colour="#b35c00",
        ),
    }


@router.get("")
def dashboard(request: Request, who: PageOperator) -> Response:
    def load(session: Session) -> tuple[list[analytics.Queue], analytics.Dashboard]:
        return analytics.queues(session), analytics.dashboard(session)

    queues, d = read(load)
    queue_rows = [
        {
            "label": QUEUES[q.name][0],
            "href": QUEUES[q.name][1],
            "count": q.count,
            "age": age_text(request, q.oldest_age_seconds),
        }
        for q in queues
    ]
    return render(
        request,
        "operator/dashboard.html",
        _ctx(
            request,
            queues=queue_rows,
            d=d,
            charts=_charts(request, d),
            percent=analytics_rules.percent,
            active_days=[(day, g) for day, g in zip(d.days, d.gmv, strict=True) if g],
        ),
    )


# ---------------------------------------------------------------- the dashboards


def _load(request: Request) -> tuple[dashboards.Asked, Figures, list[Any], list[Any]]:
    wanted = dashboards.asked(request, leaders=True)

    def load(session: Session) -> tuple[Figures, list[Any], list[Any]]:
        return (
            boards.figures(session, wanted.scope),
            reference.community_choices(session),
            reference.leader_choices(session),
        )

    f, groups, leaders = read(load)
    return wanted, f, groups, leaders


@router.get("/dashboard")
def dashboards_page(request: Request, who: PageOperator) -> Response:
    """Every figure of the platform, or of one community or leader, over a range of days."""
    wanted, f, groups, leaders = _load(request)
    return dashboards.page(
        request,
        f,
        wanted.form,
        layout="operator/_layout.html",
        base="/ops/dashboard",
        communities=groups,
        leaders=leaders,
        context=_ctx(request),
    )


@router.get("/dashboard/export.csv")
def dashboards_export(request: Request, who: PageOperator, figure: str = "gmv") -> Response:
    wanted, f, _, _ = _load(request)
    return dashboards.export(request, wanted, f, figure, "platform")


@router.get("/dashboard/definitions")
def dashboards_definitions(request: Request, who: PageOperator) -> Response:
    return dashboards.definitions(
        request, layout="operator/_layout.html", base="/ops/dashboard", context=_ctx(request)
    )
