"""The operator's dashboard: read-only figures over what the other domains wrote.

Nothing here writes. This domain is the platform's one **read model**: the figures come from
plain reads of the other domains' tables, looked up by name in the shared metadata (which
``wiring.compose`` fills), never through their models, because they are sums over many rows
that no use case of those domains needs. Its import-linter contract says so: it imports no
domain's models, and no domain imports it (only the pages do). Money is in fen; days are
calendar days in the deployment's time zone (:func:`tuangou.core.clock.local_date`).

Definitions (also shown to the operator):

* **GMV of a day**: what members paid for orders paid that day, minus the refunds made that
  day of orders that had been paid (a late payment on a closed order is neither).
* **Team success**: teams that ended (settled, or failed below their size) on a day; the
  successful ones include platform completion.
* **Wave confirmation**: orders of waves that settled on a day: confirmed at the cut-off (at
  least one line reached its MOQ) or refunded because every line stayed below its MOQ.
* **Top communities and leaders**: net amount (paid minus refunded) of the wave orders paid
  in the window, through each community's listing.
* **Refunds by reason**: refunds made in the window, counted and summed per reason.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.aftersales import service as aftersales
from tuangou.analytics import rules
from tuangou.commission import service as commission
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import Base
from tuangou.pools import service as pools
from tuangou.teams import service as teams

WINDOW_DAYS = 30
TOP_N = 5


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


# ---------------------------------------------------------------- queues


@dataclass(frozen=True)
class Queue:
    """Work waiting for an operator: how much, and how long the oldest has waited."""

    name: str  # leader_applications | aftersales | withdrawals
    count: int
    oldest_at: datetime | None
    oldest_age_seconds: int | None


_QUEUES = (
    ("leader_applications", "leader_applications", communities.ApplicationStatus.PENDING),
    ("aftersales", "aftersale_cases", aftersales.CaseStatus.OPEN),
    ("withdrawals", "withdrawals", commission.WithdrawalStatus.REQUESTED),
)


def queues(session: Session) -> list[Queue]:
    """Each queue with its count and its oldest item's age, in the order an operator works."""
    now = clock.now()
    found = []
    for name, table_name, status in _QUEUES:
        t = _table(table_name).c
        count, oldest = session.execute(
            select(func.count(), func.min(t.created_at)).where(t.status == status)
        ).one()
        found.append(
            Queue(
                name=name,
                count=int(count),
                oldest_at=oldest,
                oldest_age_seconds=None
                if oldest is None
                else rules.age_seconds((now - oldest).total_seconds()),
            )
        )
    return found


# ---------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class Outcomes:
    """Successes against failures, on one day (or over the whole window when ``day`` is None)."""

    day: date | None
    succeeded: int
    failed: int

    @property
    def total(self) -> int:
        return self.succeeded + self.failed

    @property
    def rate(self) -> float | None:
        return rules.rate(self.succeeded, self.total)


@dataclass(frozen=True)
class Ranked:
    id: int
    name: str
    gmv: int
    orders: int


@dataclass(frozen=True)
class ReasonTotal:
    reason: str
    count: int
    amount: int


@dataclass(frozen=True)
class Dashboard:
    days: list[date]
    gmv: list[int]  # fen per day, aligned with ``days``
    paid: list[int]
    refunded: list[int]
    teams: list[Outcomes]  # per day
    waves: list[Outcomes]  # per day
    top_communities: list[Ranked]
    top_leaders: list[Ranked]
    refunds: list[ReasonTotal]

    @property
    def gmv_total(self) -> int:
        return sum(self.gmv)

    @property
    def teams_total(self) -> Outcomes:
        return _sum_outcomes(self.teams)

    @property
    def waves_total(self) -> Outcomes:
        return _sum_outcomes(self.waves)


def _sum_outcomes(rows: list[Outcomes]) -> Outcomes:
    return Outcomes(None, sum(r.succeeded for r in rows), sum(r.failed for r in rows))


def dashboard(
    session: Session, *, days: int = WINDOW_DAYS, top_n: int = TOP_N, today: date | None = None
) -> Dashboard:
    """Every figure of the dashboard over the ``days`` days ending today (local time)."""
    today = today or clock.local_date(clock.now())
    span = rules.window(today, days)
    since = clock.local_midnight(span[0])
    paid, refunded = _money_per_day(session, span, since)
    return Dashboard(
        days=span,
        gmv=[p - r for p, r in zip(paid, refunded, strict=True)],
        paid=paid,
        refunded=refunded,
        teams=_team_outcomes(session, span, since),
        waves=_wave_outcomes(session, span, since),
        top_communities=_top_communities(session, since, top_n),
        top_leaders=_top_leaders(session, since, top_n),
        refunds=refunds_by_reason(session, since),
    )


def _money_per_day(
    session: Session, span: list[date], since: datetime
) -> tuple[list[int], list[int]]:
    o = _table("orders").c
    r = _table("refunds").c
    paid_rows = session.execute(
        select(o.paid_at, o.paid_amount).where(o.paid_at.is_not(None), o.paid_at >= since)
    ).all()
    refund_rows = session.execute(
        select(r.created_at, r.amount)
        .join_from(_table("refunds"), _table("orders"), o.id == r.order_id)
        .where(r.created_at >= since, o.paid_at.is_not(None))
    ).all()
    paid = rules.per_day(span, ((clock.local_date(at), int(a)) for at, a in paid_rows))
    refunded = rules.per_day(span, ((clock.local_date(at), int(a)) for at, a in refund_rows))
    return paid, refunded


def _outcomes(span: list[date], rows: list[tuple[date, bool]]) -> list[Outcomes]:
    won: dict[date, int] = defaultdict(int)
    lost: dict[date, int] = defaultdict(int)
    for day, success in rows:
        (won if success else lost)[day] += 1
    return [Outcomes(d, won[d], lost[d]) for d in span]


def _team_outcomes(session: Session, span: list[date], since: datetime) -> list[Outcomes]:
    t = _table("teams").c
    rows = session.execute(
        select(t.settled_at, t.status).where(
            t.settled_at >= since, t.status.in_((teams.TeamStatus.SETTLED, teams.TeamStatus.FAILED))
        )
    ).all()
    return _outcomes(
        span, [(clock.local_date(at), status == teams.TeamStatus.SETTLED) for at, status in rows]
    )


def _wave_outcomes(session: Session, span: list[date], since: datetime) -> list[Outcomes]:
    w = _table("waves").c
    info = _table("wave_orders").c
    line = _table("wave_order_lines").c
    rows = session.execute(
        select(w.settled_at, line.order_id, line.status)
        .join_from(
            _table("wave_order_lines"), _table("wave_orders"), info.order_id == line.order_id
        )
        .join(_table("waves"), w.id == info.wave_id)
        .where(
            w.status == pools.WaveStatus.SETTLED,
            w.settled_at >= since,
            line.status.in_((pools.LineStatus.CONFIRMED, pools.LineStatus.REFUNDED)),
        )
    ).all()
    settled_on: dict[int, date] = {}
    confirmed: dict[int, bool] = {}
    for at, order_id, status in rows:
        settled_on[order_id] = clock.local_date(at)
        confirmed[order_id] = confirmed.get(order_id, False) or status == pools.LineStatus.CONFIRMED
    return _outcomes(span, [(settled_on[oid], ok) for oid, ok in confirmed.items()])


def _wave_sales(session: Session, since: datetime, key: Any) -> dict[int, tuple[int, int]]:
    """Net amount and count of the wave orders paid since ``since``, per listing column."""
    o = _table("orders").c
    info = _table("wave_orders").c
    listing = _table("wave_listings").c
    rows = session.execute(
        select(key, func.sum(o.paid_amount - o.refunded_amount), func.count())
        .join_from(_table("wave_orders"), _table("orders"), o.id == info.order_id)
        .join(_table("wave_listings"), listing.id == info.listing_id)
        .where(o.paid_at.is_not(None), o.paid_at >= since)
        .group_by(key)
        .order_by(key)
    ).all()
    return {int(k): (int(amount or 0), int(n)) for k, amount, n in rows}


def _top_communities(session: Session, since: datetime, n: int) -> list[Ranked]:
    sales = _wave_sales(session, since, _table("wave_listings").c.community_id)
    ranked = rules.top({k: v[0] for k, v in sales.items()}, n)
    return [
        Ranked(cid, communities.get_community(session, cid).name, gmv, sales[cid][1])
        for cid, gmv in ranked
    ]


def _top_leaders(session: Session, since: datetime, n: int) -> list[Ranked]:
    sales = _wave_sales(session, since, _table("wave_listings").c.leader_id)
    ranked = rules.top({k: v[0] for k, v in sales.items()}, n)
    found = []
    for leader_id, gmv in ranked:
        leader = communities.get_leader(session, leader_id)
        name = accounts.get_user(session, leader.user_id).nickname
        found.append(Ranked(leader_id, name, gmv, sales[leader_id][1]))
    return found


def refunds_by_reason(session: Session, since: datetime) -> list[ReasonTotal]:
    """Refunds made since ``since`` per reason, the largest amount first."""
    r = _table("refunds").c
    rows = session.execute(
        select(r.reason, func.count(), func.sum(r.amount))
        .where(r.created_at >= since)
        .group_by(r.reason)
    ).all()
    totals = [ReasonTotal(str(reason), int(n), int(amount or 0)) for reason, n, amount in rows]
    return sorted(totals, key=lambda t: (-t.amount, t.reason))


# ---------------------------------------------------------------- the operator's order desk


@dataclass(frozen=True)
class DeskOrder:
    """A row of the operator's order list: the order with who, what and where."""

    id: int
    kind: str
    status: str
    quantity: int
    paid_amount: int
    refunded_amount: int
    created_at: datetime
    user_id: int
    member: str  # the nickname
    phone: str  # the whole number: the page shows it masked
    product: str  # a team order's product; a wave order's items, " · " between them
    wave: str  # a wave order's wave title
    community_id: int | None  # a wave order's community (a team order has none)
    community: str


@dataclass(frozen=True)
class Choice:
    id: int
    name: str


def find_orders(
    session: Session,
    *,
    status: str | None = None,
    kind: str | None = None,
    community_id: int | None = None,
    product_id: int | None = None,
    search: str = "",
    limit: int = 50,
    offset: int = 0,
) -> list[DeskOrder]:
    """Orders, newest first, by status, kind (team, wave), community, product, and a search:
    digits find an order number or a phone (its end); words find the member's nickname, a
    product or item title, the wave's title, the community's name."""
    o, u = _table("orders").c, _table("users").c
    skus, products = _table("skus"), _table("products")
    wave_orders, waves = _table("wave_orders"), _table("waves")
    listings, groups = _table("wave_listings"), _table("communities")
    lines, items = _table("wave_order_lines"), _table("wave_items")
    sku, product = skus.c, products.c
    joined = (
        _table("orders")
        .join(_table("users"), u.id == o.user_id)
        .outerjoin(skus, sku.id == o.sku_id)
        .outerjoin(products, product.id == sku.product_id)
        .outerjoin(wave_orders, wave_orders.c.order_id == o.id)
        .outerjoin(waves, waves.c.id == wave_orders.c.wave_id)
        .outerjoin(listings, listings.c.id == wave_orders.c.listing_id)
        .outerjoin(groups, groups.c.id == listings.c.community_id)
    )
    query = (
        select(
            o.id,
            o.kind,
            o.status,
            o.quantity,
            o.paid_amount,
            o.refunded_amount,
            o.created_at,
            o.user_id,
            u.nickname,
            u.phone,
            product.title,
            waves.c.title,
            groups.c.id,
            groups.c.name,
        )
        .select_from(joined)
        .order_by(o.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if status:
        query = query.where(o.status == status)
    if kind:
        query = query.where(o.kind == kind)
    if community_id is not None:
        query = query.where(groups.c.id == community_id)
    if product_id is not None:
        line_sku = skus.alias("line_sku")
        in_lines = (
            select(lines.c.id)
            .join(line_sku, line_sku.c.id == lines.c.sku_id)
            .where(lines.c.order_id == o.id, line_sku.c.product_id == product_id)
            .exists()
        )
        query = query.where(or_(product.id == product_id, in_lines))
    search = search.strip()
    if search.isdigit():
        by_phone = u.phone.endswith(search, autoescape=True)
        # A number past the id column's range (a whole phone number) is no order's number.
        fits = int(search) <= 2**31 - 1
        query = query.where(or_(o.id == int(search), by_phone) if fits else by_phone)
    elif search:
        item_found = (
            select(lines.c.id)
            .join(items, items.c.id == lines.c.item_id)
            .where(lines.c.order_id == o.id, items.c.title.icontains(search, autoescape=True))
            .exists()
        )
        query = query.where(
            or_(
                u.nickname.icontains(search, autoescape=True),
                product.title.icontains(search, autoescape=True),
                waves.c.title.icontains(search, autoescape=True),
                groups.c.name.icontains(search, autoescape=True),
                item_found,
            )
        )
    rows = session.execute(query).all()
    titles: dict[int, list[str]] = defaultdict(list)
    wave_ids = [int(r[0]) for r in rows if r[1] == "wave"]
    if wave_ids:
        for order_id, title in session.execute(
            select(lines.c.order_id, items.c.title)
            .join(items, items.c.id == lines.c.item_id)
            .where(lines.c.order_id.in_(wave_ids))
            .order_by(lines.c.id)
        ):
            titles[int(order_id)].append(str(title))
    return [
        DeskOrder(
            id=int(r[0]),
            kind=str(r[1]),
            status=str(r[2]),
            quantity=int(r[3]),
            paid_amount=int(r[4]),
            refunded_amount=int(r[5]),
            created_at=r[6],
            user_id=int(r[7]),
            member=str(r[8]),
            phone=str(r[9]),
            product=" · ".join(titles[int(r[0])]) if r[1] == "wave" else str(r[10] or ""),
            wave=str(r[11] or ""),
            community_id=None if r[12] is None else int(r[12]),
            community=str(r[13] or ""),
        )
        for r in rows
    ]


def order_filters(session: Session) -> tuple[list[Choice], list[Choice]]:
    """The communities and the products the order list can be narrowed to, by name."""
    groups, products = _table("communities").c, _table("products").c
    return (
        [
            Choice(int(i), str(n))
            for i, n in session.execute(select(groups.id, groups.name).order_by(groups.name))
        ],
        [
            Choice(int(i), str(n))
            for i, n in session.execute(
                select(products.id, products.title).order_by(products.title)
            )
        ],
    )


@dataclass(frozen=True)
class Leg:
    """One leg of a ledger transfer about an order."""

    transfer_id: str
    kind: str
    created_at: datetime
    account: str
    amount: int


def ledger_of_order(session: Session, order_id: int) -> list[Leg]:
    """The journal's legs about one order, in the order they were written."""
    t = _table("ledger_transfers").c
    e = _table("ledger_entries").c
    rows = session.execute(
        select(t.id, t.kind, t.created_at, e.account, e.amount)
        .join_from(_table("ledger_entries"), _table("ledger_transfers"), t.id == e.transfer_id)
        .where(e.order_id == order_id)
        .order_by(e.id)
    ).all()
    return [Leg(str(a), str(b), c, str(d), int(amount)) for a, b, c, d, amount in rows]
