"""The append-only double-entry journal (DOMAIN.md Money).

Nothing here updates or deletes a row: a mistake is corrected by a reversing transfer.
A transfer id is chosen by the caller from what the movement is about (``pay:17``,
``refund:42``), so a retried movement is recorded once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from tuangou.core import clock
from tuangou.core.db import execute, table, upsert_insert
from tuangou.ledger import rules
from tuangou.ledger.models import LedgerEntry, LedgerTransfer

__all__ = [
    "balance",
    "balance_of_orders",
    "balances",
    "journal_rows",
    "record_payment",
    "record_refund",
    "record_refund_sent",
    "record_refunds",
    "record_release",
    "record_subsidy",
    "register_on_transfer",
    "return_discount",
    "return_subsidy",
    "reverse_release",
    "supplier_account",
    "transfer",
    "transfer_many",
]


def transfer(
    session: Session,
    transfer_id: str,
    kind: str,
    legs: Sequence[tuple[str, int]],
    *,
    order_id: int | None = None,
    memo: str = "",
) -> bool:
    """Record a balanced transfer once. Returns False if ``transfer_id`` was already recorded."""
    legs = [(account, amount) for account, amount in legs if amount != 0]
    if not legs:
        return False
    rules.check_legs(legs)
    # Plain statements on the tables, built once: every payment, refund and release writes here.
    dialect = session.get_bind().dialect.name
    stmt = _new_transfer.get(dialect)
    if stmt is None:
        stmt = _new_transfer[dialect] = upsert_insert(session)(
            table(LedgerTransfer)
        ).on_conflict_do_nothing(index_elements=["id"])
    row = {"id": transfer_id, "kind": kind, "order_id": order_id, "memo": memo}
    if execute(session, stmt, {**row, "created_at": clock.now()}).rowcount == 0:
        return False
    execute(
        session,
        _NEW_ENTRY,
        [
            {"transfer_id": transfer_id, "account": account, "order_id": order_id, "amount": amount}
            for account, amount in legs
        ],
    )
    for hook in _on_transfer:
        hook(session, transfer_id)
    return True


def transfer_many(
    session: Session,
    kind: str,
    transfers: Sequence[tuple[str, int | None, Sequence[tuple[str, int]]]],
) -> list[str]:
    """Record many balanced transfers of one ``kind`` at once, each once: ``(transfer id,
    order id, legs)``. One multi-row INSERT for the transfers (a repeated id is skipped, as
    :func:`transfer` skips it), one for their entries, and the hooks once for all of them.
    Returns the ids recorded now, in the order given."""
    clean = []
    for transfer_id, order_id, legs in transfers:
        kept = [(account, amount) for account, amount in legs if amount != 0]
        if kept:
            rules.check_legs(kept)
            clean.append((transfer_id, order_id, kept))
    if not clean:
        return []
    now = clock.now()
    stmt = (
        upsert_insert(session)(table(LedgerTransfer))
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(table(LedgerTransfer).c.id)
    )
    recorded = set(
        execute(
            session,
            stmt,
            [
                {"id": t, "kind": kind, "order_id": o, "memo": "", "created_at": now}
                for t, o, _ in clean
            ],
        ).scalars()
    )
    done = [(t, o, legs) for t, o, legs in clean if t in recorded]
    if not done:
        return []
    execute(
        session,
        _NEW_ENTRY,
        [
            {"transfer_id": t, "account": account, "order_id": o, "amount": amount}
            for t, o, legs in done
            for account, amount in legs
        ],
    )
    ids = [t for t, _, _ in done]
    for hook in _on_transfers:
        hook(session, ids)
    return ids


# Called in the transfer's transaction after each transfer recorded (not a repeat), with
# (session, transfer_id): the verifiable record appends it. Registered by the composition root.
_on_transfer: list[Callable[[Session, str], None]] = []


def register_on_transfer(
    hook: Callable[[Session, str], None] | None,
    many: Callable[[Session, list[str]], None] | None = None,
) -> None:
    """What else a recorded transfer means (``hook``; ``many``: the same for the transfers
    of :func:`transfer_many`, at once); ``None`` removes every hook."""
    if hook is None:
        _on_transfer.clear()
        _on_transfers.clear()
        return
    if hook not in _on_transfer:
        _on_transfer.append(hook)
    if many is not None and many not in _on_transfers:
        _on_transfers.append(many)


_on_transfers: list[Callable[[Session, list[str]], None]] = []


def journal_rows(session: Session, transfer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The transfers as they stand now, with their legs in order: what the verifiable record
    hashes (at the append, and again when it is checked)."""
    found: dict[str, dict[str, Any]] = {}
    for row in session.execute(
        select(LedgerTransfer).where(LedgerTransfer.id.in_(list(transfer_ids)))
    ).scalars():
        found[row.id] = {
            "id": row.id,
            "kind": row.kind,
            "order": row.order_id,
            "at": clock.iso(row.created_at),
            "legs": [],
        }
    legs = session.execute(
        select(LedgerEntry.transfer_id, LedgerEntry.account, LedgerEntry.amount)
        .where(LedgerEntry.transfer_id.in_(list(found)))
        .order_by(LedgerEntry.id)
    )
    for transfer_id, account, amount in legs:
        found[transfer_id]["legs"].append([account, int(amount)])
    return found


_new_transfer: dict[str, Any] = {}  # per dialect: INSERT ... ON CONFLICT DO NOTHING
_NEW_ENTRY = insert(table(LedgerEntry))


def balance(session: Session, account: str, *, order_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account == account
    )
    if order_id is not None:
        query = query.where(LedgerEntry.order_id == order_id)
    return int(session.scalar(query) or 0)


def balance_of_orders(session: Session, account: str, order_ids: Sequence[int]) -> int:
    """What ``account`` holds for these orders together (a member's escrow)."""
    if not order_ids:
        return 0
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account == account, LedgerEntry.order_id.in_(list(order_ids))
    )
    return int(session.scalar(query) or 0)


def balances(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(LedgerEntry.account, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.account)
    )
    return {account: int(total) for account, total in rows}


def record_payment(session: Session, *, payment_id: int, order_id: int, amount: int) -> bool:
    return transfer(
        session,
        f"pay:{payment_id}",
        "payment",
        [(rules.GATEWAY, -amount), (rules.ESCROW, amount)],
        order_id=order_id,
    )


def record_subsidy(session: Session, *, key: str, order_id: int, amount: int) -> bool:
    return transfer(
        session,
        f"subsidy:{key}",
        "subsidy",
        [(rules.SUBSIDY, -amount), (rules.ESCROW, amount)],
        order_id=order_id,
    )


def return_subsidy(session: Session, *, order_id: int, amount: int) -> bool:
    """A subsidised order was refunded: the subsidy still in escrow goes back."""
    return transfer(
        session,
        f"subsidy-return:{order_id}",
        "subsidy_return",
        [(rules.ESCROW, -amount), (rules.SUBSIDY, amount)],
        order_id=order_id,
    )


def return_discount(session: Session, *, refund_id: int, order_id: int, amount: int) -> bool:
    """A refund of an order with discounts: their share goes back to the subsidy account."""
    return transfer(
        session,
        f"discount-return:{refund_id}",
        "subsidy_return",
        [(rules.ESCROW, -amount), (rules.SUBSIDY, amount)],
        order_id=order_id,
    )


def record_refund(session: Session, *, refund_id: int, order_id: int, amount: int) -> bool:
    """Money leaves escrow, owed back to the member until the gateway confirms it."""
    return transfer(
        session,
        f"refund:{refund_id}",
        "refund",
        [(rules.ESCROW, -amount), (rules.REFUNDS, amount)],
        order_id=order_id,
    )


def record_refunds(session: Session, refunds: Sequence[tuple[int, int, int]]) -> list[str]:
    """:func:`record_refund` for many ``(refund id, order id, amount)`` at once."""
    return transfer_many(
        session,
        "refund",
        [
            (f"refund:{refund_id}", order_id, [(rules.ESCROW, -amount), (rules.REFUNDS, amount)])
            for refund_id, order_id, amount in refunds
        ],
    )


def record_refund_sent(session: Session, *, refund_id: int, order_id: int, amount: int) -> bool:
    """The gateway confirmed the refund: the money has gone back out."""
    return transfer(
        session,
        f"refund-sent:{refund_id}",
        "refund_sent",
        [(rules.REFUNDS, -amount), (rules.GATEWAY, amount)],
        order_id=order_id,
    )


def record_release(session: Session, *, order_id: int, legs: Sequence[tuple[str, int]]) -> bool:
    """Goods arrived: escrow pays the supplier, the operator's fee, and any commissions."""
    total = sum(amount for _, amount in legs)
    return transfer(
        session,
        f"release:{order_id}",
        "release",
        [(rules.ESCROW, -total), *legs],
        order_id=order_id,
    )


def reverse_release(
    session: Session, *, key: str, order_id: int, legs: Sequence[tuple[str, int]]
) -> bool:
    """Part of a release comes back into escrow (an after-sale refund after pickup)."""
    total = sum(amount for _, amount in legs)
    return transfer(
        session,
        f"release-reversal:{key}",
        "release_reversal",
        [*((account, -amount) for account, amount in legs), (rules.ESCROW, total)],
        order_id=order_id,
    )


def supplier_account(supplier_id: int) -> str:
    return rules.supplier_account(supplier_id)


PLATFORM_REVENUE = rules.PLATFORM_REVENUE
ESCROW = rules.ESCROW
LEADER_FROZEN_PREFIX = rules.LEADER_FROZEN_PREFIX
LEADER_AVAILABLE_PREFIX = rules.LEADER_AVAILABLE_PREFIX
LEADER_WITHDRAWING_PREFIX = rules.LEADER_WITHDRAWING_PREFIX
REFERRAL_FROZEN_PREFIX = rules.REFERRAL_FROZEN_PREFIX
REFERRAL_AVAILABLE_PREFIX = rules.REFERRAL_AVAILABLE_PREFIX
REFERRAL_WITHDRAWING_PREFIX = rules.REFERRAL_WITHDRAWING_PREFIX
REFERRAL_DEBT_PREFIX = rules.REFERRAL_DEBT_PREFIX
