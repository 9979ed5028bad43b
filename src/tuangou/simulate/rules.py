"""The simulator's pure parts: the proposed campaign's settings and their grid, the agents'
parameters (defaults, or calibrated from the deployment's history), and the summary of
repeated runs. No database, no web framework.

Money is integer fen, times are hours from the start of the simulated campaign.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

MAX_MEMBERS = 2000
MAX_RUNS = 50
MAX_SETTINGS = 24
MAX_CAMPAIGN_HOURS = 14 * 24
FIGURES = ("success_rate", "gmv", "subsidy", "refunds", "left_in_failed")


class RunStatus(StrEnum):
    """queued → running → done, or failed (an error, or a run interrupted)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


STALE_MINUTES = 30  # a running run not heard from for this long was interrupted


class SpecProblem(ValueError):
    """A setting of the proposed campaign that cannot be simulated; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Setting:
    """One combination of the grid: what a campaign form would take."""

    team_size: int
    window_hours: int
    extra_tiers: tuple[tuple[int, int], ...]  # steps past the first: (members, unit price)
    completion: bool

    def tiers(self, price: int) -> list[tuple[int, int]]:
        """The ladder: the team size at the proposed price, then the extra steps beyond it."""
        steps = [(self.team_size, price)]
        steps += [(m, p) for m, p in self.extra_tiers if m > self.team_size]
        return steps

    def max_size(self) -> int:
        return max(m for m, _ in self.tiers(1))

    def label(self) -> str:
        tiers = ",".join(f"{m}:{p}" for m, p in self.extra_tiers if m > self.team_size)
        return (
            f"{self.team_size}p · {self.window_hours}h"
            + (f" · {tiers}" if tiers else "")
            + (" · completion" if self.completion else "")
        )


@dataclass(frozen=True)
class Spec:
    """The proposed campaign and the simulated community."""

    sku_id: int
    price: int  # the group price at the team size, fen
    team_sizes: tuple[int, ...] = (2,)
    windows: tuple[int, ...] = (24,)
    tiers: tuple[tuple[tuple[int, int], ...], ...] = ((),)
    completions: tuple[bool, ...] = (False,)
    completion_percent: int = 50
    subsidy_budget: int = 100_000
    campaign_hours: int = 72
    stock: int | None = None  # default: one unit per member
    per_member_limit: int = 5
    opener_perk: str = "none"
    opener_price: int | None = None
    members: int = 200
    runs: int = 5
    seed: int = 1

    def settings(self) -> list[Setting]:
        return [
            Setting(size, window, tiers, completion)
            for size, window, tiers, completion in itertools.product(
                self.team_sizes, self.windows, self.tiers, self.completions
            )
        ]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tiers"] = [[list(step) for step in ladder] for ladder in self.tiers]
        data["team_sizes"] = list(self.team_sizes)
        data["windows"] = list(self.windows)
        data["completions"] = list(self.completions)
        return data

    @classmethod
    def of_json(cls, data: Mapping[str, Any]) -> Spec:
        values = dict(data)
        values["team_sizes"] = tuple(values.get("team_sizes", (2,)))
        values["windows"] = tuple(values.get("windows", (24,)))
        values["completions"] = tuple(bool(c) for c in values.get("completions", (False,)))
        values["tiers"] = tuple(
            tuple((int(m), int(p)) for m, p in ladder) for ladder in values.get("tiers", [[]])
        )
        known = set(cls.__dataclass_fields__)
        return check(cls(**{k: v for k, v in values.items() if k in known}))


def check(spec: Spec) -> Spec:
    """The spec, or :class:`SpecProblem` for its first impossible setting (the campaign's own
    rules are the engine's: a ladder it refuses fails that setting's runs, visibly)."""
    if spec.sku_id < 1:
        raise SpecProblem("sku_id", "choose a SKU")
    if spec.price < 1:
        raise SpecProblem("price", "the group price must be positive")
    if not spec.team_sizes or any(not 2 <= s <= 50 for s in spec.team_sizes):
        raise SpecProblem("team_size", "team sizes must be 2 to 50")
    if not spec.windows or any(not 1 <= w <= 72 for w in spec.windows):
        raise SpecProblem("window", "team windows must be 1 to 72 hours")
    if not spec.completions:
        raise SpecProblem("completion", "choose on, off or both")
    if not 1 <= spec.completion_percent <= 100:
        raise SpecProblem("completion_percent", "completion percent must be 1 to 100")
    if spec.subsidy_budget < 0:
        raise SpecProblem("subsidy_budget", "the subsidy budget cannot be negative")
    if not 1 <= spec.campaign_hours <= MAX_CAMPAIGN_HOURS:
        raise SpecProblem(
            "campaign_hours", f"the campaign may last 1 to {MAX_CAMPAIGN_HOURS} hours"
        )
    if not 2 <= spec.members <= MAX_MEMBERS:
        raise SpecProblem("members", f"simulate 2 to {MAX_MEMBERS} members")
    if not 1 <= spec.runs <= MAX_RUNS:
        raise SpecProblem("runs", f"repeat 1 to {MAX_RUNS} runs")
    if spec.stock is not None and spec.stock < 1:
        raise SpecProblem("stock", "the stock must be at least 1")
    if spec.per_member_limit < 1:
        raise SpecProblem("per_member_limit", "the per-member limit must be at least 1")
    if len(spec.settings()) > MAX_SETTINGS:
        raise SpecProblem("grid", f"compare at most {MAX_SETTINGS} settings at once")
    return spec


# ---------------------------------------------------------------- parsing the grid options


def parse_ints(raw: str, field: str) -> tuple[int, ...]:
    """``2,3,5`` → (2, 3, 5)."""
    try:
        values = tuple(int(p) for p in raw.replace("，", ",").split(",") if p.strip())
    except ValueError:
        raise SpecProblem(field, "write whole numbers separated by commas, like 2,3,5") from None
    if not values:
        raise SpecProblem(field, "give at least one value")
    return tuple(dict.fromkeys(values))


def parse_hours(raw: str, field: str = "window") -> tuple[int, ...]:
    """``24h,48h`` (or ``24,48``) → (24, 48)."""
    return parse_ints(raw.lower().replace("h", ""), field)


def parse_tiers(raw: str) -> tuple[tuple[tuple[int, int], ...], ...]:
    """Ladders separated by ``;``, each its steps past the team size as ``members:fen``
    separated by commas; ``none`` is no step past the first (one price).
    ``none;5:2690,10:2390`` → ((), ((5, 2690), (10, 2390)))."""
    ladders: list[tuple[tuple[int, int], ...]] = []
    for part in raw.replace("；", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        if part.lower() in {"none", "-", "0"}:
            ladders.append(())
            continue
        steps = []
        for step in part.replace("，", ",").split(","):
            members, sep, price = step.strip().partition(":")
            if not sep or not members.strip().isdigit() or not price.strip().isdigit():
                raise SpecProblem("tiers", "write each step as members:fen, like 5:2690")
            steps.append((int(members), int(price)))
        ladders.append(tuple(sorted(steps)))
    return tuple(dict.fromkeys(ladders)) or ((),)


def parse_completion(raw: str) -> tuple[bool, ...]:
    """``on``, ``off`` or ``on,off``."""
    found = []
    for part in raw.lower().replace("|", ",").split(","):
        part = part.strip()
        if part in {"on", "yes", "true", "1"}:
            found.append(True)
        elif part in {"off", "no", "false", "0"}:
            found.append(False)
        elif part in {"both", "on,off"}:
            found += [True, False]
        elif part:
            raise SpecProblem("completion", "write on, off or on,off")
    if not found:
        raise SpecProblem("completion", "write on, off or on,off")
    return tuple(dict.fromkeys(found))


# ---------------------------------------------------------------- the agents' parameters


@dataclass(frozen=True)
class Parameters:
    """How the simulated members behave. Each field has a documented default; the ones the
    deployment's history can tell are replaced by it (``sources`` says which)."""

    interest: float = 0.3  # share of members who look at the campaign on their own
    open_share: float = 0.5  # of those, the share who open a team rather than join one
    wtp_mean: float = 0.95  # the price a member accepts, as a share of the single price
    wtp_sd: float = 0.15
    response_hours: float = 6.0  # mean delay before a friend acts on a shared link
    share_prob: float = 0.7  # an opener shares the team's link…
    share_k: int = 5  # …to this many friends
    reshare_prob: float = 0.3  # a joiner passes it on to their own friends
    link_conversion: float = 0.35  # a friend who sees the link and accepts the price buys
    pay_prob: float = 0.95  # a seat taken is paid (the rest lapse at the hold's end)
    friends: int = 6  # the community graph: each member's nearest neighbours…
    rewire: float = 0.1  # …with this share of ties rewired at random (small world)
    sources: dict[str, str] = field(default_factory=dict)

    def with_history(self, history: History) -> Parameters:
        """The parameters the history can tell, taken from it (with its sample size)."""
        found: dict[str, Any] = {}
        sources = dict(self.sources)
        if history.seats >= MIN_SAMPLE:
            found["open_share"] = _clip(history.openers / history.seats, 0.05, 0.95)
            sources["open_share"] = f"history: openers / seats, n={history.seats}"
        if len(history.join_delays) >= MIN_SAMPLE:
            found["response_hours"] = max(0.1, statistics.fmean(history.join_delays))
            sources["response_hours"] = (
                f"history: mean hours from a team's opening to a join, n={len(history.join_delays)}"
            )
        if len(history.price_ratios) >= MIN_SAMPLE:
            sd = max(0.05, statistics.pstdev(history.price_ratios))
            found["wtp_sd"] = sd
            found["wtp_mean"] = statistics.fmean(history.price_ratios) + sd
            sources["wtp_mean"] = sources["wtp_sd"] = (
                f"history: paid unit price / single price, n={len(history.price_ratios)}"
            )
        if history.holds >= MIN_SAMPLE:
            found["pay_prob"] = _clip(history.paid_holds / history.holds, 0.05, 1.0)
            sources["pay_prob"] = f"history: paid / placed team orders, n={history.holds}"
        if len(history.team_sizes) >= MIN_SAMPLE:
            joiners = statistics.fmean(history.team_sizes) - 1
            reach = self.share_prob * self.share_k
            found["link_conversion"] = _clip(joiners / reach, 0.05, 0.95)
            sources["link_conversion"] = (
                f"history: members per settled team / friends reached, n={len(history.team_sizes)}"
            )
        return replace(self, **found, sources=sources)

    def described(self) -> list[tuple[str, float, str]]:
        """(name, value, where it came from) of every parameter."""
        return [
            (name, float(getattr(self, name)), self.sources.get(name, "default"))
            for name in PARAMETER_NAMES
        ]


PARAMETER_NAMES = (
    "interest",
    "open_share",
    "wtp_mean",
    "wtp_sd",
    "response_hours",
    "share_prob",
    "share_k",
    "reshare_prob",
    "link_conversion",
    "pay_prob",
    "friends",
    "rewire",
)
MIN_SAMPLE = 5


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


@dataclass
class History:
    """What the deployment's own team buys say about its members."""

    seats: int = 0  # paid seats
    openers: int = 0  # of them, openers
    join_delays: list[float] = field(default_factory=list)  # hours, team opened → joined
    fill_hours: list[float] = field(default_factory=list)  # hours, team opened → formed
    team_sizes: list[int] = field(default_factory=list)  # paid members of settled teams
    price_ratios: list[float] = field(default_factory=list)  # paid unit price / single price
    holds: int = 0  # team orders placed (paid or lapsed)
    paid_holds: int = 0


# ---------------------------------------------------------------- summaries


def spread(values: Iterable[float | None]) -> dict[str, float | None]:
    """Mean, min, p10, p90 and max of the runs' figures (the runs without one left out)."""
    found = sorted(v for v in values if v is not None)
    if not found:
        return {"mean": None, "min": None, "p10": None, "p90": None, "max": None, "n": 0}
    return {
        "mean": statistics.fmean(found),
        "min": found[0],
        "p10": percentile(found, 10),
        "p90": percentile(found, 90),
        "max": found[-1],
        "n": len(found),
    }


def percentile(ordered: Sequence[float], p: float) -> float:
    """Linear interpolation between the closest ranks."""
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def summarise(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    return {name: spread(r.get(name) for r in runs) for name in FIGURES}
