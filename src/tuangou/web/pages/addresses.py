"""The member's address book (我的 → 收货地址): list, add, edit, delete, choose the default.

Checkout links here when a member has no address (or wants another): ``?next=`` brings them
back to the same step afterwards, with ``address=<id>`` so the new entry is the one chosen.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tuangou.accounts import addresses
from tuangou.accounts import rules as account_rules
from tuangou.core.db import read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.web import session
from tuangou.web.forms import FormState
from tuangou.web.session import Form, PageBuyer, safe_next
from tuangou.web.templating import render

router = APIRouter()

FIELDS = ("name", "phone", "region", "detail")
BOOK = "/me/addresses"


def _next(request: Request, form: Any = None) -> str:
    raw = (form.get("next") if form is not None else None) or request.query_params.get("next")
    return safe_next(str(raw or ""), "")


def back_with(next_url: str, address_id: int) -> str:
    """``next_url`` with ``address=<id>`` in its query (the checkout's choice)."""
    parts = urlsplit(next_url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("address="))
    query = "&".join(filter(None, [query, urlencode({"address": address_id})]))
    return urlunsplit(("", "", parts.path, query, parts.fragment))


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


@router.get(BOOK)
def book(request: Request, who: PageBuyer) -> Response:
    entries = read(lambda db: addresses.list_addresses(db, who.user_id))
    next_url = _next(request)
    return render(
        request,
        "member/addresses.html",
        {
            "entries": entries,
            "next": next_url,
            "new_url": _with_next(f"{BOOK}/new", next_url),
            "done": request.query_params.get("done", ""),
            "full": len(entries) >= account_rules.ADDRESSES_MAX,
            "limit": account_rules.ADDRESSES_MAX,
        },
    )


def _form_page(
    request: Request,
    state: FormState,
    *,
    entry_id: int | None,
    next_url: str,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "member/address_form.html",
        {
            "form": state,
            "entry_id": entry_id,
            "next": next_url,
            "limits": {
                "name": account_rules.ADDRESS_NAME_MAX,
                "region": account_rules.ADDRESS_REGION_MAX,
                "detail": account_rules.ADDRESS_DETAIL_MAX,
            },
        },
        status_code=status_code,
    )


@router.get(BOOK + "/new")
def new_page(request: Request, who: PageBuyer) -> Response:
    first = not read(lambda db: addresses.list_addresses(db, who.user_id))
    state = FormState(values={"is_default": "1" if first else ""})
    return _form_page(request, state, entry_id=None, next_url=_next(request))


@router.get(BOOK + "/{address_id}/edit")
def edit_page(request: Request, address_id: int, who: PageBuyer) -> Response:
    entry = read(lambda db: addresses.get_address(db, who.user_id, address_id))
    values = {name: getattr(entry, name) for name in FIELDS}
    values["is_default"] = "1" if entry.is_default else ""
    state = FormState(values=values)
    return _form_page(request, state, entry_id=entry.id, next_url=_next(request))


def _save(request: Request, form: Form, address_id: int | None) -> Response:
    who = session.require_buyer(request)
    state = FormState.of(form)
    next_url = _next(request, form)
    state.required(request, *FIELDS)
    name, phone, region, detail = (state.text(n) for n in FIELDS)
    make_default = bool(state.text("is_default"))
    if state.ok:
        try:
            if address_id is None:
                saved = run_in_transaction(
                    lambda db: (
                        addresses.add_address(
                            db,
                            who.user_id,
                            name=name,
                            phone=phone,
                            region=region,
                            detail=detail,
                            make_default=make_default,
                        ).id
                    )
                )
            else:
                saved = run_in_transaction(
                    lambda db: (
                        addresses.update_address(
                            db,
                            who.user_id,
                            address_id,
                            name=name,
                            phone=phone,
                            region=region,
                            detail=detail,
                            make_default=make_default,
                        ).id
                    )
                )
        except addresses.AddressNotFound:
            raise
        except DomainError as exc:
            state.refuse(request, exc)
        else:
            if next_url:
                return RedirectResponse(back_with(next_url, saved), status_code=303)
            done = "added" if address_id is None else "saved"
            return RedirectResponse(f"{BOOK}?done={done}", status_code=303)
    return _form_page(request, state, entry_id=address_id, next_url=next_url, status_code=400)


@router.post(BOOK + "/new")
def add(request: Request, form: Form) -> Response:
    return _save(request, form, None)


@router.post(BOOK + "/{address_id}/edit")
def edit(request: Request, address_id: int, form: Form) -> Response:
    return _save(request, form, address_id)


@router.post(BOOK + "/{address_id}/default")
def make_default(request: Request, address_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    run_in_transaction(lambda db: addresses.set_default(db, who.user_id, address_id))
    next_url = _next(request, form)
    return RedirectResponse(
        _with_next(f"{BOOK}", next_url) if next_url else f"{BOOK}?done=default", status_code=303
    )


@router.post(BOOK + "/{address_id}/delete")
def delete(request: Request, address_id: int, form: Form) -> Response:
    who = session.require_buyer(request)
    run_in_transaction(lambda db: addresses.delete_address(db, who.user_id, address_id))
    return RedirectResponse(f"{BOOK}?done=deleted", status_code=303)
