"""Group rules (群规) and moderation pages.

* Members: the report button (``member/moderation/_report.html``, a partial any page includes
  next to content with the variables ``kind`` and ``id``: ``{% include
  "member/moderation/_report.html" %}``), which posts to ``/report``; accepting a community's
  new rules from the banner (``member/moderation/_banner.html``, with ``standing``: see
  :func:`standing`).
* Leaders (``/leader/moderation``): the queue of reported and held content with hide, restore
  and approve (a reason each), muting an author and lifting it, the log; the rules editor
  with its versions (``/leader/communities/{id}/rules``).
* Operators (``/ops/moderation``): the queue of everything, and the log with filters by
  community and action.

Each handler calls the same service functions as the API (``communities``, ``moderation``),
which make the checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tuangou.accounts.service import Principal
from tuangou.communities import rules as community_rules
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError, InvalidInput
from tuangou.moderation import rules
from tuangou.moderation import service as moderation
from tuangou.web import errors, i18n, session
from tuangou.web.forms import FormState
from tuangou.web.pages.leader import FLASH, PageLeader
from tuangou.web.pages.operator.common import _ctx, _done
from tuangou.web.session import Form, PageOperator
from tuangou.web.templating import render, translate

router = APIRouter()

STATUSES = {
    "reported": i18n.lazy("Reported"),
    "hidden_pending_review": i18n.lazy("Hidden until review"),
    "held": i18n.lazy("Held by the filter"),
    "hidden": i18n.lazy("Hidden"),
    "visible": i18n.lazy("Shown"),
}
ACTIONS = {
    "auto_hide": i18n.lazy("Hidden by reports"),
    "hide": i18n.lazy("Hidden"),
    "restore": i18n.lazy("Restored"),
    "approve": i18n.lazy("Approved"),
    "mute": i18n.lazy("Muted"),
    "unmute": i18n.lazy("Unmuted"),
}
REASONS = {
    "spam": i18n.lazy("Spam or ads"),
    "abuse": i18n.lazy("Abuse"),
    "fraud": i18n.lazy("Fraud"),
    "other": i18n.lazy("Other"),
}
PERIODS = {"1h": i18n.lazy("1 hour"), "1d": i18n.lazy("1 day"), "7d": i18n.lazy("7 days")}
DECISIONS = ("hide", "restore", "approve")


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _local(path: str, default: str) -> str:
    """A path on this site to go back to (never another site's address)."""
    parts = urlsplit(path)
    if not path.startswith("/") or path.startswith("//") or parts.scheme or parts.netloc:
        return default
    return path


def _words(request: Request) -> dict[str, Any]:
    return {"statuses": STATUSES, "actions": ACTIONS, "reasons": REASONS, "periods": PERIODS}


# ---------------------------------------------------------------- members


@router.post("/report")
def report(request: Request, form: Form) -> Response:
    """A member reports content (the report partial's form); a page says it was sent."""
    who = session.require_buyer(request)
    state = FormState.of(form)
    back = _local(state.get("next"), "/")
    target = state.integer(request, "id", low=1, high=2**31 - 1)
    message, status = translate(request, "Thank you: the report was sent to the moderators."), 200
    if target is None:
        raise InvalidInput("no such content", field="id")
    try:
        run_in_transaction(
            lambda db: moderation.report(
                db,
                user_id=who.user_id,
                kind=state.text("kind"),
                target_id=target,
                reason=state.text("reason"),
                note=state.text("note"),
            )
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        message, status = errors.message(request, exc), exc.status
    return render(
        request,
        "member/moderation/reported.html",
        {"message": message, "ok": status == 200, "back": back},
        status_code=status,
    )


def standing(db: Session, community_id: int, user_id: int) -> dict[str, Any]:
    """What the banner of a community's page shows a member: the rules to accept (their
    version and text) and until when they are muted."""
    state = moderation.my_state(db, community_id, user_id)
    return {
        "community_id": community_id,
        "needs_acceptance": state.rules.needs_acceptance,
        "version": state.rules.version,
        "rules": state.rules.current.text if state.rules.current else "",
        "muted_until": state.muted_until,
        "mute_reason": state.mute_reason,
    }


@router.post("/communities/{community_id}/rules/accept")
def accept_rules(request: Request, community_id: int, form: Form) -> Response:
    """Accept the current rules from the banner; back to the page it was on."""
    who = session.require_buyer(request)
    state = FormState.of(form)
    version = state.integer(request, "version", low=1, high=2**31 - 1)
    back = _local(state.get("next"), "/communities")
    if version is None or state.get("accept") != "1":
        raise InvalidInput("tick the box to accept the rules", field="accept")
    run_in_transaction(lambda db: communities.accept_rules(db, community_id, who.user_id, version))
    return _redirect(back)


# ---------------------------------------------------------------- leaders


def _leader_page(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    flash = request.session.pop(FLASH, None)
    if flash and "flash" not in context:
        context = {**context, "flash": flash[1], "flash_kind": flash[0]}
    return render(request, template, {**_words(request), **context}, status_code=status)


def _flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session[FLASH] = [kind, message]


def _queue_rows(db: Session, items: list[moderation.QueueItem]) -> list[dict[str, Any]]:
    people = communities.people(db, sorted({i.case.author_id for i in items}))
    names = {c.id: c.name for c in _communities_of(db, {i.case.community_id for i in items})}
    return [
        {
            "item": i,
            "author": people[i.case.author_id],
            "community": names.get(i.case.community_id or 0, ""),
            "excerpt": rules.excerpt(i.info.excerpt) if i.info else "",
            "link": i.info.link if i.info else "",
        }
        for i in items
    ]


def _communities_of(db: Session, ids: set[int | None]) -> list[Any]:
    return [communities.get_community(db, cid) for cid in sorted(i for i in ids if i)]


def _log_rows(db: Session, entries: list[Any]) -> list[dict[str, Any]]:
    ids = {e.actor_id for e in entries if e.actor_id} | {
        e.subject_id for e in entries if e.subject_id
    }
    people = communities.people(db, sorted(ids))
    names = {c.id: c.name for c in _communities_of(db, {e.community_id for e in entries})}
    return [
        {
            "e": e,
            "actor": people.get(e.actor_id) if e.actor_id else None,
            "subject": people.get(e.subject_id) if e.subject_id else None,
            "community": names.get(e.community_id or 0, ""),
        }
        for e in entries
    ]


@router.get("/leader/moderation")
def leader_queue(request: Request, me: PageLeader) -> Response:
    def load(db: Session) -> dict[str, Any]:
        led = communities.communities_led_by(db, me.leader.id)
        items = moderation.queue(db, actor_id=me.who.user_id, operator=False)
        mutes = moderation.mutes_of(db, [c.id for c in led], clock.now())
        people = communities.people(db, [m.user_id for m in mutes])
        return {
            "rows": _queue_rows(db, items),
            "mutes": [(m, people[m.user_id]) for m in mutes],
            "led": led,
            "names": {c.id: c.name for c in led},
        }

    return _leader_page(request, "leader/moderation/queue.html", read(load))


def _decide(
    request: Request,
    who: Principal,
    operator: bool,
    kind: str,
    target_id: int,
    action: str,
    form: Any,
) -> None:
    if action not in DECISIONS:
        raise InvalidInput("hide, restore or approve", field="action")
    state = FormState.of(form)
    reason = state.text("reason")
    calls: dict[str, Callable[..., Any]] = {
        "hide": moderation.hide,
        "restore": moderation.restore,
        "approve": moderation.approve,
    }
    run_in_transaction(
        lambda db: calls[action](
            db,
            actor_id=who.user_id,
            operator=operator,
            kind=kind,
            target_id=target_id,
            reason=reason,
        )
    )


@router.post("/leader/moderation/{kind}/{target_id}/{action}")
def leader_decide(
    request: Request, kind: str, target_id: int, action: str, form: Form, me: PageLeader
) -> Response:
    try:
        _decide(request, me.who, False, kind, target_id, action, form)
    except DomainError as exc:
        if exc.status == 404:
            raise
        _flash(request, errors.message(request, exc), "bad")
        return _redirect("/leader/moderation")
    _flash(request, translate(request, "Done: it is in the log, and the author is told."))
    return _redirect("/leader/moderation")


def _mute_form(request: Request, form: Any) -> tuple[int, int, FormState]:
    state = FormState.of(form)
    community_id = state.integer(request, "community_id", low=1, high=2**31 - 1)
    user_id = state.integer(request, "user_id", low=1, high=2**31 - 1)
    if community_id is None or user_id is None:
        raise InvalidInput("choose whom to mute", field="user_id")
    return community_id, user_id, state


@router.post("/leader/moderation/mute")
def leader_mute(request: Request, form: Form, me: PageLeader) -> Response:
    community_id, user_id, state = _mute_form(request, form)
    try:
        run_in_transaction(
            lambda db: moderation.mute(
                db,
                actor_id=me.who.user_id,
                operator=False,
                community_id=community_id,
                user_id=user_id,
                period=state.text("period"),
                reason=state.text("reason"),
            )
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        _flash(request, errors.message(request, exc), "bad")
        return _redirect("/leader/moderation")
    _flash(request, translate(request, "Muted: they cannot post or reply there until then."))
    return _redirect("/leader/moderation")


@router.post("/leader/moderation/unmute")
def leader_unmute(request: Request, form: Form, me: PageLeader) -> Response:
    community_id, user_id, _ = _mute_form(request, form)
    try:
        run_in_transaction(
            lambda db: moderation.unmute(
                db,
                actor_id=me.who.user_id,
                operator=False,
                community_id=community_id,
                user_id=user_id,
            )
        )
    except DomainError as exc:
        if exc.status == 404:
            raise
        _flash(request, errors.message(request, exc), "bad")
        return _redirect("/leader/moderation")
    _flash(request, translate(request, "The mute is lifted."))
    return _redirect("/leader/moderation")


@router.get("/leader/moderation/log")
def leader_log(request: Request, me: PageLeader) -> Response:
    action = request.query_params.get("action") or None
    if action not in (None, *rules.ACTIONS):
        action = None

    def load(db: Session) -> dict[str, Any]:
        entries = moderation.leader_log(db, me.who.user_id, action=action, limit=200)
        return {"rows": _log_rows(db, entries), "action": action or ""}

    return _leader_page(request, "leader/moderation/log.html", read(load))


def _rules_page(
    request: Request, me: Any, community_id: int, state: FormState | None = None, status: int = 200
) -> Response:
    def load(db: Session) -> dict[str, Any]:
        community = communities.assert_community_leader(db, me.who.user_id, community_id)
        history = communities.rules_history(db, me.who.user_id, community_id)
        return {"community": community, "history": history}

    context = read(load)
    form = state or FormState.of(None, text=context["community"].rules)
    context.update(form=form, max_len=community_rules.RULES_MAX)
    return _leader_page(request, "leader/moderation/rules.html", context, status=status)


@router.get("/leader/communities/{community_id}/rules")
def rules_editor(request: Request, community_id: int, me: PageLeader) -> Response:
    return _rules_page(request, me, community_id)


@router.post("/leader/communities/{community_id}/rules")
def save_rules(request: Request, community_id: int, form: Form, me: PageLeader) -> Response:
    state = FormState.of(form)
    state.required(request, "text")
    state.at_most(request, "text", community_rules.RULES_MAX)
    if state.ok:
        try:
            run_in_transaction(
                lambda db: communities.save_rules(
                    db, me.who.user_id, community_id, state.text("text")
                )
            )
        except DomainError as exc:
            if exc.status in (403, 404):
                raise
            state.refuse(request, exc, "text")
    if not state.ok:
        return _rules_page(request, me, community_id, state, status=400)
    _flash(
        request, translate(request, "Saved: members accept the new version before they post again.")
    )
    return _redirect(f"/leader/communities/{community_id}/rules")


# ---------------------------------------------------------------- operators


@router.get("/ops/moderation")
def ops_moderation(request: Request, who: PageOperator) -> Response:
    raw_community = request.query_params.get("community_id") or ""
    community_id = int(raw_community) if raw_community.isdigit() else None
    action = request.query_params.get("action") or None
    if action not in (None, *rules.ACTIONS):
        action = None

    def load(db: Session) -> dict[str, Any]:
        items = moderation.queue(db, actor_id=who.user_id, operator=True, community_id=community_id)
        entries = moderation.log_entries(db, community_id=community_id, action=action, limit=200)
        return {
            "rows": _queue_rows(db, items),
            "log": _log_rows(db, entries),
            "community_id": community_id or "",
            "action": action or "",
        }

    context = read(load)
    return render(
        request, "operator/moderation/index.html", _ctx(request, **_words(request), **context)
    )


@router.post("/ops/moderation/{kind}/{target_id}/{action}")
def ops_decide(
    request: Request, kind: str, target_id: int, action: str, form: Form, who: PageOperator
) -> Response:
    try:
        _decide(request, who, True, kind, target_id, action, form)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return render(
            request,
            "operator/moderation/index.html",
            _ctx(
                request,
                **_words(request),
                rows=read(
                    lambda db: _queue_rows(
                        db, moderation.queue(db, actor_id=who.user_id, operator=True)
                    )
                ),
                log=[],
                community_id="",
                action="",
                flash=errors.message(request, exc),
            ),
            status_code=409 if exc.status == 409 else 400,
        )
    return _done("/ops/moderation", "decided")
