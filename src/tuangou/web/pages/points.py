"""Points pages: 我的积分 (``/me/points``: the balance, the check-in button, this month's
calendar with the days checked in, the streak ladder, what expires when, the entries),
会员等级 (``/me/level``: the levels, their benefits, the way to the next), and the operator's
settings (``/ops/points``: the ladder, the caps, expiry, the levels) and a member's points
with the adjust form (``/ops/points/members/{id}``). Each handler calls the same services as
the API."""

from __future__ import annotations

import calendar
import secrets
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.points import errors as points_errors
from tuangou.points import rules as points_rules
from tuangou.points import service as points
from tuangou.web import i18n
from tuangou.web.errors import message as page_message
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import _ctx, _done, _refused
from tuangou.web.session import Form, PageBuyer, PageOperator
from tuangou.web.templating import render

router = APIRouter()

KINDS = {
    "award": i18n.lazy("Earned"),
    "spend": i18n.lazy("Spent"),
    "expire": i18n.lazy("Expired"),
}
REASONS = {
    "checkin": i18n.lazy("Check-in"),
    "review": i18n.lazy("Verified review"),
    "invite_first_order": i18n.lazy("A neighbour you invited ordered"),
    "bargain_help": i18n.lazy("Helped a bargain"),
    "event_attended": i18n.lazy("Attended an event"),
    "task": i18n.lazy("Task"),
    "achievement": i18n.lazy("Achievement"),
    "leader_award": i18n.lazy("Leader's award"),
    "admin_adjust": i18n.lazy("Adjusted by the platform"),
    "risk_reversal": i18n.lazy("Taken back: helps of a confirmed fraud ring"),
}
WEEKDAYS = [
    i18n.lazy("Mon"),
    i18n.lazy("Tue"),
    i18n.lazy("Wed"),
    i18n.lazy("Thu"),
    i18n.lazy("Fri"),
    i18n.lazy("Sat"),
    i18n.lazy("Sun"),
]
MAX_LEVEL_ROWS = 20


def _entry_view(e: points.Entry) -> dict[str, Any]:
    reason, _, _key = e.memo.partition(":")
    label = REASONS.get(reason) if e.kind == "award" else None
    return {"e": e, "kind": KINDS.get(e.kind, e.kind), "label": label or ""}


def _month(today: date, checked: list[date]) -> list[list[dict[str, Any] | None]]:
    """This month as weeks of days (None outside the month), each day with its check-in."""
    done = set(checked)
    weeks: list[list[dict[str, Any] | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(today.year, today.month):
        weeks.append(
            [
                {"day": d, "checked": d in done, "today": d == today, "future": d > today}
                if d.month == today.month
                else None
                for d in week
            ]
        )
    return weeks


# ---------------------------------------------------------------- 我的积分


def _points_page(
    request: Request, who: Any, *, error: str = "", status_code: int = 200
) -> Response:
    before = request.query_params.get("before", "")
    cursor = int(before) if before.isdigit() else None

    def load(db: Session) -> dict[str, Any]:
        s = points.summary(db, who.user_id)
        rows = points.entries(db, who.user_id, before=cursor, limit=21)
        return {
            "s": s,
            "entries": [_entry_view(e) for e in rows[:20]],
            "more": rows[19].id if len(rows) > 20 else None,
            "ladder": list(points.get_settings(db).ladder),
        }

    data = read(load)
    today = clock.local_date(clock.now())
    s = data["s"]
    day_in_ladder = s.streak + (0 if s.checked_in_today else 1)
    return render(
        request,
        "member/points/points.html",
        {
            **data,
            "weeks": _month(today, s.month),
            "weekdays": WEEKDAYS,
            "today": today,
            "ladder_day": min(day_in_ladder, len(data["ladder"])),
            "done": request.query_params.get("done", ""),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/me/points")
def my_points(request: Request, who: PageBuyer) -> Response:
    return _points_page(request, who)


@router.post("/me/points/checkin")
def checkin(request: Request, form: Form, who: PageBuyer) -> Response:
    try:
        run_in_transaction(lambda db: points.checkin(db, who.user_id))
    except points_errors.AlreadyCheckedIn as exc:
        return _points_page(request, who, error=page_message(request, exc), status_code=409)
    return RedirectResponse("/me/points?done=checked", status_code=303)


# ---------------------------------------------------------------- 会员等级


@router.get("/me/level")
def my_level(request: Request, who: PageBuyer) -> Response:
    view = read(lambda db: points.level_view(db, who.user_id))
    return render(request, "member/points/level.html", {"v": view})


# ---------------------------------------------------------------- operators


def _settings_form(s: points.PointsSettings) -> FormState:
    return FormState(
        values={
            "ladder": ", ".join(str(p) for p in s.ladder),
            "bargain_help_points": str(s.bargain_help_points),
            "bargain_help_daily_cap": str(s.bargain_help_daily_cap),
            "invite_first_order_points": str(s.invite_first_order_points),
            "review_points": str(s.review_points),
            "event_points": str(s.event_points),
            "expiry_years": str(s.expiry_years),
        }
    )


def _levels_form(levels: list[points.Level]) -> FormState:
    values: dict[str, Any] = {}
    for i, level in enumerate([*levels, None]):
        for name in ("name", "threshold", "checkin_bonus", "discount_bps", "early_hours"):
            values[f"{name}_{i}"] = "" if level is None else str(getattr(level, name))
    return FormState(values=values)


def _ops_page(
    request: Request,
    settings_form: FormState | None = None,
    levels_form: FormState | None = None,
    status: int = 200,
) -> Response:
    def load(db: Session) -> dict[str, Any]:
        return {"settings": points.get_settings(db), "levels": points.get_levels(db)}

    data = read(load)
    levels_form = levels_form or _levels_form(data["levels"])
    rows = sorted({int(k.rsplit("_", 1)[1]) for k in levels_form.values if k.startswith("name_")})
    return render(
        request,
        "operator/points/settings.html",
        _ctx(
            request,
            form=settings_form or _settings_form(data["settings"]),
            levels_form=levels_form,
            level_rows=rows,
            member_form=FormState(),
        ),
        status_code=status,
    )


@router.get("/ops/points")
def ops_points(request: Request, who: PageOperator) -> Response:
    member = request.query_params.get("member", "").strip()
    if member.isdigit():
        return RedirectResponse(f"/ops/points/members/{int(member)}", status_code=303)
    return _ops_page(request)


@router.post("/ops/points/settings")
def ops_settings(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    state.required(
        request,
        "ladder",
        "bargain_help_points",
        "bargain_help_daily_cap",
        "invite_first_order_points",
        "review_points",
        "event_points",
        "expiry_years",
    )
    ladder: list[int] = []
    for part in state.text("ladder").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            state.add(request, "ladder", "Enter whole numbers separated by commas")
            break
        ladder.append(int(part))
    help_points = state.integer(request, "bargain_help_points", low=0, high=1000)
    cap = state.integer(request, "bargain_help_daily_cap", low=0, high=100)
    invite = state.integer(request, "invite_first_order_points", low=0, high=10_000)
    review = state.integer(request, "review_points", low=0, high=1000)
    event = state.integer(request, "event_points", low=0, high=1000)
    years = state.integer(request, "expiry_years", low=1, high=10)
    if not state.ok:
        return _ops_page(request, settings_form=state, status=400)
    assert help_points is not None and cap is not None and invite is not None and years
    assert review is not None and event is not None
    new = points.PointsSettings(
        ladder=tuple(ladder),
        bargain_help_points=help_points,
        bargain_help_daily_cap=cap,
        invite_first_order_points=invite,
        review_points=review,
        event_points=event,
        expiry_years=years,
    )
    try:
        run_in_transaction(lambda db: points.set_settings(db, new))
    except DomainError as exc:
        state.refuse(request, exc, "ladder")
        return _ops_page(request, settings_form=state, status=_refused(exc))
    return _done("/ops/points")


@router.post("/ops/points/levels")
def ops_levels(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    levels: list[points.Level] = []
    for i in range(MAX_LEVEL_ROWS + 1):
        name = state.text(f"name_{i}")
        if not name and not state.text(f"threshold_{i}"):
            continue  # an empty row: no level
        if not name:
            missing = f"name_{i}"
            state.add(request, missing, "Fill this in")
            continue
        state.at_most(request, f"name_{i}", 32)
        threshold = state.integer(request, f"threshold_{i}", low=0, high=100_000_000)
        bonus = state.integer(request, f"checkin_bonus_{i}", low=0, high=1000)
        bps = state.integer(request, f"discount_bps_{i}", low=0, high=5000)
        hours = state.integer(request, f"early_hours_{i}", low=0, high=168)
        if None not in (threshold, bonus, bps, hours):
            levels.append(points.Level(name, threshold or 0, bonus or 0, bps or 0, hours or 0))
    if state.ok:
        try:
            run_in_transaction(lambda db: points.set_levels(db, levels))
            return _done("/ops/points#levels")
        except DomainError as exc:
            state.refuse(request, exc)
    return _ops_page(request, levels_form=state, status=400)


def _member_page(
    request: Request, member_id: int, form: FormState | None = None, status: int = 200
) -> Response:
    def load(db: Session) -> dict[str, Any]:
        user = accounts.get_user(db, member_id)
        return {
            "member": {"id": user.id, "nickname": user.nickname, "phone": user.phone},
            "s": points.summary(db, member_id),
            "entries": [_entry_view(e) for e in points.entries(db, member_id, limit=50)],
        }

    return render(
        request,
        "operator/points/member.html",
        _ctx(request, form=form or FormState(), idem=secrets.token_hex(8), **read(load)),
        status_code=status,
    )


@router.get("/ops/points/members/{member_id}")
def ops_member(member_id: int, request: Request, who: PageOperator) -> Response:
    return _member_page(request, member_id)


@router.post("/ops/points/members/{member_id}/adjust")
def ops_adjust(member_id: int, request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    state.required(request, "points", "note")
    state.at_most(request, "note", 200)
    raw = state.text("points")
    amount = None
    if raw:
        amount = state.integer(
            request,
            "points",
            low=-points_rules.MAX_POINTS_PER_AWARD,
            high=points_rules.MAX_POINTS_PER_AWARD,
        )
        if amount == 0:
            state.add(request, "points", "This number is out of range")
    if not state.ok or amount is None:
        return _member_page(request, member_id, state, status=400)
    key = state.text("idem")[:32] or secrets.token_hex(8)

    def act(db: Session) -> bool:
        accounts.get_user(db, member_id)
        return points.award(
            db,
            user_id=member_id,
            reason=points.Reason.ADMIN_ADJUST,
            key=f"adjust:{key}",
            points=amount,
            note=state.text("note"),
            by_id=who.user_id,
        )

    try:
        run_in_transaction(act)
    except DomainError as exc:
        state.refuse(request, exc, "points")
        return _member_page(request, member_id, state, status=_refused(exc))
    return _done(f"/ops/points/members/{member_id}")
