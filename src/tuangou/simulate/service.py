"""The operator's stored runs: queue one, read them, and run one in this process.

A run is queued by the page or the API, claimed by the worker (one at a time), and run in a
child process of its own (:mod:`tuangou.simulate.tasks`): the simulation points its
process's engine and clock at a sandbox, which a server's process must never do.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta
from typing import Any, ClassVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.db import get_or_404, read, run_in_transaction
from tuangou.core.errors import DomainError, InvalidInput, NotFound
from tuangou.simulate import rules
from tuangou.simulate.errors import SimulateErrorCode
from tuangou.simulate.models import Simulation
from tuangou.simulate.rules import RunStatus, Spec

log = logging.getLogger(__name__)
LIST_LIMIT = 50


class SimulationNotFound(NotFound):
    code: ClassVar[str] = SimulateErrorCode.SIMULATION_NOT_FOUND
    title = "Simulation not found"


class InvalidSimulation(InvalidInput):
    code: ClassVar[str] = SimulateErrorCode.INVALID_SIMULATION
    title = "The simulation's settings are not valid"


def checked(spec: Spec) -> Spec:
    """The spec, or :class:`InvalidSimulation` naming its first impossible setting."""
    try:
        return rules.check(spec)
    except rules.SpecProblem as exc:
        raise InvalidSimulation(exc.message, field=exc.field) from exc


def create_run(session: Session, spec: Spec, *, operator_id: int | None) -> Simulation:
    spec = checked(spec)
    now = clock.now()
    run = Simulation(
        status=RunStatus.QUEUED,
        settings=spec.to_json(),
        progress=0,
        created_by=operator_id,
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int) -> Simulation:
    return get_or_404(session, Simulation, run_id, SimulationNotFound)


def list_runs(session: Session, *, limit: int = LIST_LIMIT) -> list[Simulation]:
    return list(session.scalars(select(Simulation).order_by(Simulation.id.desc()).limit(limit)))


def waiting(session: Session) -> bool:
    """Whether any run is queued or running (one indexed look-up: the worker asks often)."""
    found = session.scalar(
        select(Simulation.id)
        .where(Simulation.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)))
        .limit(1)
    )
    return found is not None


def claim_next(session: Session) -> int | None:
    """The oldest queued run, moved to running by a compare-and-set; None while another
    runs (one simulation at a time: each takes a core for its length) or none waits."""
    running = session.scalar(select(Simulation.id).where(Simulation.status == RunStatus.RUNNING))
    if running is not None:
        return None
    run_id = session.scalar(
        select(Simulation.id)
        .where(Simulation.status == RunStatus.QUEUED)
        .order_by(Simulation.id)
        .limit(1)
    )
    if run_id is None:
        return None
    now = clock.now()
    moved = session.execute(
        update(Simulation)
        .where(Simulation.id == run_id, Simulation.status == RunStatus.QUEUED)
        .values(status=RunStatus.RUNNING, started_at=now, updated_at=now)
    ).rowcount  # type: ignore[attr-defined]
    return run_id if moved else None


def fail_stale(session: Session) -> int:
    """Runs not heard from for :data:`rules.STALE_MINUTES` were interrupted (a process that
    stopped): failed, so that the next can run."""
    now = clock.now()
    return int(
        session.execute(
            update(Simulation)
            .where(
                Simulation.status == RunStatus.RUNNING,
                Simulation.updated_at < now - timedelta(minutes=rules.STALE_MINUTES),
            )
            .values(status=RunStatus.FAILED, error="interrupted", finished_at=now, updated_at=now)
        ).rowcount  # type: ignore[attr-defined]
    )


def _set(run_id: int, **values: Any) -> None:
    def work(session: Session) -> None:
        session.execute(
            update(Simulation)
            .where(Simulation.id == run_id)
            .values(updated_at=clock.now(), **values)
        )

    run_in_transaction(work)


def execute(run_id: int) -> str:
    """Run a claimed (or queued) run in this process and store its results; returns its
    final status. Only a process of its own may call this (the CLI, the worker's child)."""
    from tuangou.simulate import engine

    settings = read(lambda s: dict(get_run(s, run_id).settings))
    if read(lambda s: get_run(s, run_id).status) == RunStatus.QUEUED:
        now = clock.now()
        _set(run_id, status=RunStatus.RUNNING, started_at=now)

    def progress(done: int, total: int, _label: str) -> None:
        _set(run_id, progress=min(100, int(100 * done / max(total, 1))))

    try:
        outcome = engine.simulate(Spec.of_json(settings), progress=progress)
    except (DomainError, rules.SpecProblem, ValueError) as exc:
        _set(run_id, status=RunStatus.FAILED, error=str(exc)[:2000], finished_at=clock.now())
        return RunStatus.FAILED
    except Exception:
        log.exception("simulation %s failed", run_id)
        _set(
            run_id,
            status=RunStatus.FAILED,
            error=traceback.format_exc(limit=3)[-2000:],
            finished_at=clock.now(),
        )
        return RunStatus.FAILED
    _set(
        run_id,
        status=RunStatus.DONE,
        progress=100,
        results=outcome.to_json(),
        finished_at=clock.now(),
    )
    return RunStatus.DONE
