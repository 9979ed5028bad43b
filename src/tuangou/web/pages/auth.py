"""Log-in (password or SMS code), sign-up, log-out and the language switch."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tuangou.accounts import service as accounts
from tuangou.api.deps import client_ip, screen, screened_actor
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.web import i18n, session
from tuangou.web.forms import FormState
from tuangou.web.session import Form, safe_next
from tuangou.web.templating import render

router = APIRouter()
LANG_COOKIE_AGE = 365 * 86400


def _landing(who: Any, target: str | None) -> str:
    default = {"operator": "/ops", "supplier": "/supplier/products"}.get(who.role, "/")
    return safe_next(target, default)


def _logged_in(request: Request, user: Any, target: str | None) -> RedirectResponse:
    session.log_in(request, user)
    return RedirectResponse(_landing(user, target), status_code=303)


def _blank(next: str) -> dict[str, Any]:
    """An empty form, and where to go after it (a local path only)."""
    return {"form": FormState(), "next": safe_next(next, "")}


# The risk engine asks for the phone to be proved (api.deps.screen): the SMS-code log-in.
RISK_CHALLENGE = "risk_challenge"


def _prove_phone(request: Request, state: FormState, exc: DomainError) -> Response:
    """The SMS-code log-in, with the number typed and what the risk engine asks, in place of
    the password log-in or the sign-up it challenged."""
    proof = FormState.of(phone=state.text("phone"))
    proof.refuse(request, exc)
    context = {"form": proof, "sent": False, "next": state.get("next")}
    return render(request, "auth/code.html", context, status_code=exc.status)


def _form_again(request: Request, template: str, state: FormState) -> Response:
    """The form again with its errors and values, but never the password typed."""
    state.values.pop("password", None)
    return render(request, template, {"form": state, "next": state.get("next")}, status_code=400)


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    return render(request, "auth/login.html", _blank(next))


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    state = FormState.of(form)
    state.required(request, "phone", "password")
    if state.ok:
        try:
            with unit_of_work(readonly=True) as db:
                phone, password = state.text("phone"), state.get("password")
                ip = client_ip(request)
                user = accounts.login(db, phone=phone, password=password, ip=ip)
            screen(request, type="login", actor=user.id, cookie=True)
            return _logged_in(request, user, state.get("next"))
        except DomainError as exc:
            if exc.code == RISK_CHALLENGE:
                return _prove_phone(request, state, exc)
            state.refuse(request, exc, "password")
    return _form_again(request, "auth/login.html", state)


@router.get("/login/code")
def code_page(request: Request, next: str = "") -> Response:
    return render(request, "auth/code.html", {**_blank(next), "sent": False})


@router.post("/login/code")
def code_login(request: Request, form: Form) -> Response:
    """First post: send the code. Second post (with the code): log in, or sign up."""
    state = FormState.of(form)
    state.required(request, "phone")
    sent = bool(state.text("code")) or state.get("step") == "verify"
    if state.ok and not sent:
        try:
            ip = client_ip(request)
            run_in_transaction(
                lambda db: accounts.request_code(db, phone=state.text("phone"), ip=ip)
            )
            sent = True
        except DomainError as exc:
            state.refuse(request, exc, "phone")
    elif state.ok:
        state.required(request, "code")
        if state.ok:
            try:
                with unit_of_work() as db:
                    user = accounts.login_with_code(
                        db, phone=state.text("phone"), code=state.text("code")
                    )
                    # The code proved the phone: what the risk engine's challenge asks.
                    screen(request, db, type="login", actor=user.id, challenge_ok=True, cookie=True)
                return _logged_in(request, user, state.get("next"))
            except accounts.BadCode as exc:
                with unit_of_work() as db:
                    accounts.count_failed_code(db, phone=state.text("phone"))
                state.refuse(request, exc, "code")
            except DomainError as exc:
                state.refuse(request, exc, "phone")
    status = 200 if state.ok else 400
    context = {"form": state, "sent": sent, "next": state.get("next")}
    return render(request, "auth/code.html", context, status_code=status)


@router.get("/signup")
def signup_page(request: Request, next: str = "", invite: str = "") -> Response:
    """The sign-up form; ``invite`` (from an invite link ``/i/{code}``) is kept in it."""
    context = _blank(next)
    if invite:
        context["form"] = FormState.of(invite_code=invite.strip()[:16])
    return render(request, "auth/signup.html", context)


@router.post("/signup")
def signup(request: Request, form: Form) -> Response:
    state = FormState.of(form)
    state.required(request, "phone", "password", "nickname")
    if state.get("password") and len(state.get("password")) < 8:
        state.add(request, "password", "Use at least 8 characters")
    address = None
    if state.text("address_line"):
        address = {
            "name": state.text("address_name") or state.text("nickname"),
            "phone": state.text("address_phone") or state.text("phone"),
            "line": state.text("address_line"),
        }
    if state.ok:

        def work(db: Any) -> Any:
            user = accounts.sign_up(
                db,
                phone=state.text("phone"),
                password=state.get("password"),
                nickname=state.text("nickname"),
                address=address,
                ip=client_ip(request),
                invite_code=state.text("invite_code") or None,
            )
            screened_actor(db, screened, user.id)
            return user

        try:
            phone = state.text("phone")
            screened = screen(request, type="signup", actor=None, phone=phone, cookie=True)
            user = run_in_transaction(work)
            return _logged_in(request, user, state.get("next"))
        except DomainError as exc:
            if exc.code == RISK_CHALLENGE:
                return _prove_phone(request, state, exc)
            state.refuse(request, exc, "phone")
    return _form_again(request, "auth/signup.html", state)


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    session.log_out(request)
    return RedirectResponse("/login", status_code=303)


@router.post("/logout/everywhere")
def logout_everywhere(request: Request, form: Form) -> Response:
    """Log out here and on every other device (every token issued so far stops working)."""
    who = session.current(request)
    if who is not None:
        run_in_transaction(lambda db: accounts.log_out_everywhere(db, who.user_id))
        accounts.forget_token_version(who.user_id)
    session.log_out(request)
    return RedirectResponse("/login", status_code=303)


@router.get("/lang")
def switch_language(request: Request, to: str, next: str = "/") -> Response:
    """Switch the page language (a cookie kept for a year), then go back where the user was."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if to in i18n.LANGUAGES:
        response.set_cookie("lang", to, max_age=LANG_COOKIE_AGE, samesite="lax", httponly=True)
    return response
