from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tuangou.achievements import schemas
from tuangou.achievements import service as achievements
from tuangou.api.deps import IdemKey, Member, Operator, idempotent
from tuangou.core.db import unit_of_work

router = APIRouter(tags=["achievements"])


@router.get("/me/tasks", response_model=list[schemas.TaskOut])
def my_tasks(who: Member) -> list[dict[str, Any]]:
    """This local week's tasks (Monday to Sunday, in the deployment's time zone) and the
    caller's progress on each."""
    achievements.ensure_default_tasks()
    with unit_of_work(readonly=True) as session:
        return [
            schemas.TaskOut.of(t).model_dump()
            for t in achievements.tasks_of_week(session, who.user_id)
        ]


@router.get("/me/achievements", response_model=list[schemas.AchievementOut])
def my_achievements(who: Member) -> list[dict[str, Any]]:
    """Every achievement, earned (when) or not (the progress toward it)."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.AchievementOut.of(v).model_dump()
            for v in achievements.achievements_of(session, who.user_id)
        ]


@router.get("/me/badges", response_model=list[schemas.EarnedBadgeOut])
def my_badges(who: Member) -> list[dict[str, Any]]:
    """The caller's badges, with when each was first earned."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.EarnedBadgeOut.of(v).model_dump()
            for v in achievements.badges_of(session, who.user_id)
        ]


# ---------------------------------------------------------------- operators


@router.get(
    "/admin/tasks", tags=["operator: achievements"], response_model=list[schemas.AdminTaskOut]
)
def admin_tasks(who: Operator) -> list[dict[str, Any]]:
    """The weekly tasks, active or not."""
    achievements.ensure_default_tasks()
    with unit_of_work(readonly=True) as session:
        return [schemas.AdminTaskOut.of(t).model_dump() for t in achievements.list_tasks(session)]


@router.post(
    "/admin/tasks",
    status_code=201,
    tags=["operator: achievements"],
    response_model=schemas.AdminTaskOut,
)
def create_task(
    body: schemas.TaskIn, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """A new weekly task: ``count`` actions of a kind in one local week earn ``points`` and
    the badge. Refusal: ``invalid_task``."""

    def work(session: Session) -> dict[str, Any]:
        task = achievements.create_task(session, **body.model_dump())
        return schemas.AdminTaskOut.of(task).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work, status_code=201)


@router.put(
    "/admin/tasks/{task_id}",
    tags=["operator: achievements"],
    response_model=schemas.AdminTaskOut,
)
def update_task(
    task_id: int, body: schemas.TaskIn, request: Request, who: Operator, key: IdemKey = None
) -> JSONResponse:
    """Change a weekly task (or deactivate it: tasks are never deleted). Refusals:
    ``task_not_found``, ``invalid_task``."""

    def work(session: Session) -> dict[str, Any]:
        task = achievements.update_task(session, task_id, **body.model_dump())
        return schemas.AdminTaskOut.of(task).model_dump()

    return idempotent(request, who=who, key=key, body=body.model_dump(), work=work)
