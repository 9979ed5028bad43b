"""The read model's replies: the operator's order list and the dashboards."""

from __future__ import annotations

from tuangou.analytics.figures import Figures
from tuangou.analytics.service import DeskOrder, Outcomes
from tuangou.core import clock
from tuangou.core.schemas import Iso, Out


class DeskOrderOut(Out):
    """An order with who bought it, what and where (a team order has no community)."""

    id: int
    kind: str
    status: str
    quantity: int
    paid_amount: int
    refunded_amount: int
    created_at: Iso
    user_id: int
    member: str
    masked_phone: str
    product: str
    wave: str
    community_id: int | None
    community: str

    @classmethod
    def of(cls, o: DeskOrder, masked_phone: str) -> DeskOrderOut:
        return cls.model_construct(
            id=o.id,
            kind=o.kind,
            status=o.status,
            quantity=o.quantity,
            paid_amount=o.paid_amount,
            refunded_amount=o.refunded_amount,
            created_at=clock.iso(o.created_at) or "",
            user_id=o.user_id,
            member=o.member,
            masked_phone=masked_phone,
            product=o.product,
            wave=o.wave,
            community_id=o.community_id,
            community=o.community,
        )


# ---------------------------------------------------------------- the dashboards


class DayFigureOut(Out):
    """One local day: orders paid, what was paid and refunded (fen), and the GMV."""

    day: str
    orders: int
    paid: int
    refunded: int
    gmv: int


class OutcomeOut(Out):
    """Successes against failures on a day (or over the range when ``day`` is null)."""

    day: str | None
    succeeded: int
    failed: int
    rate: float | None

    @classmethod
    def of(cls, o: Outcomes) -> OutcomeOut:
        return cls(
            day=None if o.day is None else o.day.isoformat(),
            succeeded=o.succeeded,
            failed=o.failed,
            rate=o.rate,
        )


class MonthOut(Out):
    """K-factor of a calendar month."""

    month: str
    converted: int
    active: int
    k_factor: float | None


class CohortOut(Out):
    """A cohort by first-order month: how many, and how many (and what share) ordered N
    months later, N = 0, 1, …"""

    month: str
    size: int
    active: list[int]
    shares: list[float | None]


class LeaderFigureOut(Out):
    leader_id: int
    name: str
    gmv: int
    orders: int
    commission: int
    confirmed: int
    refunded: int
    confirmation_rate: float | None
    aftersales: int
    aftersale_rate: float | None


class ReasonOut(Out):
    reason: str
    count: int
    amount: int


class DashboardOut(Out):
    """Every figure of a dashboard over its range (see ``GET /api/dashboard/definitions``).
    Money is in fen, rates from 0 to 1 (null when there is nothing to measure). ``teams`` is
    null when narrowed to a community or a leader: teams belong to no community."""

    start: str
    end: str
    community_id: int | None
    leader_id: int | None
    engine: str
    gmv: int
    orders: int
    paid: int
    average_order_value: int | None
    buyers: int
    repeat_buyers: int
    repurchase_rate: float | None
    days: list[DayFigureOut]
    teams: list[OutcomeOut] | None
    teams_total: OutcomeOut | None
    waves: list[OutcomeOut]
    waves_total: OutcomeOut
    months: list[MonthOut]
    cohorts: list[CohortOut]
    leaders: list[LeaderFigureOut]
    refunds: list[ReasonOut]
    aftersales: list[ReasonOut]

    @classmethod
    def of(cls, f: Figures) -> DashboardOut:
        teams_total = f.teams_total
        return cls(
            start=f.scope.start.isoformat(),
            end=f.scope.end.isoformat(),
            community_id=f.scope.community_id,
            leader_id=f.scope.leader_id,
            engine=f.engine,
            gmv=f.gmv_total,
            orders=f.orders,
            paid=f.paid,
            average_order_value=f.aov,
            buyers=f.buyers,
            repeat_buyers=f.repeat_buyers,
            repurchase_rate=f.repurchase,
            days=[
                DayFigureOut(
                    day=d.day.isoformat(),
                    orders=d.orders,
                    paid=d.paid,
                    refunded=d.refunded,
                    gmv=d.gmv,
                )
                for d in f.days
            ],
            teams=None if f.teams is None else [OutcomeOut.of(t) for t in f.teams],
            teams_total=None if teams_total is None else OutcomeOut.of(teams_total),
            waves=[OutcomeOut.of(w) for w in f.waves],
            waves_total=OutcomeOut.of(f.waves_total),
            months=[
                MonthOut(month=m.month, converted=m.converted, active=m.active, k_factor=m.k)
                for m in f.months
            ],
            cohorts=[
                CohortOut(month=c.month, size=c.size, active=list(c.active), shares=c.shares)
                for c in f.cohorts
            ],
            leaders=[
                LeaderFigureOut(
                    leader_id=r.leader_id,
                    name=r.name,
                    gmv=r.gmv,
                    orders=r.orders,
                    commission=r.commission,
                    confirmed=r.confirmed,
                    refunded=r.refunded,
                    confirmation_rate=r.confirmation,
                    aftersales=r.aftersales,
                    aftersale_rate=r.aftersale_rate,
                )
                for r in f.leaders
            ],
            refunds=[ReasonOut(reason=r.reason, count=r.count, amount=r.amount) for r in f.refunds],
            aftersales=[
                ReasonOut(reason=r.reason, count=r.count, amount=r.amount) for r in f.aftersales
            ],
        )


class DefinitionOut(Out):
    """A figure's written definition: the anchor (``figure``), its name and what it counts."""

    figure: str
    title: str
    definition: str
