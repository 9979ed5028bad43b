"""Members, suppliers' staff and operators: sign-up, log-in (password or SMS code), tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.accounts import rules
from tuangou.accounts.errors import AccountErrorCode
from tuangou.accounts.models import OneTimeCode, User
from tuangou.accounts.sms import get_sender
from tuangou.core import clock, limits, secret
from tuangou.core.config import get_settings
from tuangou.core.db import get_engine, get_or_404, read
from tuangou.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
)


class PhoneTaken(Conflict):
    code = AccountErrorCode.PHONE_TAKEN
    title = "An account with this phone number exists"


class BadCredentials(DomainError):
    code = AccountErrorCode.BAD_CREDENTIALS
    status = 401
    title = "Wrong phone number or password"


class BadCode(DomainError):
    code = AccountErrorCode.BAD_CODE
    status = 401
    title = "The code is wrong or has expired"


class AddressRequired(DomainError):
    code = AccountErrorCode.ADDRESS_REQUIRED
    status = 422
    title = "A shipping address is required"


class UserNotFound(NotFound):
    code = AccountErrorCode.USER_NOT_FOUND
    title = "No such user"


@dataclass(frozen=True)
class Principal:
    """Who is calling: decoded from the bearer token, no database read."""

    user_id: int
    role: str
    supplier_id: int | None


CODE_TTL = timedelta(minutes=5)
CODE_RESEND = timedelta(seconds=60)
CODE_ATTEMPTS = 5


def _hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


# Checked against when there is no password to check (an unknown phone, an account that
# logs in by SMS code only), so that a refusal takes as long as a wrong password does and
# does not tell which phone numbers have accounts.
_NO_PASSWORD = "scrypt$" + "00" * 16 + "$" + "00" * 64


def _check_password(password: str, stored: str | None) -> bool:
    usable = stored is not None and stored.startswith("scrypt$")
    checked = stored if stored is not None and usable else _NO_PASSWORD
    _, salt_hex, digest_hex = checked.split("$")
    candidate = _hash_password(password, bytes.fromhex(salt_hex)).split("$")[2]
    return hmac.compare_digest(candidate, digest_hex) and usable


def _check_phone(phone: str) -> str:
    phone = phone.strip()
    if not rules.valid_phone(phone):
        raise InvalidInput("enter an 11-digit mainland mobile number", field="phone")
    return phone


def create_user(
    session: Session,
    *,
    phone: str,
    password: str | None,
    nickname: str,
    role: str = "member",
    supplier_id: int | None = None,
) -> User:
    phone = _check_phone(phone)
    if role not in rules.ROLES:
        raise InvalidInput("unknown role", field="role")
    if role == "supplier" and supplier_id is None:
        raise InvalidInput("a supplier account belongs to a supplier", field="supplier_id")
    if password is not None and (problem := rules.password_problem(password)):
        raise InvalidInput(problem, field="password")
    nickname = nickname.strip() or f"用户{phone[-4:]}"
    if len(nickname) > 32:
        raise InvalidInput("the nickname may have at most 32 characters", field="nickname")
    if session.scalar(select(User.id).where(User.phone == phone)) is not None:
        raise PhoneTaken()
    user = User(
        phone=phone,
        password_hash=_hash_password(password) if password else None,
        nickname=nickname,
        role=role,
        supplier_id=supplier_id,
        token_version=0,
        created_at=clock.now(),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise PhoneTaken() from exc
    return user


class _ClockSigner(TimestampSigner):
    """Token ages are measured on the platform's clock (the one source of "now")."""

    def get_timestamp(self) -> int:
        return int(clock.now().replace(tzinfo=UTC).timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret.secret_key(), salt="tuangou-token", signer=_ClockSigner)


def issue_token(user: User) -> str:
    """A signed token naming the user, their role and their token version: logging out on
    every device bumps the version, and every token issued before stops working."""
    return _serializer().dumps([user.id, user.role, user.supplier_id, user.token_version or 0])


def principal_from_token(token: str) -> Principal:
    max_age = get_settings().token_ttl_days * 86400
    try:
        user_id, role, supplier_id, *rest = _serializer().loads(token, max_age=max_age)
        version = int(rest[0]) if rest else 0  # a token issued before versions: version 0
        user_id = int(user_id)
    except (BadSignature, SignatureExpired, ValueError, TypeError) as exc:
        raise Unauthenticated("the session has expired; log in again") from exc
    if version != _token_version(user_id):
        raise Unauthenticated("you were logged out on every device; log in again")
    return Principal(user_id, str(role), supplier_id)


# The users' token versions, read at most every few seconds per process: a token revoked by
# another process stops working within that time, one revoked by this process at once. The
# cache belongs to its engine (and goes with it), so it never mixes two databases.
TOKEN_VERSION_SECONDS = 5.0
_versions: weakref.WeakKeyDictionary[Engine, dict[int, tuple[int, float]]] = (
    weakref.WeakKeyDictionary()
)


def _token_version(user_id: int) -> int:
    cache = _versions.setdefault(get_engine(), {})
    now = time.monotonic()
    known = cache.get(user_id)
    if known is not None and now - known[1] < TOKEN_VERSION_SECONDS:
        return known[0]
    version = read(lambda s: s.scalar(select(User.token_version).where(User.id == user_id)))
    if version is None:
        raise Unauthenticated("this account no longer exists")
    cache[user_id] = (int(version), now)
    return int(version)


def log_out_everywhere(session: Session, user_id: int) -> None:
    """Every token of the user issued so far stops working (call :func:`forget_token_version`
    once this has committed)."""
    session.execute(
        update(User).where(User.id == user_id).values(token_version=User.token_version + 1)
    )


def forget_token_version(user_id: int) -> None:
    """Drop this process's cached token version of a user (after it changed)."""
    _versions.get(get_engine(), {}).pop(user_id, None)


# Wrong passwords allowed per phone number and per IP address, and SMS codes and sign-ups per
# IP address (SMS pumping, mass sign-ups), before the caller must wait for the window to end.
# The numbers are settings (TUANGOU_WRONG_PASSWORDS_PER_PHONE and so on).
WRONG_PASSWORDS_PER_PHONE = limits.Limit(
    "login_phone", "wrong_passwords_per_phone", timedelta(minutes=15), "too many wrong passwords"
)
WRONG_PASSWORDS_PER_IP = limits.Limit(
    "login_ip",
    "wrong_passwords_per_ip",
    timedelta(minutes=15),
    "too many wrong passwords from this address",
)
CODES_PER_IP = limits.Limit(
    "code_ip", "codes_per_ip", timedelta(hours=1), "too many codes from this address"
)
SIGNUPS_PER_IP = limits.Limit(
    "signup_ip", "signups_per_ip", timedelta(hours=1), "too many sign-ups from this address"
)


def login(session: Session, *, phone: str, password: str, ip: str | None = None) -> User:
    """Log in with a password. After too many wrong passwords for a phone number, or from an
    IP address, it is refused (``rate_limited``, with ``retry_after``) until the window ends,
    even with the right one."""
    phone = phone.strip()
    limits.check(WRONG_PASSWORDS_PER_PHONE, phone)
    limits.check(WRONG_PASSWORDS_PER_IP, ip)
    user = session.scalar(select(User).where(User.phone == phone))
    if not _check_password(password, user.password_hash if user else None) or user is None:
        limits.count(WRONG_PASSWORDS_PER_PHONE, phone)
        limits.count(WRONG_PASSWORDS_PER_IP, ip)
        raise BadCredentials()
    return user


def sign_up(
    session: Session,
    *,
    phone: str,
    password: str,
    nickname: str,
    address: dict[str, Any] | None = None,
    ip: str | None = None,
) -> User:
    """A member signs up (the API's and the page's sign-up), limited per IP address."""
    limits.take(session, SIGNUPS_PER_IP, ip)
    user = create_user(session, phone=phone, password=password, nickname=nickname)
    if address:
        update_profile(session, user.id, nickname=None, address=address)
    return user


def request_code(session: Session, *, phone: str, ip: str | None = None) -> None:
    """Send a one-time code: at most one a minute per phone, and a few an hour per IP."""
    phone = _check_phone(phone)
    now = clock.now()
    recent = session.scalar(
        select(func.max(OneTimeCode.created_at)).where(OneTimeCode.phone == phone)
    )
    if recent is not None and recent > now - CODE_RESEND:
        wait = int((recent + CODE_RESEND - now).total_seconds()) + 1
        raise RateLimited("a code was sent less than a minute ago", retry_after=wait)
    limits.take(session, CODES_PER_IP, ip)
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(
        OneTimeCode(
            phone=phone,
            code_hash=secret.sign(f"{phone}:{code}", "otp"),
            created_at=now,
            expires_at=now + CODE_TTL,
            attempts=0,
        )
    )
    session.flush()
    get_sender().send_code(phone, code)


def login_with_code(session: Session, *, phone: str, code: str, nickname: str = "") -> User:
    """Log in with a one-time code; a new phone number gets a new member account."""
    phone = _check_phone(phone)
    now = clock.now()
    row = session.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.phone == phone, OneTimeCode.used_at.is_(None))
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    if row is None or row.expires_at <= now or row.attempts >= CODE_ATTEMPTS:
        raise BadCode()
    if not secret.verify(f"{phone}:{code.strip()}", row.code_hash, "otp"):
        raise BadCode()
    row.used_at = now
    user = session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = create_user(session, phone=phone, password=None, nickname=nickname)
    return user


def count_failed_code(session: Session, *, phone: str) -> None:
    """A wrong code was tried (counted in its own transaction, since the refusal rolls back)."""
    row = session.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.phone == phone.strip(), OneTimeCode.used_at.is_(None))
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    if row is not None:
        row.attempts += 1


def get_user(session: Session, user_id: int) -> User:
    return get_or_404(session, User, user_id, UserNotFound)


def update_profile(
    session: Session, user_id: int, *, nickname: str | None, address: dict[str, Any] | None
) -> User:
    user = get_user(session, user_id)
    if nickname is not None:
        if not nickname.strip() or len(nickname.strip()) > 32:
            raise InvalidInput("the nickname needs 1 to 32 characters", field="nickname")
        user.nickname = nickname.strip()
    if address is not None:
        user.address = check_address(address)
    session.flush()
    return user


def check_address(address: dict[str, Any]) -> dict[str, Any]:
    name = str(address.get("name", "")).strip()
    phone = str(address.get("phone", "")).strip()
    line = str(address.get("line", "")).strip()
    if not name or not line:
        raise InvalidInput("an address needs a recipient name and an address line", field="address")
    if not rules.valid_phone(phone):
        raise InvalidInput("the recipient's phone number is not valid", field="address.phone")
    return {"name": name[:32], "phone": phone, "line": line[:200]}


def shipping_address(
    session: Session, user_id: int, given: dict[str, Any] | None
) -> dict[str, Any]:
    if given:
        return check_address(given)
    user = get_user(session, user_id)
    if not user.address:
        raise AddressRequired("add a shipping address to your profile, or give one with the order")
    return user.address


def masked(user: User) -> tuple[str, str]:
    """A user's nickname and phone as other members see them: (masked name, masked phone)."""
    return rules.mask_name(user.nickname), rules.mask_phone(user.phone)


def mask_phone(phone: str) -> str:
    """A phone number as others see it (138****0001)."""
    return rules.mask_phone(phone)


def masked_names(session: Session, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.nickname).where(User.id.in_(set(user_ids))))
    return {uid: rules.mask_name(nick) for uid, nick in rows}


def list_users(session: Session, *, role: str | None = None, limit: int = 100) -> list[User]:
    query = select(User).order_by(User.id).limit(limit)
    if role:
        query = query.where(User.role == role)
    return list(session.scalars(query))
