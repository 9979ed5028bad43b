"""Referral pages (邀请有礼 / 我的推广): the member's invite link, its QR code and poster,
who they invited, every commission line with its state, and the withdrawal form; the
operator's referral terms and partners (``/ops/referral``). Phone first.

``/i/{code}`` is the invite link: it opens the sign-up form with the code kept in it (a
member already logged in is taken to their own invite page)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tuangou.core.db import read, run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.core.money import fmt
from tuangou.referral import rules
from tuangou.referral import service as referral
from tuangou.web import poster, qr, session
from tuangou.web.forms import FormState
from tuangou.web.pages.operator.common import _ctx
from tuangou.web.pages.teambuy import _png as _poster_reply
from tuangou.web.session import Form, PageBuyer, PageOperator
from tuangou.web.templating import absolute_url, language, render, translate

router = APIRouter()

HOME = "/me/referral"


@router.get("/i/{code}")
def invite(request: Request, code: str) -> Response:
    if session.current(request) is not None:
        return RedirectResponse(HOME, status_code=303)
    return RedirectResponse(f"/signup?invite={quote(code[:16], safe='')}", status_code=303)


def _home(request: Request, who: Any, form: FormState | None = None, status: int = 200) -> Response:
    with unit_of_work() as db:
        o = referral.overview(db, who.user_id)
        invitees = referral.invitees(db, who.user_id, limit=5)
        history = referral.withdrawals(db, who.user_id)
    link = absolute_url(request, f"/i/{o.code}")
    return render(
        request,
        "member/referral/home.html",
        {
            "o": o,
            "link": link,
            "qr": qr.svg(link, title=translate(request, "Invite QR code")),
            "invitees": invitees,
            "history": list(reversed(history))[:10],
            "form": form or FormState(),
            "done": request.query_params.get("done", ""),
            "rate1": o.terms.level1_bps / 100,
            "rate2": o.terms.level2_bps / 100,
        },
        status_code=status,
    )


@router.get(HOME)
def home(request: Request, who: PageBuyer) -> Response:
    return _home(request, who)


@router.get(HOME + "/invitees")
def invitees_page(request: Request, who: PageBuyer) -> Response:
    found = read(lambda db: referral.invitees(db, who.user_id))
    return render(request, "member/referral/invitees.html", {"invitees": found})


@router.get(HOME + "/commissions")
def commissions_page(request: Request, who: PageBuyer, cursor: int | None = None) -> Response:
    with unit_of_work() as db:
        lines, nxt = referral.lines(db, who.user_id, cursor=cursor, limit=30)
    return render(request, "member/referral/commissions.html", {"lines": lines, "next_cursor": nxt})


@router.post(HOME + "/withdraw")
def withdraw(request: Request, form: Form, who: PageBuyer) -> Response:
    state = FormState.of(form)
    amount = state.fen(request, "amount")
    if state.ok and amount is not None:
        try:
            run_in_transaction(
                lambda db: referral.request_withdrawal(
                    db, user_id=who.user_id, amount=amount, account_note=state.text("account_note")
                )
            )
            return RedirectResponse(HOME + "?done=withdrawn", status_code=303)
        except DomainError as exc:
            state.refuse(request, exc, "amount")
    return _home(request, who, form=state, status=400)


@router.get(HOME + "/poster.png")
def invite_poster(request: Request, who: PageBuyer) -> Response:
    with unit_of_work() as db:
        o = referral.overview(db, who.user_id)
    link = absolute_url(request, f"/i/{o.code}")
    drawn = poster.Poster(
        lang=language(request),
        headline=translate(request, "Join me on Tuangou"),
        subline=translate(request, "Neighbours buying together, picked up nearby"),
        title=translate(request, "Sign up with my invite code"),
        price_label=translate(request, "Invite code"),
        price=o.code,
        link=link,
        scan=translate(request, "Scan to sign up"),
    )
    return _poster_reply(request, drawn, "private, max-age=300")


# ---------------------------------------------------------------- operators


def _ops_page(request: Request, form: FormState | None = None, status: int = 200) -> Response:
    with unit_of_work(readonly=True) as db:
        t = referral.terms(db)
        partners = referral.partner_rows(db)
    values = {
        "level1": f"{t.level1_bps / 100:g}",
        "level2": f"{t.level2_bps / 100:g}",
        "mode": str(t.mode),
        "min_spend": f"{t.min_spend / 100:.2f}",
        "binding_days": "" if t.binding_days is None else str(t.binding_days),
        "self_purchase": "1" if t.self_purchase else "",
    }
    return render(
        request,
        "operator/referral/settings.html",
        _ctx(
            request,
            form=form or FormState(values=values),
            partners=partners,
            modes=[m.value for m in rules.Mode],
            min_spend=fmt(t.min_spend),
        ),
        status_code=status,
    )


@router.get("/ops/referral")
def ops_settings(request: Request, who: PageOperator) -> Response:
    return _ops_page(request)


def _percent(request: Request, state: FormState, name: str) -> int | None:
    raw = state.text(name).rstrip("%").strip()
    try:
        value = round(float(raw) * 100)
    except ValueError:
        state.add(request, name, "Enter a percentage")
        return None
    return value


@router.post("/ops/referral")
def ops_save(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    level1 = _percent(request, state, "level1")
    level2 = _percent(request, state, "level2")
    min_spend = state.fen(request, "min_spend", required=False) or 0
    days_raw = state.text("binding_days")
    days = None
    if days_raw:
        if not days_raw.isdigit():
            state.add(request, "binding_days", "Enter a whole number of days, or leave it empty")
        else:
            days = int(days_raw)
    if state.ok and level1 is not None and level2 is not None:
        terms = rules.Terms(
            level1_bps=level1,
            level2_bps=level2,
            mode=state.text("mode") or rules.Mode.EVERYONE,
            min_spend=min_spend,
            binding_days=days,
            self_purchase=bool(state.text("self_purchase")),
        )
        found = rules.problems(terms)
        for name, message in found.items():
            field = {"level1_bps": "level1", "level2_bps": "level2"}.get(name, name)
            state.add(request, field, message)
        if state.ok:
            run_in_transaction(lambda db: referral.update_terms(db, terms, operator_id=who.user_id))
            return RedirectResponse("/ops/referral?done=saved", status_code=303)
    return _ops_page(request, form=state, status=400)


@router.post("/ops/referral/partners")
def ops_appoint(request: Request, form: Form, who: PageOperator) -> Response:
    state = FormState.of(form)
    user_id = state.integer(request, "user_id")
    on = state.text("on") != "0"
    if state.ok and user_id is not None:
        try:
            run_in_transaction(lambda db: referral.appoint(db, user_id=user_id, appointed=on))
            return RedirectResponse("/ops/referral?done=saved", status_code=303)
        except DomainError as exc:
            state.refuse(request, exc, "user_id")
    return _ops_page(request, form=state, status=400)
