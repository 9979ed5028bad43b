"""Members, suppliers' staff and operators: sign-up, log-in (password or SMS code), tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, func, null, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tuangou.accounts import addresses, rules
from tuangou.accounts.errors import AccountErrorCode
from tuangou.accounts.models import OneTimeCode, PageSession, User
from tuangou.accounts.sms import get_sender
from tuangou.core import clock, limits, locks, secret
from tuangou.core.config import get_settings
from tuangou.core.db import get_engine, get_or_404, read
from tuangou.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from tuangou.core.locks import Rank


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


class UserNotFound(NotFound):
    code = AccountErrorCode.USER_NOT_FOUND
    title = "No such user"


class StaffAccount(Forbidden):
    code = AccountErrorCode.STAFF_ACCOUNT
    title = "Staff accounts cannot buy or apply to lead; use a member account"


@dataclass(frozen=True)
class Principal:
    """Who is calling: decoded from the bearer token, no database read."""

    user_id: int
    role: str
    supplier_id: int | None


def require_buyer(who: Principal) -> Principal:
    """The caller, if their account may buy and apply to lead (a member account); else
    :class:`StaffAccount` (an operator or a supplier's staff keeps a member account for that)."""
    if not rules.may_buy(who.role):
        raise StaffAccount()
    return who


CODE_TTL = timedelta(minutes=5)
CODE_RESEND = timedelta(seconds=60)
CODE_ATTEMPTS = 5


# scrypt's cost: n (CPU and memory, a power of two), r (block size), p (parallelism). The
# cost is part of each stored hash ("scrypt$n$r$p$salt$digest"), so a change of
# ``password_hash_n`` applies to new passwords and every stored one still verifies. Hashes
# of the first form ("scrypt$salt$digest") were made at the cost below.
SCRYPT_R = 8
SCRYPT_P = 1
_LEGACY_COST = (2**14, 8, 1)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # 128 * n * r bytes of memory; the default limit (32 MiB) is too small past n = 2**15.
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r * p + 2**20
    )


def _hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    n, r, p = get_settings().password_hash_n, SCRYPT_R, SCRYPT_P
    digest = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def _parse_hash(stored: str) -> tuple[int, int, int, bytes, str] | None:
    """(n, r, p, salt, digest hex) of a stored hash, or None when it is not one."""
    parts = stored.split("$")
    try:
        if len(parts) == 3 and parts[0] == "scrypt":
            n, r, p = _LEGACY_COST
            return n, r, p, bytes.fromhex(parts[1]), parts[2]
        if len(parts) == 6 and parts[0] == "scrypt":
            n, r, p = (int(v) for v in parts[1:4])
            if n < 2 or n & (n - 1) or n > 2**20 or not 1 <= r <= 32 or not 1 <= p <= 4:
                return None
            return n, r, p, bytes.fromhex(parts[4]), parts[5]
    except ValueError:
        return None
    return None


def _check_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored``. Without a usable hash (an unknown phone, an
    account that logs in by SMS code only) a hash at the current cost is still computed, so
    that a refusal takes as long as a wrong password does and does not tell which phone
    numbers have accounts."""
    parsed = _parse_hash(stored) if stored is not None else None
    if parsed is None:
        _scrypt(password, b"\0" * 16, get_settings().password_hash_n, SCRYPT_R, SCRYPT_P)
        return False
    n, r, p, salt, digest_hex = parsed
    candidate = _scrypt(password, salt, n, r, p).hex()
    return hmac.compare_digest(candidate, digest_hex)


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
    who, version = _signed(token)
    if version != _token_version(who.user_id):
        raise Unauthenticated("you were logged out on every device; log in again")
    return who


def principal_from_signature(token: str) -> Principal:
    """The caller a token names, from its signature and age alone: no database read, and so
    no check that it was not revoked ("log out on every device"). Only for answers that
    reveal nothing and change nothing (a flash sale refused as sold out, from memory);
    everything else uses :func:`principal_from_token`."""
    return _signed(token)[0]


def _signed(token: str) -> tuple[Principal, int]:
    max_age = get_settings().token_ttl_days * 86400
    try:
        user_id, role, supplier_id, *rest = _serializer().loads(token, max_age=max_age)
        version = int(rest[0]) if rest else 0  # a token issued before versions: version 0
        user_id = int(user_id)
    except (BadSignature, SignatureExpired, ValueError, TypeError) as exc:
        raise Unauthenticated("the session has expired; log in again") from exc
    return Principal(user_id, str(role), supplier_id), version


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
    once this has committed), and every page session of the user ends."""
    session.execute(
        update(User).where(User.id == user_id).values(token_version=User.token_version + 1)
    )
    end_page_sessions(session, user_id)


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


# What else happens when a member signs up with an invite code (the referral binding),
# in the same transaction: a hook that refuses the code refuses the sign-up.
_signup_hooks: list[Callable[[Session, int, str | None], None]] = []


def register_signup_hook(hook: Callable[[Session, int, str | None], None]) -> None:
    if hook not in _signup_hooks:
        _signup_hooks.append(hook)


def sign_up(
    session: Session,
    *,
    phone: str,
    password: str,
    nickname: str,
    address: dict[str, Any] | None = None,
    ip: str | None = None,
    invite_code: str | None = None,
) -> User:
    """A member signs up (the API's and the page's sign-up), limited per IP address; with an
    invite code, they are bound to the member who invited them."""
    limits.take(session, SIGNUPS_PER_IP, ip)
    user = create_user(session, phone=phone, password=password, nickname=nickname)
    if address:
        update_profile(session, user.id, nickname=None, address=address)
    for hook in _signup_hooks:
        hook(session, user.id, invite_code)
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
        addresses.save_profile_address(session, user_id, check_address(address))
    session.flush()
    return user


def check_address(address: dict[str, Any]) -> dict[str, Any]:
    name = str(address.get("name", "")).strip()
    phone = str(address.get("phone", "")).strip()
    line = str(address.get("line", "")).strip()
    region = " ".join(str(address.get("region") or "").split())
    if not name or not line:
        raise InvalidInput("an address needs a recipient name and an address line", field="address")
    if not rules.valid_phone(phone):
        raise InvalidInput("the recipient's phone number is not valid", field="address.phone")
    checked = {"name": name[:32], "phone": phone, "line": line[:200]}
    if region:
        checked["region"] = region[: rules.ADDRESS_REGION_MAX]
    return checked


def shipping_address(
    session: Session,
    user_id: int,
    given: dict[str, Any] | None = None,
    *,
    address_id: int | None = None,
) -> dict[str, Any]:
    """The address an order of ``user_id`` ships to, as the copy the order keeps: the
    address book's entry ``address_id``, or an address given with the order, else the
    default entry (see :func:`tuangou.accounts.addresses.shipping_address`)."""
    if address_id is not None and given:
        raise InvalidInput("give either an address id or an address, not both", field="address")
    checked = check_address(given) if given else None
    return addresses.shipping_address(session, user_id, address_id=address_id, checked=checked)


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


# ---------------------------------------------------------------- page sessions
#
# The pages' log-in is a row of ``web_sessions``: the browser's cookie holds a random id (256
# bits, from ``secrets``), the row only its SHA-256, so neither the cookie nor the table says
# who is logged in to anyone without the other. Log-out deletes the row; "log out on every
# device" deletes all of a user's; the worker deletes the expired ones.


@dataclass(frozen=True)
class PageSessionState:
    """What a page knows of its logged-in session, from one read of its row."""

    who: Principal
    csrf: str
    data: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime


def _session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _session_times() -> tuple[timedelta, timedelta]:
    settings = get_settings()
    return (
        timedelta(hours=settings.web_session_idle_hours),
        timedelta(days=settings.web_session_max_days),
    )


def open_page_session(
    session: Session, user: User, *, replacing: str | None = None
) -> tuple[str, PageSessionState]:
    """A new page session for ``user`` (at log-in): its id, for the cookie, and its state.
    The session the browser had before (``replacing``) ends: an id known before the log-in
    is never the logged-in one (no fixation)."""
    if replacing:
        end_page_session(session, replacing)
    idle, lifetime = _session_times()
    now = clock.now()
    session_id = secrets.token_urlsafe(32)
    state = PageSessionState(
        who=Principal(user.id, user.role, user.supplier_id),
        csrf=secrets.token_urlsafe(24),
        data={},
        created_at=now,
        last_seen_at=now,
    )
    session.add(
        PageSession(
            id_hash=_session_key(session_id),
            user_id=user.id,
            role=user.role,
            supplier_id=user.supplier_id,
            csrf=state.csrf,
            data={},
            created_at=now,
            last_seen_at=now,
            expires_at=rules.session_expiry(now, now, idle=idle, lifetime=lifetime),
        )
    )
    session.flush()
    return session_id, state


def find_page_session(session: Session, session_id: str) -> PageSessionState | None:
    """The live page session with this id (one read by primary key), or None: unknown,
    ended, idle too long, or past its lifetime."""
    row = session.get(PageSession, _session_key(session_id))
    if row is None:
        return None
    idle, lifetime = _session_times()
    now = clock.now()
    alive = rules.session_alive(row.created_at, row.last_seen_at, now, idle=idle, lifetime=lifetime)
    if not alive or now >= row.expires_at:
        return None
    return PageSessionState(
        who=Principal(row.user_id, row.role, row.supplier_id),
        csrf=row.csrf,
        data=dict(row.data or {}),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
    )


def renewal_due(state: PageSessionState) -> bool:
    """Whether a request now writes the session's renewal (at most once an interval)."""
    return rules.session_renewal_due(state.last_seen_at, clock.now())


def save_page_session(
    session: Session,
    session_id: str,
    state: PageSessionState,
    *,
    data: dict[str, Any] | None = None,
) -> bool:
    """Write what a request changed: the renewal, when due, and the pages' state (``data``,
    when it changed). A renewal alone is a compare-and-set on the last renewal read, so
    requests racing write it once; nothing brings back a session that has ended."""
    renew = renewal_due(state)
    if not renew and data is None:
        return False
    values: dict[str, Any] = {}
    if data is not None:
        values["data"] = data
    if renew:
        idle, lifetime = _session_times()
        now = clock.now()
        values["last_seen_at"] = now
        values["expires_at"] = rules.session_expiry(
            state.created_at, now, idle=idle, lifetime=lifetime
        )
    stmt = update(PageSession).where(PageSession.id_hash == _session_key(session_id))
    if data is None:
        stmt = stmt.where(PageSession.last_seen_at == state.last_seen_at)
    done = session.execute(stmt.values(**values)).rowcount  # type: ignore[attr-defined]
    return bool(done)


def end_page_session(session: Session, session_id: str) -> None:
    """Log-out: the session ends (its id stops working at once, wherever it was copied)."""
    session.execute(delete(PageSession).where(PageSession.id_hash == _session_key(session_id)))


def end_page_sessions(session: Session, user_id: int) -> int:
    """Every page session of a user ends (log out on every device)."""
    result = session.execute(delete(PageSession).where(PageSession.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def expired_page_sessions(session: Session, *, limit: int = 500) -> list[str]:
    """Up to ``limit`` page sessions past their expiry (a range of an index), by the key of
    their row. A session whose settings were shortened since its last renewal is refused at
    once (:func:`find_page_session`), and listed here when the expiry written then comes."""
    due = (
        select(PageSession.id_hash)
        .where(PageSession.expires_at <= clock.now())
        .order_by(PageSession.expires_at)
        .limit(limit)
    )
    return list(session.scalars(due))


def forget_page_sessions(session: Session, keys: list[str]) -> int:
    """Delete the rows of these expired sessions (a renewal since listed them is kept)."""
    if not keys:
        return 0
    result = session.execute(
        delete(PageSession).where(
            PageSession.id_hash.in_(keys), PageSession.expires_at <= clock.now()
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- privacy
#
# A member's account is deleted by anonymising its row (the privacy domain decides when it
# may be, and asks every domain to erase what it holds): orders, the ledger and commission
# lines keep naming the user id, under the pseudonym ``rules.DELETED_NICKNAME``.


class AccountDeleted(Forbidden):
    code = AccountErrorCode.ACCOUNT_DELETED
    title = "This account was deleted"


def lock_member(session: Session, user_id: int) -> User:
    """The member's row, locked for the account's deletion (rank MEMBER of the lock order,
    the only lock the deletion takes before changing rows of its own)."""
    locks.lock(session, Rank.MEMBER, User.id, [user_id])
    user = get_user(session, user_id)
    session.refresh(user)
    return user


def require_open_account(session: Session, user_id: int) -> None:
    """Refuse (``account_deleted``) an order for an account that was deleted. On PostgreSQL
    the member's row is read ``FOR SHARE``: orders being placed never wait for each other on
    it, and a deletion (``FOR UPDATE``) waits for them, or they for it and then see it."""
    query = select(User.deleted_at).where(User.id == user_id)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(read=True)
    if session.execute(query).scalar_one_or_none() is not None:
        raise AccountDeleted()


def is_deleted(user: User) -> bool:
    return user.deleted_at is not None


def anonymise(session: Session, user_id: int) -> bool:
    """Anonymise a member's account: the pseudonym for the nickname, the phone number freed,
    no password, no address (the book emptied), every token and page session revoked, the
    SMS codes of the number forgotten. False if it was already done (idempotent). Call
    :func:`forget_token_version` once committed."""
    user = get_user(session, user_id)
    if user.deleted_at is not None:
        return False
    phone = user.phone
    session.execute(
        update(User)
        .where(User.id == user_id, User.deleted_at.is_(None))
        .values(
            nickname=rules.DELETED_NICKNAME,
            phone=rules.deleted_phone(user_id),
            password_hash=None,
            address=null(),
            token_version=User.token_version + 1,
            deleted_at=clock.now(),
        )
        .execution_options(synchronize_session=False)
    )
    addresses.erase_all(session, user_id)
    end_page_sessions(session, user_id)
    session.execute(delete(OneTimeCode).where(OneTimeCode.phone == phone))
    session.refresh(user)
    return True


def profile_export(session: Session, user_id: int) -> dict[str, Any]:
    """The member's own profile as the data export carries it (no secrets)."""
    user = get_user(session, user_id)
    return {
        "id": user.id,
        "phone": user.phone,
        "nickname": user.nickname,
        "role": user.role,
        "address": user.address,
        "created_at": clock.iso(user.created_at),
        "addresses": addresses.export(session, user_id),
        "page_sessions": [
            {
                "created_at": clock.iso(row.created_at),
                "last_seen_at": clock.iso(row.last_seen_at),
                "expires_at": clock.iso(row.expires_at),
            }
            for row in session.scalars(
                select(PageSession)
                .where(PageSession.user_id == user_id)
                .order_by(PageSession.created_at)
            )
        ],
    }


def purge_codes(session: Session, *, before: datetime, limit: int = 1000) -> int:
    """Delete one-time login codes made before ``before`` (the retention), up to ``limit``."""
    ids = list(
        session.scalars(select(OneTimeCode.id).where(OneTimeCode.created_at < before).limit(limit))
    )
    if not ids:
        return 0
    session.execute(delete(OneTimeCode).where(OneTimeCode.id.in_(ids)))
    return len(ids)


def purge_sessions(session: Session, *, before: datetime, limit: int = 1000) -> int:
    """End page sessions logged in before ``before`` (the retention), up to ``limit``."""
    keys = list(
        session.scalars(
            select(PageSession.id_hash).where(PageSession.created_at < before).limit(limit)
        )
    )
    if not keys:
        return 0
    session.execute(delete(PageSession).where(PageSession.id_hash.in_(keys)))
    return len(keys)
