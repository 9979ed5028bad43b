"""The dashboards' figures by plain SQL on the transactional database: the reference.

Every figure follows its definition in :data:`tuangou.analytics.rules.DEFINITIONS`. The rows
are read with ordinary queries (grouped in the database where a figure is a plain sum) and
bucketed into local days and months here, one row at a time. It is simple and obviously
right, and it is what the tests and ``bench/dashboard.py`` hold the analytical engine
(:mod:`tuangou.analytics.engine`) to; at millions of orders it is the slow way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, func, select
from sqlalchemy.orm import Session

from tuangou.analytics import rules
from tuangou.analytics.figures import (
    Cohort,
    Day,
    Figures,
    LeaderRow,
    Month,
    sort_leaders,
    sort_reasons,
)
from tuangou.analytics.rules import Scope
from tuangou.analytics.service import Outcomes, ReasonTotal
from tuangou.core import clock
from tuangou.core.db import Base
from tuangou.pools import service as pools
from tuangou.teams import service as teams

SETTLED_LINES = (pools.LineStatus.CONFIRMED, pools.LineStatus.REFUNDED)
ENDED_TEAMS = (teams.TeamStatus.SETTLED, teams.TeamStatus.FAILED)


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def bounds(scope: Scope) -> tuple[datetime, datetime, datetime, datetime]:
    """The stored (UTC) instants of the range's start and end, and of its months'."""
    months = scope.months
    return (
        clock.local_midnight(scope.start),
        clock.local_midnight(scope.end + timedelta(days=1)),
        clock.local_midnight(months[0]),
        clock.local_midnight(rules.next_month(months[-1])),
    )


def in_scope(
    query: Select[Any], order_id: Any, scope: Scope, *, always: bool = False
) -> Select[Any]:
    """``query`` narrowed to the orders in scope: when the scope names a community or a
    leader (or ``always``), joined to the order's wave listing (``wave_listings``)."""
    if not (scope.narrowed or always):
        return query
    info, listing = _table("wave_orders"), _table("wave_listings")
    query = query.join_from(order_id.table, info, info.c.order_id == order_id).join(
        listing, listing.c.id == info.c.listing_id
    )
    if scope.community_id is not None:
        query = query.where(listing.c.community_id == scope.community_id)
    if scope.leader_id is not None:
        query = query.where(listing.c.leader_id == scope.leader_id)
    return query


def compute(session: Session, scope: Scope) -> Figures:
    """Every figure of a dashboard over ``scope``, by plain SQL."""
    since, until, months_since, months_until = bounds(scope)
    o, r = _table("orders"), _table("refunds")
    span = scope.days

    # Orders paid in the range: per day, and per member for the repurchase rate.
    paid_rows = session.execute(
        in_scope(
            select(o.c.user_id, o.c.paid_at, o.c.paid_amount)
            .select_from(o)
            .where(o.c.paid_at >= since, o.c.paid_at < until),
            o.c.id,
            scope,
        )
    ).all()
    count: dict[date, int] = Counter()
    paid: dict[date, int] = Counter()
    per_member: dict[int, int] = Counter()
    for user_id, at, amount in paid_rows:
        day = clock.local_date(at)
        count[day] += 1
        paid[day] += int(amount)
        per_member[int(user_id)] += 1
    refunded = rules.per_day(
        span,
        (
            (clock.local_date(at), int(amount))
            for at, amount in session.execute(
                in_scope(
                    select(r.c.created_at, r.c.amount)
                    .select_from(r)
                    .join(o, o.c.id == r.c.order_id)
                    .where(
                        r.c.created_at >= since, r.c.created_at < until, o.c.paid_at.is_not(None)
                    ),
                    r.c.order_id,
                    scope,
                )
            )
        ),
    )
    days = [Day(d, count[d], paid[d], refunded[i]) for i, d in enumerate(span)]

    wave_rows = _wave_orders_settled(session, scope, since, until)
    waves = _outcomes(span, [(day, ok) for day, ok, _ in wave_rows])
    months, cohorts = _months(session, scope, months_since, months_until)
    return Figures(
        scope=scope,
        days=days,
        teams=None if scope.narrowed else _teams(session, span, since, until),
        waves=waves,
        months=months,
        cohorts=cohorts,
        buyers=len(per_member),
        repeat_buyers=sum(1 for n in per_member.values() if n >= 2),
        orders=len(paid_rows),
        paid=sum(int(a) for _, _, a in paid_rows),
        leaders=_leaders(session, scope, since, until, wave_rows),
        refunds=_refunds(session, scope, since, until),
        aftersales=_aftersales(session, scope, since, until),
        engine="sql",
    )


def _outcomes(span: list[date], rows: list[tuple[date, bool]]) -> list[Outcomes]:
    won: dict[date, int] = Counter()
    lost: dict[date, int] = Counter()
    for day, success in rows:
        (won if success else lost)[day] += 1
    return [Outcomes(d, won[d], lost[d]) for d in span]


def _teams(session: Session, span: list[date], since: datetime, until: datetime) -> list[Outcomes]:
    t = _table("teams").c
    rows = session.execute(
        select(t.settled_at, t.status).where(
            t.settled_at >= since, t.settled_at < until, t.status.in_(ENDED_TEAMS)
        )
    ).all()
    return _outcomes(
        span, [(clock.local_date(at), status == teams.TeamStatus.SETTLED) for at, status in rows]
    )


def _wave_orders_settled(
    session: Session, scope: Scope, since: datetime, until: datetime
) -> list[tuple[date, bool, int]]:
    """(day the wave settled, confirmed?, leader id) of each wave order in scope whose wave
    settled in the range."""
    w, info, line = _table("waves"), _table("wave_orders"), _table("wave_order_lines")
    listing = _table("wave_listings")
    query = (
        select(w.c.settled_at, line.c.order_id, line.c.status, listing.c.leader_id)
        .select_from(line)
        .join(info, info.c.order_id == line.c.order_id)
        .join(w, w.c.id == info.c.wave_id)
        .join(listing, listing.c.id == info.c.listing_id)
        .where(
            w.c.status == pools.WaveStatus.SETTLED,
            w.c.settled_at >= since,
            w.c.settled_at < until,
            line.c.status.in_(SETTLED_LINES),
        )
    )
    if scope.community_id is not None:
        query = query.where(listing.c.community_id == scope.community_id)
    if scope.leader_id is not None:
        query = query.where(listing.c.leader_id == scope.leader_id)
    found: dict[int, tuple[date, bool, int]] = {}
    for at, order_id, status, leader_id in session.execute(query):
        day, ok, _ = found.get(order_id, (clock.local_date(at), False, 0))
        found[order_id] = (day, ok or status == pools.LineStatus.CONFIRMED, int(leader_id))
    return list(found.values())


def _months(
    session: Session, scope: Scope, since: datetime, until: datetime
) -> tuple[list[Month], list[Cohort]]:
    o = _table("orders")
    keys = [rules.month_key(m) for m in scope.months]
    first_rows = session.execute(
        in_scope(
            select(o.c.user_id, func.min(o.c.paid_at))
            .select_from(o)
            .where(o.c.paid_at.is_not(None), o.c.paid_at < until)
            .group_by(o.c.user_id),
            o.c.id,
            scope,
        )
    ).all()
    first = {int(u): rules.month_key(clock.local_date(at)) for u, at in first_rows}
    active: dict[str, set[int]] = defaultdict(set)
    for user_id, at in session.execute(
        in_scope(
            select(o.c.user_id, o.c.paid_at)
            .select_from(o)
            .where(o.c.paid_at >= since, o.c.paid_at < until),
            o.c.id,
            scope,
        )
    ):
        active[rules.month_key(clock.local_date(at))].add(int(user_id))
    rm = _table("referral_members").c
    invited = {
        int(u) for (u,) in session.execute(select(rm.user_id).where(rm.inviter_id.is_not(None)))
    }
    months = [
        Month(
            key,
            sum(1 for u, m in first.items() if m == key and u in invited),
            len(active[key]),
        )
        for key in keys
    ]
    cohorts = []
    for i, key in enumerate(keys):
        members = {u for u, m in first.items() if m == key}
        cohorts.append(Cohort(key, len(members), tuple(len(members & active[k]) for k in keys[i:])))
    return months, cohorts


def _leaders(
    session: Session,
    scope: Scope,
    since: datetime,
    until: datetime,
    wave_rows: list[tuple[date, bool, int]],
) -> list[LeaderRow]:
    o, listing = _table("orders"), _table("wave_listings")
    sales = {
        int(leader): (int(amount or 0), int(n))
        for leader, amount, n in session.execute(
            in_scope(
                select(
                    listing.c.leader_id,
                    func.sum(o.c.paid_amount - o.c.refunded_amount),
                    func.count(),
                )
                .select_from(o)
                .where(o.c.paid_at >= since, o.c.paid_at < until),
                o.c.id,
                scope,
                always=True,
            ).group_by(listing.c.leader_id)
        )
    }
    c = _table("commissions")
    commission = {
        int(leader): int(amount or 0)
        for leader, amount in session.execute(
            in_scope(
                select(c.c.leader_id, func.sum(c.c.amount - c.c.reversed_amount))
                .select_from(c)
                .where(c.c.created_at >= since, c.c.created_at < until),
                c.c.order_id,
                scope,
            ).group_by(c.c.leader_id)
        )
    }
    a = _table("aftersale_cases")
    cases = {
        int(leader): int(n)
        for leader, n in session.execute(
            in_scope(
                select(listing.c.leader_id, func.count())
                .select_from(a)
                .where(a.c.created_at >= since, a.c.created_at < until),
                a.c.order_id,
                scope,
                always=True,
            ).group_by(listing.c.leader_id)
        )
    }
    confirmed: dict[int, int] = Counter()
    refunded: dict[int, int] = Counter()
    for _, ok, leader in wave_rows:
        (confirmed if ok else refunded)[leader] += 1
    return sort_leaders(
        [
            LeaderRow(
                leader_id=leader,
                gmv=gmv,
                orders=n,
                commission=commission.get(leader, 0),
                confirmed=confirmed[leader],
                refunded=refunded[leader],
                aftersales=cases.get(leader, 0),
            )
            for leader, (gmv, n) in sales.items()
        ]
    )


def _refunds(session: Session, scope: Scope, since: datetime, until: datetime) -> list[ReasonTotal]:
    r = _table("refunds")
    rows = session.execute(
        in_scope(
            select(r.c.reason, func.count(), func.sum(r.c.amount))
            .select_from(r)
            .where(r.c.created_at >= since, r.c.created_at < until),
            r.c.order_id,
            scope,
        ).group_by(r.c.reason)
    ).all()
    return sort_reasons([ReasonTotal(str(k), int(n), int(a or 0)) for k, n, a in rows])


def _aftersales(
    session: Session, scope: Scope, since: datetime, until: datetime
) -> list[ReasonTotal]:
    a = _table("aftersale_cases")
    rows = session.execute(
        in_scope(
            select(a.c.kind, func.count(), func.sum(a.c.amount_refunded))
            .select_from(a)
            .where(a.c.created_at >= since, a.c.created_at < until),
            a.c.order_id,
            scope,
        ).group_by(a.c.kind)
    ).all()
    return sort_reasons([ReasonTotal(str(k), int(n), int(x or 0)) for k, n, x in rows])


def leader_names(session: Session, leader_ids: list[int]) -> dict[int, str]:
    """Each leader's nickname (what the dashboards call them)."""
    if not leader_ids:
        return {}
    lead, users = _table("leaders").c, _table("users").c
    return {
        int(i): str(n)
        for i, n in session.execute(
            select(lead.id, users.nickname)
            .join_from(_table("leaders"), _table("users"), users.id == lead.user_id)
            .where(lead.id.in_(leader_ids))
        )
    }


def community_choices(session: Session, leader_id: int | None = None) -> list[tuple[int, str]]:
    """Communities a dashboard can be narrowed to (a leader's own when ``leader_id``)."""
    c = _table("communities").c
    query = select(c.id, c.name).order_by(c.name, c.id)
    if leader_id is not None:
        query = query.where(c.leader_id == leader_id)
    return [(int(i), str(n)) for i, n in session.execute(query)]


def leader_choices(session: Session) -> list[tuple[int, str]]:
    """Every leader a dashboard can be narrowed to, by name."""
    lead, users = _table("leaders").c, _table("users").c
    return [
        (int(i), str(n))
        for i, n in session.execute(
            select(lead.id, users.nickname)
            .join_from(_table("leaders"), _table("users"), users.id == lead.user_id)
            .order_by(users.nickname, lead.id)
        )
    ]
