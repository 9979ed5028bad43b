"""Referral (分销 / 会员合伙人): invite codes, the binding of a new member to their inviter,
and the two-level commission on an invitee's completed orders.

* A member is bound once, at signup, to the member whose code they came with; never rebound.
  The binding lasts forever or the operator's number of days.
* At completion (any kind of order that settles through escrow) level 1 (the buyer's
  inviter) and level 2 (the inviter's inviter) earn a rate of the order's kept amount,
  taken from the supplier's part of the release: with the leader's commission, the
  override and the operator's fee they never exceed what escrow released. Whether a
  referrer may earn (the operator's mode) and whether the bindings hold are judged then.
* The commission is frozen through the after-sale window, then available, and withdrawn
  through the leaders' withdrawal flow (a wallet of kind "referral").
* An after-sale refund takes it back in proportion, cumulatively (refunds adding up to the
  whole release take the whole share back). Still frozen: from the frozen balance. Already
  available: from the available balance, and what was withdrawn meanwhile becomes a
  **debt**, never a negative balance, paid off first from commission that becomes available
  later.

Every balance change is a ledger transfer and a guarded update of the member's wallet row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.commission import service as commission
from tuangou.core import clock, outbox
from tuangou.core.db import get_or_404, table, upsert_insert
from tuangou.core.errors import InvalidInput
from tuangou.ledger import service as ledger
from tuangou.orders import service as orders
from tuangou.referral import rules
from tuangou.referral.errors import (
    BindingAlreadySet,
    InvalidSettings,
    InviteCodeUnknown,
    MemberNotFound,
    SelfInvite,
)
from tuangou.referral.models import (
    ReferralCommission,
    ReferralMember,
    ReferralSettings,
    ReferralWallet,
)
from tuangou.referral.rules import Mode, ReferralStatus, Terms

if TYPE_CHECKING:
    from tuangou.commission.models import Withdrawal
    from tuangou.orders.models import Order

Legs = list[tuple[str, int]]
WALLET_KIND = rules.WALLET_KIND


def frozen_account(user_id: int) -> str:
    return f"{ledger.REFERRAL_FROZEN_PREFIX}{user_id}"


def available_account(user_id: int) -> str:
    return f"{ledger.REFERRAL_AVAILABLE_PREFIX}{user_id}"


def withdrawing_account(user_id: int) -> str:
    return f"{ledger.REFERRAL_WITHDRAWING_PREFIX}{user_id}"


def debt_account(user_id: int) -> str:
    return f"{ledger.REFERRAL_DEBT_PREFIX}{user_id}"


# ---------------------------------------------------------------- settings


def terms(session: Session) -> Terms:
    row = session.get(ReferralSettings, 1)
    if row is None:
        return Terms()
    return Terms(
        level1_bps=row.level1_bps,
        level2_bps=row.level2_bps,
        mode=row.mode,
        min_spend=row.min_spend,
        binding_days=row.binding_days,
        self_purchase=row.self_purchase,
    )


def update_terms(session: Session, new: Terms, *, operator_id: int) -> Terms:
    """The operator's referral settings; invalid ones are refused whole and change nothing.
    They apply to orders completed and members signed up from now on."""
    found = rules.problems(new)
    if found:
        field, message = next(iter(found.items()))
        raise InvalidSettings(message, field=field, problems=found)
    values = {
        "level1_bps": new.level1_bps,
        "level2_bps": new.level2_bps,
        "mode": str(new.mode),
        "min_spend": new.min_spend,
        "binding_days": new.binding_days,
        "self_purchase": new.self_purchase,
        "updated_at": clock.now(),
        "updated_by": operator_id,
    }
    session.execute(
        upsert_insert(session)(table(ReferralSettings))
        .values(id=1, **values)
        .on_conflict_do_update(index_elements=["id"], set_=values)
    )
    return terms(session)


# ---------------------------------------------------------------- codes and bindings


def member(session: Session, user_id: int) -> ReferralMember:
    """The member's referral row, with their invite code (made the first time it is asked)."""
    row = session.get(ReferralMember, user_id)
    if row is not None:
        return row
    # A code is 8 of 32 characters: two members drawing the same one is a 1 in 32^8 event,
    # refused by the unique index (the request fails rather than share a code).
    session.execute(
        upsert_insert(session)(table(ReferralMember))
        .values(user_id=user_id, code=rules.new_code(), appointed=False, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    row = session.get(ReferralMember, user_id, populate_existing=True)
    assert row is not None
    return row


def by_code(session: Session, code: str) -> ReferralMember:
    code = rules.normalise_code(code)
    row = (
        session.scalar(select(ReferralMember).where(ReferralMember.code == code)) if code else None
    )
    if row is None:
        raise InviteCodeUnknown(field="invite_code")
    return row


def check_code(session: Session, code: str) -> int:
    """The inviter's user id for ``code``; ``invite_code_unknown`` when no member has it."""
    return by_code(session, code).user_id


def bind(session: Session, *, user_id: int, code: str) -> ReferralMember:
    """Bind a member to the member whose invite ``code`` they came with: once, never again
    (``binding_already_set``); never to themselves (``self_invite``)."""
    inviter = by_code(session, code)
    if inviter.user_id == user_id:
        raise SelfInvite(field="invite_code")
    row = member(session, user_id)
    now = clock.now()
    days = terms(session).binding_days
    moved = session.execute(
        update(table(ReferralMember))
        .where(ReferralMember.user_id == user_id, ReferralMember.inviter_id.is_(None))
        .values(
            inviter_id=inviter.user_id,
            bound_at=now,
            bound_until=now + timedelta(days=days) if days else None,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise BindingAlreadySet()
    session.refresh(row)
    outbox.emit(
        session,
        "referral.joined",
        {"user_ids": [inviter.user_id], "invitee_id": user_id},
    )
    return row


def bind_at_signup(session: Session, user_id: int, invite_code: str | None) -> None:
    """The accounts' sign-up hook: a new member who came with a code is bound to its owner."""
    if invite_code and invite_code.strip():
        bind(session, user_id=user_id, code=invite_code)


def _inviter(session: Session, user_id: int, at: datetime) -> int | None:
    row = session.get(ReferralMember, user_id)
    if row is None or row.inviter_id is None or not rules.binding_holds(row.bound_until, at):
        return None
    return row.inviter_id


def inviter_of(session: Session, user_id: int) -> int | None:
    """The member's inviter while the binding holds (None otherwise): what the points award
    for an invitee's first completed order asks."""
    return _inviter(session, user_id, clock.now())


def chain(session: Session, buyer_id: int, at: datetime, t: Terms) -> list[tuple[int, int, int]]:
    """(level, earner, rate) for an order of ``buyer_id`` at ``at``: two bindings at most,
    never walked further."""
    first = buyer_id if t.self_purchase else _inviter(session, buyer_id, at)
    if first is None:
        return []
    found = [(1, first, t.level1_bps)]
    second = _inviter(session, first, at)
    if second is not None and second not in (first, buyer_id):
        found.append((2, second, t.level2_bps))
    return found


# ---------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    mode: str
    appointed: bool
    spent: int
    min_spend: int


def eligibility(session: Session, user_id: int, t: Terms | None = None) -> Eligibility:
    t = t or terms(session)
    row = session.get(ReferralMember, user_id)
    appointed = bool(row and row.appointed)
    spent = orders.completed_spend(session, user_id) if t.mode == Mode.MIN_SPEND else 0
    return Eligibility(
        eligible=rules.eligible(t, appointed=appointed, spent=spent),
        mode=str(t.mode),
        appointed=appointed,
        spent=spent,
        min_spend=t.min_spend,
    )


def appoint(session: Session, *, user_id: int, appointed: bool) -> ReferralMember:
    """The operator appoints a member a partner (or ends it)."""
    user = accounts.get_user(session, user_id)
    if user.role != "member":
        raise MemberNotFound("only members can be partners")
    row = member(session, user_id)
    session.execute(
        update(table(ReferralMember))
        .where(ReferralMember.user_id == user_id)
        .values(appointed=appointed)
    )
    session.refresh(row)
    return row


def partners(session: Session) -> list[ReferralMember]:
    return list(
        session.scalars(
            select(ReferralMember)
            .where(ReferralMember.appointed.is_(True))
            .order_by(ReferralMember.user_id)
            .limit(500)
        )
    )


# ---------------------------------------------------------------- settlement


def _wallet(session: Session, user_id: int) -> None:
    session.execute(
        upsert_insert(session)(table(ReferralWallet))
        .values(user_id=user_id, frozen=0, available=0, withdrawing=0, withdrawn=0, debt=0)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )


def release_share(session: Session, order: Order, released: int, legs: Legs) -> Legs:
    """At completion: the referrers' shares of the order, taken from the supplier's leg of the
    release (the orders' release hook). Recorded frozen through the after-sale window."""
    t = terms(session)
    now = clock.now()
    earners = [
        (level, user_id, bps)
        for level, user_id, bps in chain(session, order.user_id, now, t)
        if bps > 0 and eligibility(session, user_id, t).eligible
    ]
    supplier = ledger.supplier_account(order.supplier_id)
    at = next((i for i, (account, _) in enumerate(legs) if account == supplier), None)
    if not earners or at is None:
        return legs
    base = max(0, min(order.paid_amount - order.refunded_amount, released))
    room = max(0, legs[at][1])
    values = rules.shares(base, [bps for _, _, bps in earners], room)
    out = list(legs)
    available_at = now + timedelta(days=commission.AFTER_SALE_DAYS)
    taken = 0
    for (level, user_id, bps), value in zip(earners, values, strict=True):
        if value <= 0:
            continue
        _wallet(session, user_id)
        session.add(
            ReferralCommission(
                order_id=order.id,
                user_id=user_id,
                buyer_id=order.user_id,
                level=level,
                base_amount=base,
                released=released,
                rate_bps=bps,
                amount=value,
                reversed_amount=0,
                status=ReferralStatus.FROZEN,
                created_at=now,
                available_at=available_at,
            )
        )
        session.execute(
            update(table(ReferralWallet))
            .where(ReferralWallet.user_id == user_id)
            .values(frozen=ReferralWallet.frozen + value)
        )
        out.append((frozen_account(user_id), value))
        taken += value
    out[at] = (supplier, legs[at][1] - taken)
    session.flush()
    return out


def reversal_share(session: Session, order: Order, amount: int, released: int) -> Legs:
    """An after-sale refund of ``amount`` on a completed order whose escrow still shows
    ``released``: what each referrer gives back into escrow (the commission hook)."""
    legs: Legs = []
    ids = list(
        session.scalars(
            select(ReferralCommission.id)
            .where(ReferralCommission.order_id == order.id)
            .order_by(ReferralCommission.id)
        )
    )
    for commission_id in ids:
        # The line first, then the wallet (the order of locks of the unfreezing job).
        c = session.get(
            ReferralCommission, commission_id, with_for_update=True, populate_existing=True
        )
        assert c is not None
        refunded_after = c.released - released + amount
        share = rules.reversal_share(c.amount, c.reversed_amount, c.released, refunded_after)
        if share <= 0:
            continue
        wallet = session.get(
            ReferralWallet, c.user_id, with_for_update=True, populate_existing=True
        )
        assert wallet is not None
        if c.status == ReferralStatus.FROZEN:
            session.execute(
                update(table(ReferralWallet))
                .where(ReferralWallet.user_id == c.user_id, ReferralWallet.frozen >= share)
                .values(frozen=ReferralWallet.frozen - share)
            )
            legs.append((frozen_account(c.user_id), share))
        else:
            take = min(share, wallet.available)
            owed = share - take
            session.execute(
                update(table(ReferralWallet))
                .where(ReferralWallet.user_id == c.user_id, ReferralWallet.available >= take)
                .values(
                    available=ReferralWallet.available - take,
                    debt=ReferralWallet.debt + owed,
                )
            )
            legs.append((available_account(c.user_id), take))
            legs.append((debt_account(c.user_id), owed))
        c.reversed_amount += share
        if c.reversed_amount == c.amount:
            c.status = ReferralStatus.REVERSED
        outbox.emit(
            session,
            "referral.reversed",
            {
                "user_ids": [c.user_id],
                "commission_id": c.id,
                "order_id": c.order_id,
                "amount": share,
            },
        )
    session.flush()
    return [(account, value) for account, value in legs if value]


def _credit(session: Session, user_id: int, value: int) -> tuple[int, int]:
    """Money comes into the member's available balance: their debt is paid off first.
    Returns (repaid, credited)."""
    wallet = session.get(ReferralWallet, user_id, with_for_update=True, populate_existing=True)
    assert wallet is not None
    repay = min(wallet.debt, value)
    session.execute(
        update(table(ReferralWallet))
        .where(ReferralWallet.user_id == user_id)
        .values(
            debt=ReferralWallet.debt - repay,
            available=ReferralWallet.available + (value - repay),
        )
    )
    return repay, value - repay


def release_due(session: Session, commission_id: int) -> bool:
    """A commission past the after-sale window becomes available (compare-and-set)."""
    moved = session.execute(
        update(table(ReferralCommission))
        .where(
            ReferralCommission.id == commission_id,
            ReferralCommission.status == ReferralStatus.FROZEN,
        )
        .values(status=ReferralStatus.AVAILABLE)
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        return False
    c = session.get(ReferralCommission, commission_id, populate_existing=True)
    assert c is not None
    value = c.amount - c.reversed_amount
    if value <= 0:
        return True
    session.execute(
        update(table(ReferralWallet))
        .where(ReferralWallet.user_id == c.user_id)
        .values(frozen=ReferralWallet.frozen - value)
    )
    repay, credited = _credit(session, c.user_id, value)
    ledger.transfer(
        session,
        f"referral-available:{c.id}",
        "referral_available",
        [
            (frozen_account(c.user_id), -value),
            (debt_account(c.user_id), repay),
            (available_account(c.user_id), credited),
        ],
        order_id=c.order_id,
    )
    outbox.emit(
        session,
        "referral.available",
        {
            "user_ids": [c.user_id],
            "commission_id": c.id,
            "order_id": c.order_id,
            "amount": value,
        },
    )
    return True


def due(session: Session, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(ReferralCommission.id)
            .where(
                ReferralCommission.status == ReferralStatus.FROZEN,
                ReferralCommission.available_at <= clock.now(),
            )
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- withdrawals


def wallet(session: Session, user_id: int) -> ReferralWallet:
    _wallet(session, user_id)
    row = session.get(ReferralWallet, user_id, populate_existing=True)
    assert row is not None
    return row


def request_withdrawal(
    session: Session, *, user_id: int, amount: int, account_note: str = ""
) -> Withdrawal:
    """A member asks to be paid their available referral commission: the same withdrawal an
    operator approves for leaders."""
    if amount <= 0:
        raise InvalidInput("the amount must be positive", field="amount")
    _wallet(session, user_id)
    moved = session.execute(
        update(table(ReferralWallet))
        .where(ReferralWallet.user_id == user_id, ReferralWallet.available >= amount)
        .values(
            available=ReferralWallet.available - amount,
            withdrawing=ReferralWallet.withdrawing + amount,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise commission.WithdrawalTooLarge()
    row = commission.new_withdrawal(
        session, wallet=WALLET_KIND, owner_id=user_id, amount=amount, account_note=account_note
    )
    ledger.transfer(
        session,
        f"referral-withdrawal-request:{row.id}",
        "withdrawal_request",
        [(available_account(user_id), -amount), (withdrawing_account(user_id), amount)],
    )
    return row


def decide_withdrawal(session: Session, row: Withdrawal, approve: bool) -> int:
    """The operator decided a referral withdrawal (the commission service's wallet hook)."""
    user_id = row.leader_id
    status = "approved" if approve else "rejected"
    if approve:
        session.execute(
            update(table(ReferralWallet))
            .where(ReferralWallet.user_id == user_id)
            .values(
                withdrawing=ReferralWallet.withdrawing - row.amount,
                withdrawn=ReferralWallet.withdrawn + row.amount,
            )
        )
        legs = [(withdrawing_account(user_id), -row.amount), (commission.PAYOUTS, row.amount)]
    else:
        session.execute(
            update(table(ReferralWallet))
            .where(ReferralWallet.user_id == user_id)
            .values(withdrawing=ReferralWallet.withdrawing - row.amount)
        )
        repay, credited = _credit(session, user_id, row.amount)
        legs = [
            (withdrawing_account(user_id), -row.amount),
            (debt_account(user_id), repay),
            (available_account(user_id), credited),
        ]
    ledger.transfer(session, f"referral-withdrawal-{status}:{row.id}", f"withdrawal_{status}", legs)
    return user_id


def withdrawals(session: Session, user_id: int) -> list[Withdrawal]:
    return commission.withdrawals(session, leader_id=user_id, wallet=WALLET_KIND)


WALLET_HOOKS = commission.WalletKind(decide=decide_withdrawal, owner=lambda _s, uid: uid)


# ---------------------------------------------------------------- what the member sees


@dataclass(frozen=True)
class Invitee:
    user_id: int
    masked_name: str
    masked_phone: str
    bound_at: datetime | None
    binding_holds: bool
    orders: int
    kept: int
    commission_level1: int
    commission_level2: int


def invitees(session: Session, user_id: int, *, limit: int = 200) -> list[Invitee]:
    """Who the member invited (masked), and what each brought: their completed orders, what
    those kept, and the member's commission on them per level (net of reversals; level 2:
    through that invitee's own invitees)."""
    now = clock.now()
    rows = list(
        session.scalars(
            select(ReferralMember)
            .where(ReferralMember.inviter_id == user_id)
            .order_by(ReferralMember.bound_at.desc(), ReferralMember.user_id.desc())
            .limit(limit)
        )
    )
    ids = [r.user_id for r in rows]
    level1: dict[int, tuple[int, int, int]] = {}
    level2: dict[int, int] = {}
    if ids:
        for buyer, n, kept, earned in session.execute(
            select(
                ReferralCommission.buyer_id,
                func.count(ReferralCommission.id),
                func.sum(ReferralCommission.base_amount),
                func.sum(ReferralCommission.amount - ReferralCommission.reversed_amount),
            )
            .where(
                ReferralCommission.user_id == user_id,
                ReferralCommission.level == 1,
                ReferralCommission.buyer_id.in_(ids),
            )
            .group_by(ReferralCommission.buyer_id)
        ):
            level1[int(buyer)] = (int(n), int(kept or 0), int(earned or 0))
        # Level 2 through each invitee: the orders of the invitee's own invitees.
        second: dict[int, int] = {
            int(invitee): int(via)
            for invitee, via in session.execute(
                select(ReferralMember.user_id, ReferralMember.inviter_id).where(
                    ReferralMember.inviter_id.in_(ids)
                )
            )
            if via is not None
        }
        if second:
            for buyer, earned in session.execute(
                select(
                    ReferralCommission.buyer_id,
                    func.sum(ReferralCommission.amount - ReferralCommission.reversed_amount),
                )
                .where(
                    ReferralCommission.user_id == user_id,
                    ReferralCommission.level == 2,
                    ReferralCommission.buyer_id.in_(list(second)),
                )
                .group_by(ReferralCommission.buyer_id)
            ):
                via = second[int(buyer)]
                level2[via] = level2.get(via, 0) + int(earned or 0)
    out = []
    for r in rows:
        user = accounts.get_user(session, r.user_id)
        name, phone = accounts.masked(user)
        n, kept, earned = level1.get(r.user_id, (0, 0, 0))
        out.append(
            Invitee(
                user_id=r.user_id,
                masked_name=name,
                masked_phone=phone,
                bound_at=r.bound_at,
                binding_holds=rules.binding_holds(r.bound_until, now),
                orders=n,
                kept=kept,
                commission_level1=earned,
                commission_level2=level2.get(r.user_id, 0),
            )
        )
    return out


@dataclass(frozen=True)
class Line:
    """One commission line traced to its order, each fen in one state."""

    id: int
    order_id: int
    level: int
    buyer: str  # masked
    base_amount: int
    rate_bps: int
    amount: int
    frozen: int
    available: int
    withdrawn: int
    reversed: int
    state: str  # frozen | available | withdrawn | reversed (the state most of it is in)
    created_at: datetime
    available_at: datetime


def lines(
    session: Session, user_id: int, *, cursor: int | None = None, limit: int = 50
) -> tuple[list[Line], int | None]:
    """The member's commission lines, newest first, ``limit`` at a time (``cursor``: the id
    the previous page ended at). What was withdrawn is shown taken from the oldest lines
    first (the wallet is one balance)."""
    w = wallet(session, user_id)
    paid_out = w.withdrawn + w.withdrawing
    # The available lines oldest first, to place what was withdrawn.
    oldest = list(
        session.execute(
            select(
                ReferralCommission.id,
                ReferralCommission.amount - ReferralCommission.reversed_amount,
            )
            .where(
                ReferralCommission.user_id == user_id,
                ReferralCommission.status == ReferralStatus.AVAILABLE,
            )
            .order_by(ReferralCommission.id)
        ).all()
    )
    taken = dict(
        zip(
            [int(i) for i, _ in oldest],
            rules.allocate_withdrawn([int(v) for _, v in oldest], paid_out),
            strict=True,
        )
    )
    query = (
        select(ReferralCommission)
        .where(ReferralCommission.user_id == user_id)
        .order_by(ReferralCommission.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        query = query.where(ReferralCommission.id < cursor)
    found = list(session.scalars(query))
    more = len(found) > limit
    found = found[:limit]
    names = accounts.masked_names(session, [c.buyer_id for c in found])
    out = []
    for c in found:
        left = c.amount - c.reversed_amount
        frozen = left if c.status == ReferralStatus.FROZEN else 0
        withdrawn = taken.get(c.id, 0)
        available = left - frozen - withdrawn
        parts = {
            "frozen": frozen,
            "available": available,
            "withdrawn": withdrawn,
            "reversed": c.reversed_amount,
        }
        out.append(
            Line(
                id=c.id,
                order_id=c.order_id,
                level=c.level,
                buyer=names.get(c.buyer_id, ""),
                base_amount=c.base_amount,
                rate_bps=c.rate_bps,
                amount=c.amount,
                frozen=frozen,
                available=available,
                withdrawn=withdrawn,
                reversed=c.reversed_amount,
                state=max(parts, key=lambda k: parts[k]),
                created_at=c.created_at,
                available_at=c.available_at,
            )
        )
    return out, (found[-1].id if more and found else None)


@dataclass(frozen=True)
class Overview:
    code: str
    inviter_id: int | None
    invitees: int
    eligibility: Eligibility
    terms: Terms
    wallet: ReferralWallet
    earned: int  # all commission ever credited, net of reversals


def overview(session: Session, user_id: int) -> Overview:
    row = member(session, user_id)
    t = terms(session)
    count = int(
        session.scalar(
            select(func.count())
            .select_from(ReferralMember)
            .where(ReferralMember.inviter_id == user_id)
        )
        or 0
    )
    earned = int(
        session.scalar(
            select(
                func.coalesce(
                    func.sum(ReferralCommission.amount - ReferralCommission.reversed_amount), 0
                )
            ).where(ReferralCommission.user_id == user_id)
        )
        or 0
    )
    return Overview(
        code=row.code,
        inviter_id=_inviter(session, user_id, clock.now()),
        invitees=count,
        eligibility=eligibility(session, user_id, t),
        terms=t,
        wallet=wallet(session, user_id),
        earned=earned,
    )


def partner_rows(session: Session) -> list[dict[str, Any]]:
    """The appointed partners with their masked names, for the operator."""
    out = []
    for row in partners(session):
        user = accounts.get_user(session, row.user_id)
        name, phone = accounts.masked(user)
        out.append(
            {
                "user_id": row.user_id,
                "nickname": user.nickname,
                "masked_phone": phone,
                "masked_name": name,
                "code": row.code,
            }
        )
    return out


def get_member(session: Session, user_id: int) -> ReferralMember:
    return get_or_404(session, ReferralMember, user_id, MemberNotFound)
