from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from tuangou.accounts import addresses, schemas
from tuangou.accounts import service as accounts
from tuangou.api.deps import Caller, Member, client_ip, screen, screened_actor
from tuangou.core.db import run_in_transaction, unit_of_work

router = APIRouter(tags=["accounts"])


def _session_reply(user: Any) -> schemas.SessionOut:
    return schemas.SessionOut(token=accounts.issue_token(user), user=schemas.UserOut.of(user))


@router.post("/auth/signup", status_code=201)
def signup(body: schemas.SignupIn, request: Request) -> schemas.SessionOut:
    """Create a member account with a phone number and password (a few per IP an hour); with
    ``invite_code`` the member is bound to its owner for good (``invite_code_unknown``). The
    risk engine may refuse it (``risk_refused``) or ask for the phone to be proved first
    (``risk_challenge``: sign up with an SMS code, ``/api/auth/code``)."""
    screened = screen(request, type="signup", actor=None, phone=body.phone)

    def work(session: Any) -> schemas.SessionOut:
        user = accounts.sign_up(
            session,
            phone=body.phone,
            password=body.password,
            nickname=body.nickname,
            address=body.address.model_dump() if body.address else None,
            ip=client_ip(request),
            invite_code=body.invite_code,
        )
        screened_actor(session, screened, user.id)
        return _session_reply(user)

    return run_in_transaction(work)


@router.post("/auth/login")
def login(body: schemas.LoginIn, request: Request) -> schemas.SessionOut:
    """Log in with a password; too many wrong ones (per phone, per IP) answer 429 for a while.
    The risk engine may ask for an SMS code instead (``risk_challenge``: ``/api/auth/code``)."""
    with unit_of_work(readonly=True) as session:
        ip = client_ip(request)
        user = accounts.login(session, phone=body.phone, password=body.password, ip=ip)
    screen(request, type="login", actor=user.id)
    return _session_reply(user)


@router.post("/auth/logout-everywhere")
def log_out_everywhere(who: Caller) -> schemas.LoggedOutOut:
    """Log out on every device (a lost phone): every token issued so far, this one included,
    stops working; log in again for a new one."""
    run_in_transaction(lambda session: accounts.log_out_everywhere(session, who.user_id))
    accounts.forget_token_version(who.user_id)
    return schemas.LoggedOutOut(logged_out=True)


@router.post("/auth/code", status_code=202)
def request_code(body: schemas.CodeIn, request: Request) -> schemas.CodeSentOut:
    """Send a one-time login code by SMS (the default sender writes it to the server log):
    one a minute per phone, a few an hour per IP."""
    with unit_of_work() as session:
        accounts.request_code(session, phone=body.phone, ip=client_ip(request))
    return schemas.CodeSentOut(sent=True)


@router.post("/auth/code/login")
def login_with_code(body: schemas.CodeLoginIn, request: Request) -> schemas.SessionOut:
    try:
        with unit_of_work() as session:
            user = accounts.login_with_code(
                session, phone=body.phone, code=body.code, nickname=body.nickname
            )
            # The code proved the phone: what the risk engine's challenge asks.
            screen(request, session, type="login", actor=user.id, challenge_ok=True)
            return _session_reply(user)
    except accounts.BadCode:
        with unit_of_work() as session:
            accounts.count_failed_code(session, phone=body.phone)
        raise


@router.get("/me")
def me(who: Caller) -> schemas.UserOut:
    with unit_of_work(readonly=True) as session:
        return schemas.UserOut.of(accounts.get_user(session, who.user_id))


@router.patch("/me")
def update_me(body: schemas.ProfileIn, who: Caller) -> schemas.UserOut:
    with unit_of_work() as session:
        user = accounts.update_profile(
            session,
            who.user_id,
            nickname=body.nickname,
            address=body.address.model_dump() if body.address else None,
        )
        return schemas.UserOut.of(user)


# ---------------------------------------------------------------- the address book


@router.get("/me/addresses")
def my_addresses(who: Member) -> list[schemas.AddressBookOut]:
    """The caller's address book: the default first, then the newest."""
    with unit_of_work(readonly=True) as session:
        return [
            schemas.AddressBookOut.of(a) for a in addresses.list_addresses(session, who.user_id)
        ]


@router.post("/me/addresses", status_code=201)
def add_address(body: schemas.AddressBookIn, who: Member) -> schemas.AddressBookOut:
    """Add an address (the first one becomes the default; at most 20)."""
    with unit_of_work() as session:
        entry = addresses.add_address(
            session,
            who.user_id,
            name=body.name,
            phone=body.phone,
            region=body.region,
            detail=body.detail,
            make_default=body.is_default,
        )
        return schemas.AddressBookOut.of(entry)


@router.put("/me/addresses/{address_id}")
def edit_address(
    address_id: int, body: schemas.AddressBookIn, who: Member
) -> schemas.AddressBookOut:
    """Edit an address; orders already placed keep the copy they took."""
    with unit_of_work() as session:
        entry = addresses.update_address(
            session,
            who.user_id,
            address_id,
            name=body.name,
            phone=body.phone,
            region=body.region,
            detail=body.detail,
            make_default=body.is_default,
        )
        return schemas.AddressBookOut.of(entry)


@router.post("/me/addresses/{address_id}/default")
def make_default_address(address_id: int, who: Member) -> schemas.AddressBookOut:
    """Make an address the default (preselected at checkout)."""
    with unit_of_work() as session:
        return schemas.AddressBookOut.of(addresses.set_default(session, who.user_id, address_id))


@router.delete("/me/addresses/{address_id}")
def delete_address(address_id: int, who: Member) -> schemas.AddressDeletedOut:
    """Delete an address; if it was the default, the newest remaining one becomes it."""
    with unit_of_work() as session:
        addresses.delete_address(session, who.user_id, address_id)
    return schemas.AddressDeletedOut(deleted=True)
