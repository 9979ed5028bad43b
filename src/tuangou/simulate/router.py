"""The what-if simulator over HTTP (operators): queue a run, list the runs, read one."""

from __future__ import annotations

from fastapi import APIRouter

from tuangou.api.deps import Operator
from tuangou.core.db import read, run_in_transaction
from tuangou.simulate import schemas, service

router = APIRouter(tags=["operator: simulator"])


@router.post("/admin/simulations", status_code=202)
def create(body: schemas.SimulationIn, who: Operator) -> schemas.SimulationOut:
    """Queue a simulation of the proposed campaign; the worker runs it (``status`` moves
    from ``queued`` to ``running`` to ``done`` or ``failed``)."""
    spec = body.spec()
    return run_in_transaction(
        lambda s: schemas.SimulationOut.of(service.create_run(s, spec, operator_id=who.user_id))
    )


@router.get("/admin/simulations")
def runs(who: Operator) -> list[schemas.SimulationSummaryOut]:
    """The newest runs first (at most 50), without their results."""
    return read(lambda s: [schemas.SimulationSummaryOut.of(r) for r in service.list_runs(s)])


@router.get("/admin/simulations/{simulation_id}")
def run(simulation_id: int, who: Operator) -> schemas.SimulationOut:
    """One run, with its results once done: per setting, each run's figures and their
    spread (mean, min, p10, p90, max)."""
    return read(lambda s: schemas.SimulationOut.of(service.get_run(s, simulation_id)))
