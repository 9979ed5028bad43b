"""Coupons (优惠券) and the level discount at checkout.

The operator keeps a catalogue; members buy coupons with points (``points.service.spend``,
idempotent on the purchase's key; the stock and the per-member limit are guarded UPDATEs);
at checkout of a team, wave, bargain or flash order the member's level discount and an
optional coupon come off the price through the one path of the orders domain
(:data:`DISCOUNTER`, registered by the composition root): the coupon is taken onto the order
by one guarded UPDATE, and given back when the order is released unpaid or refunded in full
before the coupon expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.db import execute, table, upsert_insert
from tuangou.coupons import errors, rules
from tuangou.coupons.models import Coupon, CouponHolding, MemberCoupon
from tuangou.coupons.rules import ORDER_KINDS as ORDER_KINDS
from tuangou.coupons.rules import Form as Form
from tuangou.coupons.rules import Status as Status
from tuangou.coupons.rules import Terms as Terms
from tuangou.orders import service as orders
from tuangou.points import service as points

if TYPE_CHECKING:
    from tuangou.orders.models import Order

SPEND_REASON = "coupon"


# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class CouponData:
    """What the operator sets for a coupon."""

    name: str
    form: str
    points_price: int
    kinds: tuple[str, ...]
    stock: int
    amount: int = 0
    percent_bps: int = 0
    cap: int | None = None
    min_spend: int = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = None
    per_member_limit: int = 1
    active: bool = True


def _terms_of(row: Coupon | MemberCoupon) -> Terms:
    return Terms(
        form=row.form,
        amount=row.amount,
        percent_bps=row.percent_bps,
        cap=row.cap,
        min_spend=row.min_spend,
        kinds=tuple(k for k in row.kinds.split(",") if k),
    )


def terms_of(row: Coupon | MemberCoupon) -> Terms:
    return _terms_of(row)


def _check(data: CouponData) -> None:
    name = data.name.strip()
    if not name or len(name) > 60:
        raise errors.InvalidCoupon("a name of 1 to 60 characters", field="name")
    terms = Terms(
        form=data.form,
        amount=data.amount if data.form == Form.FIXED else 0,
        percent_bps=data.percent_bps if data.form == Form.PERCENT else 0,
        cap=data.cap if data.form == Form.PERCENT else None,
        min_spend=data.min_spend,
        kinds=data.kinds,
    )
    why = rules.check_terms(terms)
    if why:
        raise errors.InvalidCoupon(why)
    if data.points_price < 1:
        raise errors.InvalidCoupon("a coupon costs at least 1 point", field="points_price")
    if data.stock < 0:
        raise errors.InvalidCoupon("the stock cannot be negative", field="stock")
    if data.per_member_limit < 1:
        raise errors.InvalidCoupon("a member may hold at least 1", field="per_member_limit")
    if data.valid_until is None and data.valid_days is None:
        raise errors.InvalidCoupon("give a window's end or a number of days", field="valid_days")
    if data.valid_days is not None and not 1 <= data.valid_days <= 3660:
        raise errors.InvalidCoupon("between 1 and 3660 days", field="valid_days")
    if (
        data.valid_from is not None
        and data.valid_until is not None
        and data.valid_until <= data.valid_from
    ):
        raise errors.InvalidCoupon("the window ends after it starts", field="valid_until")


def _values(data: CouponData) -> dict[str, object]:
    fixed = data.form == Form.FIXED
    return {
        "name": data.name.strip(),
        "form": data.form,
        "amount": data.amount if fixed else 0,
        "percent_bps": 0 if fixed else data.percent_bps,
        "cap": None if fixed else data.cap,
        "min_spend": data.min_spend,
        "points_price": data.points_price,
        "kinds": ",".join(k for k in ORDER_KINDS if k in data.kinds),
        "valid_from": data.valid_from,
        "valid_until": data.valid_until,
        "valid_days": data.valid_days,
        "stock": data.stock,
        "per_member_limit": data.per_member_limit,
        "active": data.active,
    }


def create(session: Session, data: CouponData) -> Coupon:
    _check(data)
    now = clock.now()
    coupon = Coupon(**_values(data), created_at=now, updated_at=now)
    session.add(coupon)
    session.flush()
    return coupon


def edit(session: Session, coupon_id: int, data: CouponData) -> Coupon:
    """Change a coupon's terms (coupons already bought keep theirs) and set its stock."""
    coupon = get(session, coupon_id)
    _check(data)
    session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id)
        .values(**_values(data), updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    session.refresh(coupon)
    return coupon


def set_active(session: Session, coupon_id: int, active: bool) -> Coupon:
    """Pause a coupon (no more sales; coupons already bought still apply) or resume it."""
    coupon = get(session, coupon_id)
    session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id)
        .values(active=active, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    session.refresh(coupon)
    return coupon


def get(session: Session, coupon_id: int) -> Coupon:
    coupon = session.get(Coupon, coupon_id)
    if coupon is None:
        raise errors.CouponNotFound()
    return coupon


def catalogue(session: Session, *, on_offer: bool = False) -> list[Coupon]:
    """The catalogue; ``on_offer``: only what a member can buy now (active, in its window)."""
    query = select(Coupon).order_by(Coupon.id)
    if on_offer:
        now = clock.now()
        query = query.where(
            Coupon.active.is_(True),
            (Coupon.valid_from.is_(None)) | (Coupon.valid_from <= now),
            (Coupon.valid_until.is_(None)) | (Coupon.valid_until > now),
        )
    return list(session.scalars(query))


# ---------------------------------------------------------------- buying with points


def buy(session: Session, *, user_id: int, coupon_id: int, key: str) -> MemberCoupon:
    """Buy a coupon with points, once per ``key`` (a retry returns the coupon bought).

    Refusals (nothing changes): ``coupon_paused``, ``coupon_expired`` (outside its window),
    ``coupon_sold_out``, ``coupon_limit_reached``, ``not_enough_points``."""
    key = key.strip()
    if not key or len(key) > 64:
        raise errors.InvalidCoupon("a purchase needs a key of 1 to 64 characters", field="key")
    done = session.scalar(
        select(MemberCoupon).where(MemberCoupon.user_id == user_id, MemberCoupon.key == key)
    )
    if done is not None:
        return done
    coupon = get(session, coupon_id)
    now = clock.now()
    if not coupon.active:
        raise errors.Paused()
    if (coupon.valid_from is not None and coupon.valid_from > now) or (
        coupon.valid_until is not None and coupon.valid_until <= now
    ):
        raise errors.Expired("this coupon is not on offer at this time")
    taken = session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id, Coupon.stock >= 1, Coupon.active.is_(True))
        .values(stock=Coupon.stock - 1)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        raise errors.SoldOut()
    holdings = table(CouponHolding)
    counted = execute(
        session,
        upsert_insert(session)(holdings)
        .values(coupon_id=bindparam("b_coupon"), user_id=bindparam("b_user"), bought=1)
        .on_conflict_do_update(
            index_elements=["coupon_id", "user_id"],
            set_={"bought": holdings.c.bought + 1},
            where=holdings.c.bought + 1 <= bindparam("b_limit"),
        ),
        {"b_coupon": coupon.id, "b_user": user_id, "b_limit": coupon.per_member_limit},
    ).rowcount
    if not counted:
        raise errors.LimitReached(f"at most {coupon.per_member_limit} per member")
    session.refresh(coupon)
    mine = MemberCoupon(
        coupon_id=coupon.id,
        user_id=user_id,
        key=key,
        name=coupon.name,
        form=coupon.form,
        amount=coupon.amount,
        percent_bps=coupon.percent_bps,
        cap=coupon.cap,
        min_spend=coupon.min_spend,
        kinds=coupon.kinds,
        points_paid=coupon.points_price,
        status=Status.AVAILABLE,
        acquired_at=now,
        expires_at=rules.expiry(now, coupon.valid_until, coupon.valid_days),
    )
    session.add(mine)
    session.flush()
    # The member's points row is taken last (after every other lock of the path).
    points.spend(
        session,
        user_id=user_id,
        points=coupon.points_price,
        reason=SPEND_REASON,
        key=str(mine.id),
    )
    return mine


def mine(session: Session, user_id: int) -> list[MemberCoupon]:
    """The member's coupons, newest first."""
    return list(
        session.scalars(
            select(MemberCoupon)
            .where(MemberCoupon.user_id == user_id)
            .order_by(MemberCoupon.id.desc())
        )
    )


def shown_status(coupon: MemberCoupon) -> str:
    return rules.shown_status(coupon.status, coupon.expires_at, clock.now())


def get_mine(session: Session, user_id: int, member_coupon_id: int) -> MemberCoupon:
    row = session.get(MemberCoupon, member_coupon_id)
    if row is None or row.user_id != user_id:
        raise errors.CouponNotFound()
    return row


# ---------------------------------------------------------------- checkout


@dataclass(frozen=True)
class Quote:
    """The price at checkout: before discounts, the level's discount, the coupon's, to pay."""

    list_amount: int
    level_name: str
    level_bps: int
    level_discount: int
    coupon_discount: int

    @property
    def to_pay(self) -> int:
        return self.list_amount - self.level_discount - self.coupon_discount


def _refuse(row: MemberCoupon, kind: str, list_amount: int) -> None:
    why = rules.refusal(_terms_of(row), kind, list_amount)
    if why == "kind":
        raise errors.NotApplicable(
            f"this coupon applies to {', '.join(row.kinds.split(','))} orders", field="coupon_id"
        )
    if why == "minimum":
        raise errors.NotApplicable(
            f"this coupon needs a spend of at least {row.min_spend} fen", field="coupon_id"
        )


def _state_refusal(row: MemberCoupon) -> None:
    if row.status == Status.USED:
        raise errors.Used(field="coupon_id")
    if row.status == Status.EXPIRED or row.expires_at <= clock.now():
        raise errors.Expired(field="coupon_id")


def quote(
    session: Session,
    *,
    user_id: int,
    kind: str,
    list_amount: int,
    coupon_id: int | None = None,
) -> Quote:
    """What the member would pay (nothing is taken): for the checkout pages."""
    level = points.level_of(session, user_id)
    bps = level.discount_bps if kind in ORDER_KINDS else 0
    off_level = rules.level_discount(list_amount, bps)
    off_coupon = 0
    if coupon_id is not None:
        row = get_mine(session, user_id, coupon_id)
        _state_refusal(row)
        _refuse(row, kind, list_amount)
        off_coupon = rules.coupon_discount(_terms_of(row), list_amount - off_level)
    return Quote(list_amount, level.name, bps, off_level, off_coupon)


def usable(session: Session, *, user_id: int, kind: str, list_amount: int) -> list[MemberCoupon]:
    """The member's coupons that would apply to an order of ``kind`` at ``list_amount``."""
    now = clock.now()
    return [
        row
        for row in session.scalars(
            select(MemberCoupon)
            .where(
                MemberCoupon.user_id == user_id,
                MemberCoupon.status == Status.AVAILABLE,
                MemberCoupon.expires_at > now,
            )
            .order_by(MemberCoupon.expires_at, MemberCoupon.id)
        )
        if rules.refusal(_terms_of(row), kind, list_amount) is None
    ]


def price(session: Session, order: Order, coupon_id: int | None) -> tuple[int, int, int | None]:
    """The orders domain's discounter: the level discount, then the coupon, taken onto the
    order by one guarded UPDATE (of two orders using one coupon at once, one gets it)."""
    if order.kind not in ORDER_KINDS:
        if coupon_id is not None:
            raise errors.NotApplicable("coupons do not apply to this order", field="coupon_id")
        return 0, 0, None
    got = quote(session, user_id=order.user_id, kind=order.kind, list_amount=order.amount)
    if coupon_id is None:
        return got.level_discount, 0, None
    row = get_mine(session, order.user_id, coupon_id)
    _refuse(row, order.kind, order.amount)
    now = clock.now()
    taken = session.execute(
        update(MemberCoupon)
        .where(
            MemberCoupon.id == row.id,
            MemberCoupon.user_id == order.user_id,
            MemberCoupon.status == Status.AVAILABLE,
            MemberCoupon.expires_at > now,
        )
        .values(status=Status.USED, order_id=order.id, used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(row)
    if not taken:
        _state_refusal(row)
        raise errors.Used(field="coupon_id")
    off = rules.coupon_discount(_terms_of(row), order.amount - got.level_discount)
    return got.level_discount, off, row.id


def give_back(session: Session, order: Order) -> None:
    """The order was released unpaid or refunded in full: its coupon is available again
    with the same expiry, unless that has passed (then it stays expired)."""
    if order.coupon_id is None:
        return
    now = clock.now()
    row = session.get(MemberCoupon, order.coupon_id)
    if row is None or row.order_id != order.id:
        return
    if order.paid_at is not None and row.expires_at <= now:
        values: dict[str, object] = {"status": Status.EXPIRED, "order_id": None}
    else:
        values = {"status": Status.AVAILABLE, "order_id": None, "used_at": None}
    session.execute(
        update(MemberCoupon)
        .where(
            MemberCoupon.id == row.id,
            MemberCoupon.status == Status.USED,
            MemberCoupon.order_id == order.id,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)


DISCOUNTER = orders.Discounter(price=price, give_back=give_back)


def on_order(session: Session, order_id: int) -> MemberCoupon | None:
    return session.scalar(select(MemberCoupon).where(MemberCoupon.order_id == order_id))
