"""The dashboards as the pages and the API ask for them: who may see what, the scope from
what was asked, the figures with the leaders' names, and each figure as a CSV table.

A leader's dashboard is always narrowed to their own listings (and, if they ask, one of their
own communities); the operator's covers the platform or one community or leader.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date

from sqlalchemy.orm import Session

from tuangou.analytics import dashboards, engine, rules
from tuangou.analytics.errors import InvalidRange, UnknownFigure
from tuangou.analytics.figures import Figures
from tuangou.analytics.rules import Scope
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.errors import NotFound

ENGINES = ("duckdb", "sql")


def scope(
    *,
    start: date | None = None,
    end: date | None = None,
    days: int = 30,
    community_id: int | None = None,
    leader_id: int | None = None,
) -> Scope:
    """The scope asked for, ending today (local) unless ``end`` is given."""
    try:
        return rules.scope_of(
            clock.local_date(clock.now()),
            start=start,
            end=end,
            days=days,
            community_id=community_id,
            leader_id=leader_id,
        )
    except ValueError as exc:
        raise InvalidRange(str(exc)) from exc


def leader_scope(session: Session, user_id: int, asked: Scope) -> Scope:
    """``asked`` narrowed to the leader ``user_id`` is: a community that is not theirs is
    not found (a leader never learns of another's figures)."""
    leader = communities.get_leader_by_user(session, user_id)
    if asked.community_id is not None:
        mine = {cid for cid, _ in dashboards.community_choices(session, leader.id)}
        if asked.community_id not in mine:
            raise NotFound("No such community of yours")
    return replace(asked, leader_id=leader.id)


def figures(session: Session, scope: Scope, *, analytic: bool = True) -> Figures:
    """Every figure over ``scope``, by the analytical engine (or the plain-SQL reference),
    with the leaders' names."""
    found = (engine if analytic else dashboards).compute(session, scope)
    names = dashboards.leader_names(session, [r.leader_id for r in found.leaders])
    return replace(
        found, leaders=[replace(r, name=names.get(r.leader_id, "")) for r in found.leaders]
    )


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def table(f: Figures, figure: str) -> tuple[list[str], list[list[object]]]:
    """One figure's series as a table: a header and rows (money in fen, rates 0 to 1)."""
    if figure in ("gmv", "orders"):
        return ["day", "orders", "paid_fen", "refunded_fen", "gmv_fen"], [
            [d.day.isoformat(), d.orders, d.paid, d.refunded, d.gmv] for d in f.days
        ]
    if figure in ("team_success", "wave_confirmation"):
        rows = (f.teams or []) if figure == "team_success" else f.waves
        return ["day", "succeeded", "failed", "rate"], [
            [o.day.isoformat() if o.day else "", o.succeeded, o.failed, _share(o.rate)]
            for o in rows
        ]
    if figure == "k_factor":
        return ["month", "invited_first_orders", "ordering_members", "k_factor"], [
            [m.month, m.converted, m.active, _share(m.k)] for m in f.months
        ]
    if figure == "retention":
        width = len(f.cohorts)
        return ["cohort", "size", *(f"month_{n}" for n in range(width))], [
            [c.month, c.size, *(_share(s) for s in c.shares), *([""] * (width - len(c.shares)))]
            for c in f.cohorts
        ]
    if figure == "repurchase":
        return ["buyers", "repeat_buyers", "repurchase_rate"], [
            [f.buyers, f.repeat_buyers, _share(f.repurchase)]
        ]
    if figure == "aov":
        return ["orders", "paid_fen", "average_order_value_fen"], [
            [f.orders, f.paid, "" if f.aov is None else f.aov]
        ]
    if figure == "leaders":
        return [
            "leader_id",
            "leader",
            "gmv_fen",
            "orders",
            "commission_fen",
            "confirmed",
            "refunded_below_moq",
            "confirmation_rate",
            "aftersales",
            "aftersale_rate",
        ], [
            [
                r.leader_id,
                r.name,
                r.gmv,
                r.orders,
                r.commission,
                r.confirmed,
                r.refunded,
                _share(r.confirmation),
                r.aftersales,
                _share(r.aftersale_rate),
            ]
            for r in f.leaders
        ]
    if figure in ("refunds", "aftersales"):
        reasons = f.refunds if figure == "refunds" else f.aftersales
        amount = "amount_fen" if figure == "refunds" else "refunded_fen"
        return ["reason", "count", amount], [[r.reason, r.count, r.amount] for r in reasons]
    raise UnknownFigure(f"figure must be one of: {', '.join(rules.DEFINITIONS)}")


def csv_text(f: Figures, figure: str) -> str:
    """One figure as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the
    Chinese names right)."""
    header, rows = table(f, figure)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return out.getvalue()


def _safe(value: object) -> object:
    """A cell a spreadsheet will not run as a formula (a name starting with = + - @)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
