"""任务与徽章 (``/me/achievements``: this local week's tasks with progress bars, the
achievements earned and locked, the member's badges) and the operator's weekly tasks
(``/ops/achievements``: the tasks, a form to add one, each one's count, points, badge and
whether it is active; the achievements, which are fixed). Each handler calls the same
services as the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tuangou.achievements import rules as achievement_rules
from tuangou.achievements import service as achievements
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.web import i18n
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import _ctx, _done, _refused
from tuangou.web.session import Form, PageBuyer, PageOperator
from tuangou.web.templating import render

router = APIRouter()

# A task's words per action, over its count (the same as ``rules.TASK_TEXT``, translated).
TASK_TEXT = {
    "checkin": i18n.lazy("Check in on {n} days"),
    "review": i18n.lazy("Write {n} verified reviews"),
    "invite": i18n.lazy("Invite {n} neighbours who order"),
    "bargain_help": i18n.lazy("Help {n} bargains"),
    "event_attended": i18n.lazy("Attend {n} events"),
    "order_completed": i18n.lazy("Complete {n} orders"),
}
ACTIONS = {
    "checkin": i18n.lazy("Check-ins (one a day)"),
    "review": i18n.lazy("Verified reviews published"),
    "invite": i18n.lazy("Invited neighbours' first orders"),
    "bargain_help": i18n.lazy("Helps on bargains"),
    "event_attended": i18n.lazy("Events attended"),
    "order_completed": i18n.lazy("Orders completed"),
}
# The badges' and achievements' names (``rules.BADGES``, ``rules.ACHIEVEMENTS``), for
# extraction into the catalogs.
NAMES = [
    i18n.lazy("Early bird"),
    i18n.lazy("Honest reviewer"),
    i18n.lazy("Good connector"),
    i18n.lazy("Helping hand"),
    i18n.lazy("Event regular"),
    i18n.lazy("First order"),
    i18n.lazy("Seven-day streak"),
    i18n.lazy("Trusted critic"),
    i18n.lazy("Good neighbour"),
    i18n.lazy("Community regular"),
    i18n.lazy("10 verified reviews"),
    i18n.lazy("Helped 20 neighbours"),
    i18n.lazy("Attended 5 events"),
    i18n.lazy("A 7-day check-in streak"),
]


def _pct(done: int, of: int) -> int:
    return done * 100 // of if of else 100


# ---------------------------------------------------------------- 任务与徽章


@router.get("/me/achievements")
def my_achievements(request: Request, who: PageBuyer) -> Response:
    achievements.ensure_default_tasks()

    def load(db: Session) -> dict[str, Any]:
        return {
            "tasks": achievements.tasks_of_week(db, who.user_id),
            "achievements": achievements.achievements_of(db, who.user_id),
            "badges": achievements.badges_of(db, who.user_id),
        }

    data = read(load)
    week = achievement_rules.week_of(clock.local_date(clock.now()))
    return render(
        request,
        "member/achievements/index.html",
        {
            **data,
            "task_text": TASK_TEXT,
            "pct": _pct,
            "week_start": week,
            "week_end": week + timedelta(days=6),
        },
    )


# ---------------------------------------------------------------- operators


def _task_values(state: FormState, request: Request) -> dict[str, Any] | None:
    action = state.text("action")
    if action not in ACTIONS:
        state.add(request, "action", "Choose one")
    count = state.integer(request, "count", low=1, high=achievement_rules.MAX_COUNT)
    pts = state.integer(request, "points", low=0, high=achievement_rules.MAX_TASK_POINTS)
    badge = state.text("badge")
    if badge and badge not in achievement_rules.BADGES:
        state.add(request, "badge", "Choose one")
    if not state.ok or count is None or pts is None:
        return None
    return {
        "action": action,
        "count": count,
        "points": pts,
        "badge": badge,
        "active": state.text("active") == "1",
    }


def _ops_page(
    request: Request, form: FormState | None = None, status: int = 200, bad: int | None = None
) -> Response:
    achievements.ensure_default_tasks()
    tasks = read(lambda db: achievements.list_tasks(db))
    return render(
        request,
        "operator/achievements/tasks.html",
        _ctx(
            request,
            tasks=tasks,
            form=form if bad is None and form is not None else FormState(values={"active": "1"}),
            row_form=form if bad is not None else None,
            bad=bad,
            actions=ACTIONS,
            badges=list(achievement_rules.BADGES.values()),
            badges_by_code=achievement_rules.BADGES,
            blank=FormState(),
            task_text=TASK_TEXT,
            achievement_list=achievement_rules.ACHIEVEMENTS,
        ),
        status_code=status,
    )


@router.get("/ops/achievements")
def ops_tasks(request: Request, who: PageOperator) -> Response:
    return _ops_page(request)


@router.post("/ops/achievements/tasks")
def ops_create(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    values = _task_values(state, request)
    if values is None:
        return _ops_page(request, state, status=400)
    try:
        run_in_transaction(lambda db: achievements.create_task(db, **values))
    except DomainError as exc:
        state.refuse(request, exc)
        return _ops_page(request, state, status=_refused(exc))
    return _done("/ops/achievements")


@router.post("/ops/achievements/tasks/{task_id}")
def ops_update(task_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    values = _task_values(state, request)
    if values is None:
        return _ops_page(request, state, status=400, bad=task_id)
    try:
        run_in_transaction(lambda db: achievements.update_task(db, task_id, **values))
    except DomainError as exc:
        state.refuse(request, exc)
        status = 404 if exc.status == 404 else _refused(exc)
        return _ops_page(request, state, status=status, bad=task_id)
    return _done(f"/ops/achievements#task-{task_id}")
