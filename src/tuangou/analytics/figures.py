"""The dashboards' figures: what both ways of computing them return.

:mod:`tuangou.analytics.dashboards` computes them with plain SQL on the transactional
database (the reference); :mod:`tuangou.analytics.engine` with DuckDB over rows read from it.
Both follow the definitions in :data:`tuangou.analytics.rules.DEFINITIONS` and must agree
exactly (the tests compare them field by field).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tuangou.analytics import rules
from tuangou.analytics.rules import Scope
from tuangou.analytics.service import Outcomes, ReasonTotal


@dataclass(frozen=True)
class Day:
    day: date
    orders: int
    paid: int
    refunded: int

    @property
    def gmv(self) -> int:
        return self.paid - self.refunded


@dataclass(frozen=True)
class Month:
    """K-factor of a calendar month: invited members whose first paid order fell in it,
    against the members who paid an order in it."""

    month: str  # "2025-03"
    converted: int
    active: int

    @property
    def k(self) -> float | None:
        return rules.rate(self.converted, self.active)


@dataclass(frozen=True)
class Cohort:
    """Members by the month of their first paid order; ``active[n]``: how many of them paid
    an order ``n`` months later (``active[0] == size``)."""

    month: str
    size: int
    active: tuple[int, ...]

    @property
    def shares(self) -> list[float | None]:
        return [rules.rate(n, self.size) for n in self.active]


@dataclass(frozen=True)
class LeaderRow:
    leader_id: int
    gmv: int
    orders: int
    commission: int
    confirmed: int
    refunded: int  # wave orders refunded below the minimum (the confirmation's failures)
    aftersales: int
    name: str = ""

    @property
    def confirmation(self) -> float | None:
        return rules.rate(self.confirmed, self.confirmed + self.refunded)

    @property
    def aftersale_rate(self) -> float | None:
        return rules.rate(self.aftersales, self.orders)


@dataclass(frozen=True)
class Figures:
    scope: Scope
    days: list[Day]
    teams: list[Outcomes] | None  # None when narrowed (teams belong to no community)
    waves: list[Outcomes]
    months: list[Month]
    cohorts: list[Cohort]
    buyers: int  # members with a paid order in the range
    repeat_buyers: int  # of them, with two or more
    orders: int  # paid in the range
    paid: int
    leaders: list[LeaderRow]
    refunds: list[ReasonTotal]
    aftersales: list[ReasonTotal]
    engine: str = field(default="sql", compare=False)

    @property
    def gmv_total(self) -> int:
        return sum(d.gmv for d in self.days)

    @property
    def repurchase(self) -> float | None:
        return rules.rate(self.repeat_buyers, self.buyers)

    @property
    def aov(self) -> int | None:
        return rules.floor_div(self.paid, self.orders)

    @property
    def teams_total(self) -> Outcomes | None:
        if self.teams is None:
            return None
        return Outcomes(
            None, sum(t.succeeded for t in self.teams), sum(t.failed for t in self.teams)
        )

    @property
    def waves_total(self) -> Outcomes:
        return Outcomes(
            None, sum(w.succeeded for w in self.waves), sum(w.failed for w in self.waves)
        )


def sort_leaders(rows: list[LeaderRow]) -> list[LeaderRow]:
    """The largest GMV first, then by leader id."""
    return sorted(rows, key=lambda r: (-r.gmv, r.leader_id))


def sort_reasons(rows: list[ReasonTotal]) -> list[ReasonTotal]:
    """The largest amount first, then the most cases, then by reason."""
    return sorted(rows, key=lambda r: (-r.amount, -r.count, r.reason))
