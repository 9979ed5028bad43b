"""Leader commission (佣金): accrued at pickup, frozen through the after-sale window, then
withdrawable. A sub-leader's sales also earn their leader an override (two levels at most),
on the sales paid while the sub-leader link held.

Every balance change is a ledger transfer and a guarded update of the leader's wallet row
(``available >= amount``), so a withdrawal can never take more than is available.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tuangou.commission import rules
from tuangou.commission.errors import WithdrawalDecided, WithdrawalNotFound, WithdrawalTooLarge
from tuangou.commission.models import Commission, CommissionWallet, Withdrawal
from tuangou.commission.rules import CommissionStatus, WithdrawalStatus
from tuangou.communities import service as communities
from tuangou.core import clock, outbox
from tuangou.core.config import get_settings
from tuangou.core.db import get_or_404, table, upsert_insert
from tuangou.core.errors import InvalidInput
from tuangou.core.money import apply_bps
from tuangou.ledger import service as ledger

if TYPE_CHECKING:
    from tuangou.orders.models import Order

AFTER_SALE_DAYS = 7


def frozen_account(leader_id: int) -> str:
    return f"{ledger.LEADER_FROZEN_PREFIX}{leader_id}"


def available_account(leader_id: int) -> str:
    return f"{ledger.LEADER_AVAILABLE_PREFIX}{leader_id}"


def withdrawing_account(leader_id: int) -> str:
    return f"{ledger.LEADER_WITHDRAWING_PREFIX}{leader_id}"


PAYOUTS = "payouts"  # money paid out to leaders' bank accounts
LEADER_WALLET = "leader"


@dataclass(frozen=True)
class WalletKind:
    """Another kind of wallet paid out through the leaders' withdrawal flow (a member's
    referral wallet): ``decide`` moves the withdrawal's money out (approved) or back to the
    available balance (rejected) and returns the user to tell; ``owner`` names the payee."""

    decide: Callable[[Session, Withdrawal, bool], int]
    owner: Callable[[Session, int], int]  # the withdrawal's owner id -> user id


_wallet_kinds: dict[str, WalletKind] = {}
# Other payees of a release give their share of an after-sale refund back through these:
# (session, order, refund amount, released before it) -> the legs they return.
_reversal_shares: list[Callable[[Session, Order, int, int], list[tuple[str, int]]]] = []


def register_wallet_kind(kind: str, hooks: WalletKind) -> None:
    _wallet_kinds[kind] = hooks


def register_reversal_share(
    share: Callable[[Session, Order, int, int], list[tuple[str, int]]],
) -> None:
    if share not in _reversal_shares:
        _reversal_shares.append(share)


def owner_user(session: Session, row: Withdrawal) -> int:
    """The user a withdrawal pays (a leader's user, or the member of a referral wallet)."""
    if row.wallet == LEADER_WALLET:
        return communities.get_leader(session, row.leader_id).user_id
    return _wallet_kinds[row.wallet].owner(session, row.leader_id)


def new_withdrawal(
    session: Session, *, wallet: str, owner_id: int, amount: int, account_note: str = ""
) -> Withdrawal:
    """A withdrawal of another kind of wallet, whose money its domain already set aside."""
    row = Withdrawal(
        leader_id=owner_id,
        wallet=wallet,
        amount=amount,
        status=WithdrawalStatus.REQUESTED,
        account_note=account_note.strip()[:200],
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def _wallet(session: Session, leader_id: int) -> None:
    session.execute(
        upsert_insert(session)(table(CommissionWallet))
        .values(leader_id=leader_id, frozen=0, available=0, withdrawing=0, withdrawn=0)
        .on_conflict_do_nothing(index_elements=["leader_id"])
    )


def accrue(
    session: Session, *, order: Order, leader_id: int, commission_bps: int, amount: int
) -> list[tuple[str, int]]:
    """The payees of an order's escrow at pickup, for the leader who sold it at
    ``commission_bps``; records the commissions, frozen.

    The override goes to the leader above the seller when the member paid (the sale), not at
    pickup: a sale paid before the seller left their leader keeps its override, one paid after
    earns none (and none for a sale paid before the link began)."""
    override_bps = 0
    upline = communities.upline_at(session, leader_id, order.paid_at or order.created_at)
    if upline:
        override_bps = rules.DEFAULT_OVERRIDE_BPS
    parts = rules.split(
        amount,
        commission_bps=commission_bps,
        override_bps=override_bps,
        fee_bps=get_settings().operator_fee_bps,
    )
    now = clock.now()
    available_at = now + timedelta(days=AFTER_SALE_DAYS)
    legs: list[tuple[str, int]] = [
        (ledger.supplier_account(order.supplier_id), parts.supplier),
        (ledger.PLATFORM_REVENUE, parts.fee),
    ]
    for payee, kind, value, bps in (
        (leader_id, "direct", parts.leader, commission_bps),
        (upline[0] if upline else None, "override", parts.upline, override_bps),
    ):
        if payee is None or value <= 0:
            continue
        _wallet(session, payee)
        session.add(
            Commission(
                order_id=order.id,
                leader_id=payee,
                kind=kind,
                base_amount=amount,
                rate_bps=bps,
                amount=value,
                reversed_amount=0,
                status=CommissionStatus.FROZEN,
                created_at=now,
                available_at=available_at,
            )
        )
        session.execute(
            update(table(CommissionWallet))
            .where(CommissionWallet.leader_id == payee)
            .values(frozen=CommissionWallet.frozen + value)
        )
        legs.append((frozen_account(payee), value))
    session.flush()
    return legs


def reversal_legs(session: Session, order: Order, amount: int) -> list[tuple[str, int]]:
    """An after-sale refund of ``amount`` on a picked-up order: who gives what back.

    Each payee returns its share in proportion (the commission while still frozen); the
    supplier returns the remainder.
    """
    released = order.released_amount
    if amount <= 0 or amount > released:
        raise InvalidInput("an after-sale refund cannot exceed what was released")
    legs: list[tuple[str, int]] = []
    taken = 0
    for c in session.scalars(
        select(Commission).where(Commission.order_id == order.id).order_by(Commission.id)
    ):
        left = c.amount - c.reversed_amount
        share = min(left, (c.amount * amount) // released)
        if share <= 0:
            continue
        account = (
            frozen_account(c.leader_id)
            if c.status == CommissionStatus.FROZEN
            else available_account(c.leader_id)
        )
        column = (
            CommissionWallet.frozen
            if c.status == CommissionStatus.FROZEN
            else CommissionWallet.available
        )
        moved = session.execute(
            update(table(CommissionWallet))
            .where(CommissionWallet.leader_id == c.leader_id, column >= share)
            .values({column.key: column - share})
        ).rowcount  # type: ignore[attr-defined]
        if not moved:
            continue  # already withdrawn: the supplier's share covers it
        c.reversed_amount += share
        if c.reversed_amount == c.amount:
            c.status = CommissionStatus.REVERSED
        legs.append((account, share))
        taken += share
    for share_of in _reversal_shares:
        for account, value in share_of(session, order, amount, released):
            legs.append((account, value))
            taken += value
    fee = min(
        ledger.balance(session, ledger.PLATFORM_REVENUE, order_id=order.id),
        apply_bps(amount, get_settings().operator_fee_bps),
    )
    if fee > 0:
        legs.append((ledger.PLATFORM_REVENUE, fee))
        taken += fee
    legs.append((ledger.supplier_account(order.supplier_id), amount - taken))
    session.flush()
    return legs


def wallet(session: Session, leader_id: int) -> CommissionWallet:
    _wallet(session, leader_id)
    row = session.get(CommissionWallet, leader_id)
    assert row is not None
    session.refresh(row)
    return row


def history(session: Session, leader_id: int, *, limit: int = 200) -> list[Commission]:
    return list(
        session.scalars(
            select(Commission)
            .where(Commission.leader_id == leader_id)
            .order_by(Commission.id.desc())
            .limit(limit)
        )
    )


def request_withdrawal(
    session: Session, *, leader_id: int, amount: int, account_note: str = ""
) -> Withdrawal:
    if amount <= 0:
        raise InvalidInput("the amount must be positive", field="amount")
    _wallet(session, leader_id)
    moved = session.execute(
        update(table(CommissionWallet))
        .where(CommissionWallet.leader_id == leader_id, CommissionWallet.available >= amount)
        .values(
            available=CommissionWallet.available - amount,
            withdrawing=CommissionWallet.withdrawing + amount,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise WithdrawalTooLarge()
    row = Withdrawal(
        leader_id=leader_id,
        wallet=LEADER_WALLET,
        amount=amount,
        status=WithdrawalStatus.REQUESTED,
        account_note=account_note.strip()[:200],
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    ledger.transfer(
        session,
        f"withdrawal-request:{row.id}",
        "withdrawal_request",
        [(available_account(leader_id), -amount), (withdrawing_account(leader_id), amount)],
    )
    return row


def decide_withdrawal(
    session: Session, *, withdrawal_id: int, operator_id: int, approve: bool, reason: str = ""
) -> Withdrawal:
    row = get_or_404(session, Withdrawal, withdrawal_id, WithdrawalNotFound)
    if not approve and not reason.strip():
        raise InvalidInput("give a reason for the rejection", field="reason")
    status = WithdrawalStatus.APPROVED if approve else WithdrawalStatus.REJECTED
    moved = session.execute(
        update(table(Withdrawal))
        .where(Withdrawal.id == withdrawal_id, Withdrawal.status == WithdrawalStatus.REQUESTED)
        .values(
            status=status,
            decided_at=clock.now(),
            decided_by=operator_id,
            reason=reason.strip()[:200] or None,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not moved:
        raise WithdrawalDecided()
    session.refresh(row)
    if row.wallet != LEADER_WALLET:
        user_id = _wallet_kinds[row.wallet].decide(session, row, approve)
        _tell_decided(session, row, status, user_id)
        return row
    if approve:
        session.execute(
            update(table(CommissionWallet))
            .where(CommissionWallet.leader_id == row.leader_id)
            .values(
                withdrawing=CommissionWallet.withdrawing - row.amount,
                withdrawn=CommissionWallet.withdrawn + row.amount,
            )
        )
        legs = [(withdrawing_account(row.leader_id), -row.amount), (PAYOUTS, row.amount)]
    else:
        session.execute(
            update(table(CommissionWallet))
            .where(CommissionWallet.leader_id == row.leader_id)
            .values(
                withdrawing=CommissionWallet.withdrawing - row.amount,
                available=CommissionWallet.available + row.amount,
            )
        )
        legs = [
            (withdrawing_account(row.leader_id), -row.amount),
            (available_account(row.leader_id), row.amount),
        ]
    ledger.transfer(session, f"withdrawal-{status}:{row.id}", f"withdrawal_{status}", legs)
    leader = communities.get_leader(session, row.leader_id)
    _tell_decided(session, row, status, leader.user_id)
    return row


def _tell_decided(session: Session, row: Withdrawal, status: str, user_id: int) -> None:
    outbox.emit(
        session,
        f"withdrawal.{status}",
        {
            "user_ids": [user_id],
            "withdrawal_id": row.id,
            "amount": row.amount,
            "reason": row.reason or "",
            "wallet": row.wallet,
        },
    )


def withdrawals(
    session: Session,
    *,
    leader_id: int | None = None,
    status: str | None = None,
    wallet: str | None = None,
) -> list[Withdrawal]:
    """Withdrawals, oldest first; ``leader_id`` (the owner id) alone means a leader's."""
    query = select(Withdrawal).order_by(Withdrawal.id)
    if leader_id is not None:
        query = query.where(Withdrawal.wallet == (wallet or LEADER_WALLET))
    elif wallet is not None:
        query = query.where(Withdrawal.wallet == wallet)
    if leader_id is not None:
        query = query.where(Withdrawal.leader_id == leader_id)
    if status:
        query = query.where(Withdrawal.status == status)
    return list(session.scalars(query.limit(500)))
