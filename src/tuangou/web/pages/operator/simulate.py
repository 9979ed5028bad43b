"""试运行 / try before launch (``/ops/simulate``): the what-if simulator in the console.

The form takes a proposed team-buy campaign (the campaign form's fields; the campaign page's
"Try before launch" button posts its own form here, filled in) and the settings to compare;
the run is queued and the worker runs it in a process of its own. The run's page shows its
progress, then where each parameter of the simulated members came from, charts of each
setting's team success (mean, with the p10–p90 spread), GMV and subsidy, and a table of every
figure. Every handler calls the same service as the API's ``/api/admin/simulations``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from tuangou.catalog import service as catalog
from tuangou.core import money
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.simulate import rules
from tuangou.simulate import service as simulations
from tuangou.web import errors as web_errors
from tuangou.web import i18n
from tuangou.web.forms import FormState
from tuangou.web.pages.operator import charts
from tuangou.web.pages.operator.common import OPENER_PERKS, _ctx, _done
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import fmt_money, render, translate

router = APIRouter(prefix="/ops/simulate")

RUN_STATUSES = {
    rules.RunStatus.QUEUED: i18n.lazy("Waiting to run"),
    rules.RunStatus.RUNNING: i18n.lazy("Running"),
    rules.RunStatus.DONE: i18n.lazy("Done"),
    rules.RunStatus.FAILED: i18n.lazy("Failed"),
}
FIELDS = {  # the spec's fields as the form names them, for a refusal of the service
    "team_size": "team_sizes",
    "window": "windows",
    "completion": "completions",
    "grid": "team_sizes",
    "campaign_hours": "hours",
}
DEFAULTS = {
    "team_sizes": "2,3",
    "windows": "24",
    "tiers": "",
    "completion_off": "1",
    "completion_percent": "50",
    "subsidy_budget": "1000.00",
    "hours": "72",
    "per_member_limit": "5",
    "opener_perk": "none",
    "members": "200",
    "runs": "5",
    "seed": "1",
}


def _sku_options(session: Session) -> list[tuple[int, str]]:
    return [
        (sku.id, f"{catalog.goods_name(product.title, sku.name)} · {fmt_money(sku.price)}")
        for product in catalog.list_products(session)
        for sku in catalog.skus_of(session, product.id)
    ]


def _form_page(request: Request, form: FormState | None = None, status: int = 200) -> Response:
    def load(session: Session) -> dict[str, Any]:
        return {"runs": simulations.list_runs(session, limit=20), "skus": _sku_options(session)}

    data = read(load)
    return render(
        request,
        "operator/simulate.html",
        _ctx(
            request,
            form=form or FormState(values=dict(DEFAULTS)),
            sku_options=data["skus"],
            perk_options=[(k, translate(request, v)) for k, v in OPENER_PERKS.items()],
            runs=data["runs"],
            run_statuses=RUN_STATUSES,
        ),
        status_code=status,
    )


@router.get("")
def form_page(request: Request, who: PageOperator) -> Response:
    return _form_page(request)


def _yuan_tiers(state: FormState, request: Request) -> tuple[tuple[tuple[int, int], ...], ...]:
    """``5:26.90, 10:23.90; 4:27.90``: ladders (``;`` between) of steps past the team size,
    members:price in yuan; empty is one price."""
    ladders: list[tuple[tuple[int, int], ...]] = []
    raw = state.text("tiers").replace("；", ";").replace("，", ",")
    for part in raw.split(";"):
        steps = []
        for step in part.split(","):
            if not step.strip():
                continue
            members, sep, price = step.strip().partition(":")
            fen = FormState(values={"p": price}).fen(request, "p") if sep else None
            if not members.strip().isdigit() or fen is None:
                state.add(request, "tiers", "Write each step as members:price, like 5:26.90")
                return ((),)
            steps.append((int(members), fen))
        ladders.append(tuple(sorted(steps)))
    return tuple(dict.fromkeys(ladders)) or ((),)


def _ints(state: FormState, request: Request, name: str) -> tuple[int, ...]:
    try:
        return rules.parse_hours(state.text(name), name)
    except rules.SpecProblem:
        state.add(request, name, "Write whole numbers separated by commas, like 2,3,5")
        return ()


def _spec(state: FormState, request: Request) -> rules.Spec | None:
    state.required(request, "sku_id", "price", "team_sizes", "windows")
    sku_id = state.integer(request, "sku_id", low=1) if state.text("sku_id") else None
    price = state.fen(request, "price") if state.text("price") else None
    sizes = _ints(state, request, "team_sizes") if state.text("team_sizes") else ()
    windows = _ints(state, request, "windows") if state.text("windows") else ()
    tiers = _yuan_tiers(state, request)
    completions = tuple(
        flag
        for flag, name in ((True, "completion_on"), (False, "completion_off"))
        if state.text(name)
    )
    if not completions:
        state.add(request, "completion", "Choose on, off or both")
    numbers = {
        name: state.integer(request, name, low=low, high=high)
        for name, low, high in (
            ("completion_percent", 1, 100),
            ("hours", 1, rules.MAX_CAMPAIGN_HOURS),
            ("members", 2, rules.MAX_MEMBERS),
            ("runs", 1, rules.MAX_RUNS),
            ("seed", 0, 2**31 - 1),
        )
    }
    stock = state.integer(request, "stock", low=1) if state.text("stock") else None
    limit = (
        state.integer(request, "per_member_limit", low=1) if state.text("per_member_limit") else 5
    )
    perk = state.text("opener_perk") or "none"
    if perk not in OPENER_PERKS:
        state.add(request, "opener_perk", "Choose one of the options")
    opener_price = state.fen(request, "opener_price") if perk == "price" else None
    budget = state.fen(request, "subsidy_budget", required=False) or 0
    if not state.ok:
        return None
    assert sku_id is not None and price is not None
    return rules.Spec(
        sku_id=sku_id,
        price=price,
        team_sizes=sizes,
        windows=windows,
        tiers=tiers,
        completions=completions,
        completion_percent=numbers["completion_percent"] or 50,
        subsidy_budget=budget,
        campaign_hours=numbers["hours"] or 72,
        stock=stock,
        per_member_limit=limit or 5,
        opener_perk=perk,
        opener_price=opener_price,
        members=numbers["members"] or 200,
        runs=numbers["runs"] or 1,
        seed=numbers["seed"] or 0,
    )


@router.post("")
def create(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    spec = _spec(state, request)
    if spec is None:
        return _form_page(request, state, status=400)
    try:
        run = run_in_transaction(lambda s: simulations.create_run(s, spec, operator_id=who.user_id))
    except DomainError as exc:
        field = str(exc.extra.get("field") or "_form")
        state.errors.setdefault(FIELDS.get(field, field), web_errors.message(request, exc))
        return _form_page(request, state, status=422)
    return _done(f"/ops/simulate/{run.id}", "queued")


@router.post("/try")
def try_campaign(request: Request, form: Form, who: PageOperator) -> Response:
    """The campaign form's settings, carried into the simulator's form (nothing is saved)."""
    campaign = FormState.of(form)
    values = dict(DEFAULTS)
    values["sku_id"] = campaign.text("sku_id")
    steps = []
    for part in campaign.text("tiers").replace("，", ",").split(","):
        members, sep, price = part.strip().partition(":")
        if sep and members.strip().isdigit():
            steps.append((int(members), price.strip()))
    steps.sort()
    if steps:
        values["team_sizes"] = str(steps[0][0])
        values["price"] = steps[0][1]
        values["tiers"] = ", ".join(f"{m}:{p}" for m, p in steps[1:])
    elif campaign.text("min_size"):
        values["team_sizes"] = campaign.text("min_size")
    if campaign.text("window_hours"):
        values["windows"] = campaign.text("window_hours")
    for name in ("stock", "per_member_limit", "opener_perk", "opener_price"):
        if campaign.text(name):
            values[name] = campaign.text(name)
    try:
        starts = datetime.fromisoformat(campaign.text("starts_at"))
        ends = datetime.fromisoformat(campaign.text("ends_at"))
        if ends > starts:
            values["hours"] = str(max(1, round((ends - starts).total_seconds() / 3600)))
    except ValueError:
        pass
    return _form_page(request, FormState(values=values))


# ---------------------------------------------------------------- a run's page

BAR = 22
COLOUR = "#e4393c"


def spread_bars(rows: list[tuple[str, dict[str, Any] | None]], *, label: str) -> Markup:
    """Horizontal bars of a share (0–1) per setting: the mean as the bar, the p10–p90 spread
    as a line across it, each labelled; a setting without a figure is left empty."""
    names = [charts.clip(name, 170) for name, _ in rows]
    left = 12 + max((charts.text_width(n) for n in names), default=0)
    right = 60
    span = charts.WIDTH - left - right
    height = max(len(rows), 1) * (BAR + 6) + 8
    parts = []
    for n, ((name, figure), shown) in enumerate(zip(rows, names, strict=True)):
        top = 4 + n * (BAR + 6)
        parts.append(
            f'<text x="{left - 6:.1f}" y="{top + 15}" text-anchor="end" fill="#333">'
            f"{escape(shown)}</text>"
        )
        if not figure or figure.get("mean") is None:
            parts.append(f'<text x="{left:.1f}" y="{top + 15}" fill="#999">—</text>')
            continue
        mean, low, high = figure["mean"], figure["p10"], figure["p90"]
        tip = f"{name} · {mean * 100:.0f}% ({low * 100:.0f}%–{high * 100:.0f}%)"
        parts.append(
            f'<g class="row"><rect x="{left:.1f}" y="{top + 3}" width="{max(span * mean, 1):.1f}" '
            f'height="{BAR - 6}" fill="{COLOUR}" opacity="0.8"><title>{escape(tip)}</title></rect>'
            f'<line class="spread" x1="{left + span * low:.1f}" x2="{left + span * high:.1f}" '
            f'y1="{top + BAR / 2:.1f}" y2="{top + BAR / 2:.1f}" stroke="#333" stroke-width="2"/>'
            f'<text x="{left + span + 6:.1f}" y="{top + 15}" fill="#333">'
            f"{mean * 100:.0f}%</text></g>"
        )
    return Markup(
        f'<svg class="chart-svg" viewBox="0 0 {charts.WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="{charts.FONT}">' + "".join(parts) + "</svg>"
    )


def _share(figure: dict[str, Any] | None) -> str:
    if not figure or figure.get("mean") is None:
        return "—"
    return f"{figure['mean'] * 100:.0f}% ({figure['p10'] * 100:.0f}–{figure['p90'] * 100:.0f}%)"


def _money(figure: dict[str, Any] | None) -> str:
    if not figure or figure.get("mean") is None:
        return "—"
    low, high = money.fmt(round(figure["p10"])), money.fmt(round(figure["p90"]))
    return f"{money.fmt(round(figure['mean']))} ({low}–{high})"


def _charts(request: Request, results: dict[str, Any]) -> dict[str, Markup]:
    rows = [r for r in results["rows"] if not r["error"]]

    def mean(row: dict[str, Any], name: str) -> int:
        return round(row["summary"][name]["mean"] or 0)

    return {
        "success": spread_bars(
            [(r["label"], r["summary"]["success_rate"]) for r in rows],
            label=translate(request, i18n.lazy("Team success rate")),
        ),
        "left": spread_bars(
            [(r["label"], r["summary"]["left_in_failed"]) for r in rows],
            label=translate(request, i18n.lazy("Members left in failed teams")),
        ),
        "gmv": charts.ranked_bars(
            [(r["label"], mean(r, "gmv")) for r in rows],
            label=translate(request, i18n.lazy("GMV")),
            colour="#2b7a4b",
        ),
        "subsidy": charts.ranked_bars(
            [(r["label"], mean(r, "subsidy")) for r in rows],
            label=translate(request, i18n.lazy("Subsidy cost")),
            colour="#c77700",
        ),
    }


@router.get("/{simulation_id}")
def run_page(simulation_id: int, request: Request, who: PageOperator) -> Response:
    run = read(lambda s: simulations.get_run(s, simulation_id))
    results = run.results
    flash = {}
    if request.query_params.get("done") == "queued":
        flash["flash"] = translate(
            request, i18n.lazy("Queued: the worker runs it; this page shows its progress.")
        )
    return render(
        request,
        "operator/simulation.html",
        _ctx(
            request,
            run=run,
            spec=run.settings,
            results=results,
            charts=_charts(request, results) if results else {},
            share=_share,
            money_spread=_money,
            run_statuses=RUN_STATUSES,
            waiting=run.status in (rules.RunStatus.QUEUED, rules.RunStatus.RUNNING),
            **flash,
        ),
    )
