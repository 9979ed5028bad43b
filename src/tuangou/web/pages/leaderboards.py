"""Leaderboard pages (排行榜): a community's most helpful neighbours of this week or month,
with my rank (a tab of the community's pages), and the leader's monthly award: the past
month's top members, choose who and how many points, confirm.

Pages are thin: they call ``leaderboards.service`` as the API does; the award carries a
one-time key (:mod:`tuangou.web.once`), so a double submit awards once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tuangou.core.db import unit_of_work
from tuangou.core.errors import DomainError
from tuangou.leaderboards import rules as board_rules
from tuangou.leaderboards import service as boards
from tuangou.web import once
from tuangou.web.forms import FormState
from tuangou.web.i18n import lazy
from tuangou.web.pages.leader import PageLeader
from tuangou.web.session import Form, PageUser
from tuangou.web.templating import render

router = APIRouter()

KIND_WORDS = {
    board_rules.ActionKind.REVIEW_LIKED: lazy("Likes on reviews"),
    board_rules.ActionKind.HELP: lazy("Bargain helps"),
    board_rules.ActionKind.INVITE: lazy("Invites who ordered"),
    board_rules.ActionKind.EVENT: lazy("Events attended"),
}


def _board_context(db: Any, community_id: int, period: Any, start: Any, viewer: int) -> dict:
    found = boards.board(db, community_id, period, start)
    names = boards.people(db, [s.user_id for s in found.standings])
    return {"board": found, "names": names, "mine": found.rank_of(viewer)}


@router.get("/communities/{community_id}/leaderboard")
def board_page(request: Request, community_id: int, who: PageUser) -> Response:
    period_text = request.query_params.get("period", "week")
    period_text = period_text if period_text in ("week", "month") else "week"
    with unit_of_work(readonly=True) as db:
        community = boards.require_visible(
            db, community_id, who.user_id, operator=who.role == "operator"
        )
        period, start = boards.parse_period(period_text, request.query_params.get("at"))
        context = _board_context(db, community_id, period, start, who.user_id)
        previous = board_rules.previous(period, start)
    context.update(
        community=community,
        last_day=(context["board"].end - timedelta(days=1)).isoformat(),
        period=period_text,
        previous=previous.isoformat(),
        weights=board_rules.WEIGHTS,
        kinds=KIND_WORDS,
    )
    return render(request, "member/leaderboards/board.html", context)


# ---------------------------------------------------------------- the leader's award


def _award_context(request: Request, community_id: int, me: Any) -> dict[str, Any]:
    with unit_of_work(readonly=True) as db:
        community = boards.require_leader(db, me.who.user_id, community_id)
        month = boards.last_month()
        context = _board_context(db, community_id, boards.Period.MONTH, month, me.who.user_id)
        settings = boards.get_settings(db)
        given = boards.award_of(db, community_id, month)
        final = boards.is_final(boards.Period.MONTH, month)
    top = context["board"].standings[: settings.members]
    return {
        **context,
        "community": community,
        "month": board_rules.month_key(month),
        "settings": settings,
        "top": top,
        "given": given,
        "given_members": boards.awarded_members(given),
        "final": final,
        "kinds": KIND_WORDS,
        "done": request.query_params.get("done", ""),
    }


@router.get("/leader/communities/{community_id}/leaderboard/award")
def award_page(request: Request, community_id: int, me: PageLeader) -> Response:
    context = _award_context(request, community_id, me)
    values = {"points": str(context["settings"].points)}
    context.update(form=FormState(values=values), key=once.new_key(), confirm=False)
    return render(request, "leader/leaderboards/award.html", context)


@router.post("/leader/communities/{community_id}/leaderboard/award")
def award(request: Request, community_id: int, form: Form, me: PageLeader) -> Response:
    context = _award_context(request, community_id, me)
    state = FormState.of(form)
    settings = context["settings"]
    points = state.integer(request, "points", low=1, high=settings.points)
    allowed = {s.user_id for s in context["top"]}
    chosen = [int(str(v)) for v in form.getlist("member") if str(v).isdigit()]
    chosen = [m for m in dict.fromkeys(chosen) if m in allowed]
    if not chosen:
        state.add(request, "member", "Choose at least one member")
    context.update(form=state, key=state.get("idem") or once.new_key(), chosen=chosen)
    if state.ok and form.get("confirmed") != "1":
        context["confirm"] = True  # the summary, then the real submit
        return render(request, "leader/leaderboards/award.html", context)
    if state.ok:
        assert points is not None
        body = {"community": community_id, "month": context["month"], "members": chosen}
        body["points"] = points

        def work(db: Any) -> dict[str, Any]:
            row = boards.award(
                db,
                user_id=me.who.user_id,
                community_id=community_id,
                month=context["month"],
                members=chosen,
                points_each=points,
            )
            return {"id": row.id}

        try:
            once.do(request, me.who, state.get("idem"), body, work)
            return RedirectResponse(
                f"/leader/communities/{community_id}/leaderboard/award?done=awarded",
                status_code=303,
            )
        except DomainError as exc:
            if exc.status == 404:
                raise
            state.refuse(request, exc, "_form")
    context["confirm"] = False
    return render(request, "leader/leaderboards/award.html", context, status_code=400)
