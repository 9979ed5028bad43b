"""The ``tuangou simulate`` command's output: a progress bar while the runs go, then where
each parameter came from and one row per setting with its figures' mean and spread."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tuangou.core.errors import DomainError
from tuangou.core.money import fmt
from tuangou.simulate import engine
from tuangou.simulate.rules import Spec


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _money(value: float | None) -> str:
    return "—" if value is None else fmt(round(value))


def _cell(summary: dict[str, Any] | None, name: str, show: Any) -> str:
    if not summary or summary[name]["mean"] is None:
        return "—"
    s = summary[name]
    return f"{show(s['mean'])} ({show(s['p10'])}–{show(s['p90'])})"


def run(console: Console, spec: Spec) -> engine.Outcome | None:
    """Simulate with a progress bar and print the results; None (said in red) when the
    simulation cannot start (the SKU is not found, the database cannot be copied)."""
    try:
        outcome = _simulate(console, spec)
    except (DomainError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        return None
    show(console, outcome.to_json())
    return outcome


def _simulate(console: Console, spec: Spec) -> engine.Outcome:
    with Progress(
        TextColumn("[bold]simulating[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=len(spec.settings()) * spec.runs)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        return engine.simulate(spec, progress=progress)


def show(console: Console, results: dict[str, Any]) -> None:
    console.print(
        f"[bold]{results['goods']}[/bold]: single price {fmt(results['single_price'])}, "
        f"sandbox: {results['sandbox']}"
    )
    params = Table("parameter", "value", "from", title="The simulated members")
    for p in results["parameters"]:
        params.add_row(p["name"], f"{p['value']:.3g}", p["source"])
    console.print(params)
    spec = results["spec"]
    table = Table(
        "setting",
        "team success",
        "GMV",
        "subsidy",
        "refunds",
        "left in failed teams",
        title=f"{spec['runs']} run(s) per setting from seed {spec['seed']}: mean (p10–p90)",
    )
    for row in results["rows"]:
        if row["error"]:
            table.add_row(row["label"], f"[red]refused: {row['error']}[/red]", "", "", "", "")
            continue
        s = row["summary"]
        table.add_row(
            row["label"],
            _cell(s, "success_rate", _percent),
            _cell(s, "gmv", _money),
            _cell(s, "subsidy", _money),
            _cell(s, "refunds", _money),
            _cell(s, "left_in_failed", _percent),
        )
    console.print(table)
