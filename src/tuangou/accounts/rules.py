"""Pure rules for accounts: phone numbers, masking, passwords' shape, page sessions' expiry."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

# ASCII digits only, whole string: ``\d`` would take full-width digits and ``$`` a final newline.
PHONE_RE = re.compile(r"1[3-9][0-9]{9}")
ROLES = ("member", "supplier", "operator")
# Who may buy (open or join a team, order in a wave, pay, leave, after-sales, reviews) and
# apply to lead: member accounts only. Supplier staff and operators are staff accounts: they
# keep their staff powers but buy with a member account of their own (docs/SECURITY.md).
BUYER_ROLES = ("member",)


def may_buy(role: str) -> bool:
    """Whether an account of this role may buy, join communities and apply to lead."""
    return role in BUYER_ROLES


def valid_phone(phone: str) -> bool:
    return bool(PHONE_RE.fullmatch(phone))


# A deleted account keeps its row (financial records name it) under a pseudonym: this
# nickname, and in place of its phone number a marker that is no phone number (so the number
# may sign up anew, and nothing logs in to the old account).
DELETED_NICKNAME = "已注销用户"
DELETED_PHONE_PREFIX = "deleted-"


def deleted_phone(user_id: int) -> str:
    return f"{DELETED_PHONE_PREFIX}{user_id}"


def mask_phone(phone: str) -> str:
    """13812348000 -> 138****8000; a deleted account's marker -> empty."""
    if phone.startswith(DELETED_PHONE_PREFIX):
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    """李阿姨 -> 李*姨; 王五 -> 王*; Alice -> A***e; a single character stays as it is."""
    name = name.strip()
    if len(name) <= 1:
        return name or "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def password_problem(password: str) -> str | None:
    if len(password) < 8:
        return "the password needs at least 8 characters"
    if len(password) > 128:
        return "the password may have at most 128 characters"
    return None


# A page session (the pages' log-in, kept on the server) ends after an idle time without a
# request, and at the latest an absolute lifetime after its log-in. A request renews the idle
# time, but the renewal is written at most once per ``SESSION_RENEW_EVERY``: the idle time
# runs from the last renewal written, so it may end up to that much early.
SESSION_RENEW_EVERY = timedelta(minutes=5)


def session_expiry(
    created_at: datetime, seen_at: datetime, *, idle: timedelta, lifetime: timedelta
) -> datetime:
    """When a session seen at ``seen_at`` ends if nothing renews it: the idle time after
    it was seen, never past its absolute lifetime."""
    return min(seen_at + idle, created_at + lifetime)


def session_alive(
    created_at: datetime,
    seen_at: datetime,
    now: datetime,
    *,
    idle: timedelta,
    lifetime: timedelta,
) -> bool:
    return now < session_expiry(created_at, seen_at, idle=idle, lifetime=lifetime)


def session_renewal_due(seen_at: datetime, now: datetime) -> bool:
    """Whether a request at ``now`` writes the session's renewal (at most once an interval)."""
    return now - seen_at >= SESSION_RENEW_EVERY


# The address book: bounds of an entry and of the book.
ADDRESS_NAME_MAX = 32
ADDRESS_REGION_MAX = 64
ADDRESS_DETAIL_MAX = 200
ADDRESS_DETAIL_MIN = 4
ADDRESSES_MAX = 20


def address_problem(
    name: str, phone: str, region: str, detail: str, *, need_region: bool = True
) -> tuple[str, str] | None:
    """The first thing wrong with an address book entry (already stripped), as (field,
    message), or None. ``region`` (province, city, district) is free text; an address
    given the old way (one line, no region) is taken without it."""
    for field, value in (("name", name), ("region", region), ("detail", detail)):
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            return field, "line breaks and control characters are not allowed"
    if not name:
        return "name", "the recipient's name is required"
    if len(name) > ADDRESS_NAME_MAX:
        return "name", f"the recipient's name may have at most {ADDRESS_NAME_MAX} characters"
    if not valid_phone(phone):
        return "phone", "the recipient's phone number is not valid (11 digits, starting with 1)"
    if need_region and not region:
        return "region", "the province, city and district are required"
    if len(region) > ADDRESS_REGION_MAX:
        return "region", f"the region may have at most {ADDRESS_REGION_MAX} characters"
    if len(detail) < ADDRESS_DETAIL_MIN:
        return "detail", f"the street and door need at least {ADDRESS_DETAIL_MIN} characters"
    if len(detail) > ADDRESS_DETAIL_MAX:
        return "detail", f"the street and door may have at most {ADDRESS_DETAIL_MAX} characters"
    return None
