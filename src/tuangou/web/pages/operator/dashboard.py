"""The operator's dashboard: the queues' counts and the charts."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from tuangou.analytics import rules as analytics_rules
from tuangou.analytics import service as analytics
from tuangou.core.db import read
from tuangou.web.pages.operator.common import QUEUES, REFUND_REASONS, _ctx, age_text
from tuangou.web.session import PageOperator
from tuangou.web.templating import render, translate

router = APIRouter(prefix="/ops")


def _chart(fig: go.Figure) -> Markup:
    """A figure's JSON for the page's script: ``<`` escaped, so no text can end the script."""
    return Markup(fig.to_json().replace("<", "\\u003c"))  # nosec B704


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 15}},
        margin={"l": 48, "r": 12, "t": 40, "b": 40},
        height=280,
        font={"family": "system-ui, sans-serif", "size": 12},
        paper_bgcolor="#fff",
        plot_bgcolor="#fff",
        legend={"orientation": "h", "y": -0.2},
        **kw,
    )
    return fig


def _charts(request: Request, d: analytics.Dashboard) -> dict[str, Markup]:
    t = lambda m: translate(request, m)  # noqa: E731
    # Days as "10-25" categories: Plotly's own date ticks ("Oct 25 2026") are English only.
    days = [x.strftime("%m-%d") for x in d.days]
    by_day = {"type": "category", "tickangle": 0, "automargin": True}
    gmv = go.Figure(
        go.Bar(
            x=days,
            y=[f / 100 for f in d.gmv],
            name=t("GMV"),
            marker_color="#e02e24",
            hovertemplate="%{x} · ¥%{y:,.2f}<extra></extra>",
        )
    )
    _layout(gmv, t("GMV per day (¥)"), xaxis=by_day, yaxis={"tickformat": ",.2f"})

    rates = go.Figure()
    for rows, name, colour in (
        (d.teams, t("Team success rate"), "#e02e24"),
        (d.waves, t("Wave confirmation rate"), "#1a7f37"),
    ):
        rates.add_trace(
            go.Scatter(
                x=days,
                y=[None if r.rate is None else round(r.rate * 100, 1) for r in rows],
                name=name,
                mode="lines+markers",
                connectgaps=False,
                line={"color": colour},
                hovertemplate="%{x} · %{y}%",
            )
        )
    _layout(rates, t("Success rates per day, in percent"), xaxis=by_day, yaxis={"range": [0, 105]})

    def ranking(rows: list[analytics.Ranked], title: str, colour: str) -> go.Figure:
        names = [r.name for r in reversed(rows)]
        fig = go.Figure(
            go.Bar(
                x=[r.gmv / 100 for r in reversed(rows)],
                y=names,
                orientation="h",
                marker_color=colour,
            )
        )
        return _layout(fig, title, yaxis={"automargin": True})

    reasons = go.Figure(
        go.Bar(
            x=[t(REFUND_REASONS.get(r.reason, r.reason)) for r in d.refunds],
            y=[r.amount / 100 for r in d.refunds],
            marker_color="#b35c00",
        )
    )
    _layout(reasons, t("Refunds by reason (¥)"))
    return {
        "gmv": _chart(gmv),
        "rates": _chart(rates),
        "communities": _chart(ranking(d.top_communities, t("Top communities (¥)"), "#0b57d0")),
        "leaders": _chart(ranking(d.top_leaders, t("Top leaders (¥)"), "#6f42c1")),
        "refunds": _chart(reasons),
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
