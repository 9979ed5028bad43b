"""The member's address book: where a team buy is shipped.

A member keeps up to ``rules.ADDRESSES_MAX`` entries; at most one is the default (the first
entry added becomes it; deleting the default makes the newest remaining entry the default).
Checkout takes an entry by id (:func:`shipping_address`) and the order keeps a **copy** of it
(``orders.address``): editing or deleting the entry later never changes a placed order.
Another member's entry is "not found" (404), never "forbidden", so ids reveal nothing.
The profile's ``users.address`` is kept equal to the default entry's copy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tuangou.accounts import rules
from tuangou.accounts.errors import AccountErrorCode
from tuangou.accounts.models import MemberAddress, User
from tuangou.core import clock
from tuangou.core.errors import Conflict, DomainError, InvalidInput, NotFound


class AddressNotFound(NotFound):
    code = AccountErrorCode.ADDRESS_NOT_FOUND
    title = "No such address in your address book"


class AddressBookFull(Conflict):
    code = AccountErrorCode.ADDRESS_BOOK_FULL
    title = "The address book is full; delete an address first"


class AddressRequired(DomainError):
    code = AccountErrorCode.ADDRESS_REQUIRED
    status = 422
    title = "A shipping address is required"


def snapshot(entry: MemberAddress) -> dict[str, Any]:
    """The copy an order keeps (and the profile shows): ``line`` is the detail line;
    ``region`` is left out when empty (an address given the old way, as one line)."""
    copy = {"name": entry.name, "phone": entry.phone, "line": entry.detail}
    if entry.region:
        copy["region"] = entry.region
    return copy


def one_line(address: dict[str, Any] | None) -> str:
    """An address copy as one line of text (region, then the detail line)."""
    if not address:
        return ""
    return " ".join(str(address.get(k) or "") for k in ("region", "line")).strip()


def _clean(
    name: str, phone: str, region: str, detail: str, need_region: bool = True
) -> tuple[str, str, str, str]:
    values = (name.strip(), phone.strip(), " ".join(region.split()), detail.strip())
    problem = rules.address_problem(*values, need_region=need_region)
    if problem is not None:
        field, message = problem
        raise InvalidInput(message, field=field)
    return values


def list_addresses(session: Session, user_id: int) -> list[MemberAddress]:
    """The member's entries: the default first, then the newest."""
    query = (
        select(MemberAddress)
        .where(MemberAddress.user_id == user_id)
        .order_by(MemberAddress.is_default.desc(), MemberAddress.id.desc())
    )
    return list(session.scalars(query))


def get_address(session: Session, user_id: int, address_id: int) -> MemberAddress:
    """The member's own entry; another member's (or none) is :class:`AddressNotFound`."""
    entry = session.get(MemberAddress, address_id)
    if entry is None or entry.user_id != user_id:
        raise AddressNotFound()
    return entry


def default_address(session: Session, user_id: int) -> MemberAddress | None:
    query = select(MemberAddress).where(
        MemberAddress.user_id == user_id, MemberAddress.is_default.is_(True)
    )
    return session.scalars(query.limit(1)).first()


def _sync_profile(session: Session, user_id: int) -> None:
    """Keep ``users.address`` equal to the default entry's copy (or empty)."""
    entry = default_address(session, user_id)
    user = session.get(User, user_id)
    if user is not None:
        user.address = snapshot(entry) if entry is not None else None


def _make_default(session: Session, entry: MemberAddress) -> None:
    session.execute(
        update(MemberAddress)
        .where(MemberAddress.user_id == entry.user_id, MemberAddress.id != entry.id)
        .values(is_default=False)
    )
    entry.is_default = True


def add_address(
    session: Session,
    user_id: int,
    *,
    name: str,
    phone: str,
    region: str,
    detail: str,
    make_default: bool = False,
    need_region: bool = True,
) -> MemberAddress:
    """Add an entry (validated, bounded); the member's first entry is their default."""
    name, phone, region, detail = _clean(name, phone, region, detail, need_region)
    count = session.scalar(
        select(func.count()).select_from(MemberAddress).where(MemberAddress.user_id == user_id)
    )
    if (count or 0) >= rules.ADDRESSES_MAX:
        raise AddressBookFull(f"at most {rules.ADDRESSES_MAX} addresses")
    now = clock.now()
    entry = MemberAddress(
        user_id=user_id,
        name=name,
        phone=phone,
        region=region,
        detail=detail,
        is_default=False,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    if make_default or not count:
        _make_default(session, entry)
    _sync_profile(session, user_id)
    session.flush()
    return entry


def update_address(
    session: Session,
    user_id: int,
    address_id: int,
    *,
    name: str,
    phone: str,
    region: str,
    detail: str,
    make_default: bool = False,
    need_region: bool = True,
) -> MemberAddress:
    """Edit an entry. Orders placed with it keep the copy they took."""
    entry = get_address(session, user_id, address_id)
    cleaned = _clean(name, phone, region, detail, need_region)
    entry.name, entry.phone, entry.region, entry.detail = cleaned
    entry.updated_at = clock.now()
    if make_default:
        _make_default(session, entry)
    session.flush()
    _sync_profile(session, user_id)
    session.flush()
    return entry


def set_default(session: Session, user_id: int, address_id: int) -> MemberAddress:
    entry = get_address(session, user_id, address_id)
    _make_default(session, entry)
    session.flush()
    _sync_profile(session, user_id)
    session.flush()
    return entry


def delete_address(session: Session, user_id: int, address_id: int) -> None:
    """Delete an entry; if it was the default, the newest remaining one becomes it."""
    entry = get_address(session, user_id, address_id)
    was_default = entry.is_default
    session.delete(entry)
    session.flush()
    if was_default:
        rest = list_addresses(session, user_id)
        if rest:
            _make_default(session, rest[0])
            session.flush()
    _sync_profile(session, user_id)
    session.flush()


def save_profile_address(session: Session, user_id: int, address: dict[str, Any]) -> None:
    """The profile's (and sign-up's) single address: it edits the default entry, or adds
    the first one."""
    name = str(address.get("name", ""))
    phone = str(address.get("phone", ""))
    region = str(address.get("region") or "")
    detail = str(address.get("line", ""))
    entry = default_address(session, user_id)
    if entry is None:
        add_address(
            session,
            user_id,
            name=name,
            phone=phone,
            region=region,
            detail=detail,
            make_default=True,
            need_region=False,
        )
    else:
        update_address(
            session,
            user_id,
            entry.id,
            name=name,
            phone=phone,
            region=region,
            detail=detail,
            need_region=False,
        )


def shipping_address(
    session: Session,
    user_id: int,
    *,
    address_id: int | None = None,
    given: dict[str, Any] | None = None,
    checked: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The copy an order takes: the entry ``address_id`` (the member's own, else 404); or an
    address ``checked`` given with the order; else the default entry; else the profile's
    address; else :class:`AddressRequired`."""
    if address_id is not None:
        return snapshot(get_address(session, user_id, address_id))
    if checked:
        return checked
    entry = default_address(session, user_id)
    if entry is not None:
        return snapshot(entry)
    user = session.get(User, user_id)
    if user is not None and user.address:
        return dict(user.address)
    raise AddressRequired("add an address to your address book and choose it for the order")


def export(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The member's address book as their data export carries it."""
    return [
        {
            "id": e.id,
            "name": e.name,
            "phone": e.phone,
            "region": e.region,
            "detail": e.detail,
            "is_default": e.is_default,
            "created_at": clock.iso(e.created_at),
            "updated_at": clock.iso(e.updated_at),
        }
        for e in list_addresses(session, user_id)
    ]


def erase_all(session: Session, user_id: int) -> int:
    """Delete the member's whole address book (their account's deletion)."""
    result = session.execute(delete(MemberAddress).where(MemberAddress.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]
