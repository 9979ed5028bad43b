"""The simulator's request and reply shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.simulate.rules import Spec


class SimulationIn(In):
    """A proposed team-buy campaign (the campaign form's fields) and the grid to compare."""

    sku_id: int = Field(ge=1)
    price: int = Field(ge=1, description="the group price at the team size, fen")
    team_sizes: list[int] = Field(default=[2], min_length=1, max_length=8)
    windows: list[int] = Field(default=[24], min_length=1, max_length=8, description="hours")
    tiers: list[list[list[int]]] = Field(
        default=[[]],
        max_length=6,
        description="ladders: each a list of [members, fen] steps past the team size",
    )
    completions: list[bool] = Field(default=[False], min_length=1, max_length=2)
    completion_percent: int = 50
    subsidy_budget: int = 100_000
    campaign_hours: int = 72
    stock: int | None = None
    per_member_limit: int = 5
    opener_perk: Literal["none", "price", "free"] = "none"
    opener_price: int | None = None
    members: int = 200
    runs: int = 5
    seed: int = 1

    def spec(self) -> Spec:
        return Spec(
            sku_id=self.sku_id,
            price=self.price,
            team_sizes=tuple(dict.fromkeys(self.team_sizes)),
            windows=tuple(dict.fromkeys(self.windows)),
            tiers=tuple(
                tuple((int(s[0]), int(s[1])) for s in ladder if len(s) == 2)
                for ladder in (self.tiers or [[]])
            ),
            completions=tuple(dict.fromkeys(self.completions)),
            completion_percent=self.completion_percent,
            subsidy_budget=self.subsidy_budget,
            campaign_hours=self.campaign_hours,
            stock=self.stock,
            per_member_limit=self.per_member_limit,
            opener_perk=self.opener_perk,
            opener_price=self.opener_price,
            members=self.members,
            runs=self.runs,
            seed=self.seed,
        )


class SimulationOut(Out):
    id: int
    status: str
    progress: int
    settings: dict[str, Any]
    results: dict[str, Any] | None
    error: str | None
    created_at: Iso
    started_at: Iso | None
    finished_at: Iso | None

    @classmethod
    def of(cls, run: Any) -> SimulationOut:
        return cls(
            id=run.id,
            status=run.status,
            progress=run.progress,
            settings=dict(run.settings),
            results=dict(run.results) if run.results is not None else None,
            error=run.error,
            created_at=clock.iso(run.created_at),
            started_at=clock.iso(run.started_at) if run.started_at else None,
            finished_at=clock.iso(run.finished_at) if run.finished_at else None,
        )


class SimulationSummaryOut(Out):
    """A run in the list: without its results."""

    id: int
    status: str
    progress: int
    settings: dict[str, Any]
    error: str | None
    created_at: Iso
    finished_at: Iso | None

    @classmethod
    def of(cls, run: Any) -> SimulationSummaryOut:
        return cls(
            id=run.id,
            status=run.status,
            progress=run.progress,
            settings=dict(run.settings),
            error=run.error,
            created_at=clock.iso(run.created_at),
            finished_at=clock.iso(run.finished_at) if run.finished_at else None,
        )
