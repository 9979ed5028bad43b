"""The journal on both backends: a transfer is recorded once, balanced, and adds up."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.ledger import rules
from tuangou.ledger import service as ledger
from tuangou.ledger.models import LedgerEntry, LedgerTransfer


def _counts() -> tuple[int, int]:
    with unit_of_work(readonly=True) as s:
        return (
            int(s.scalar(select(func.count()).select_from(LedgerTransfer)) or 0),
            int(s.scalar(select(func.count()).select_from(LedgerEntry)) or 0),
        )


def _balances() -> dict[str, int]:
    with unit_of_work(readonly=True) as s:
        return ledger.balances(s)


def test_a_transfer_is_recorded_once(db: str) -> None:
    legs = [(rules.GATEWAY, -1990), (rules.ESCROW, 1990)]
    first = run_in_transaction(lambda s: ledger.transfer(s, "pay:1", "payment", legs, order_id=7))
    assert first is True
    assert _counts() == (1, 2)
    # A retried movement (same id) is recorded once, even with other amounts.
    again = run_in_transaction(lambda s: ledger.transfer(s, "pay:1", "payment", legs, order_id=7))
    other = run_in_transaction(
        lambda s: ledger.transfer(s, "pay:1", "payment", [("escrow", 5), ("gateway", -5)])
    )
    assert again is False
    assert other is False
    assert _counts() == (1, 2)
    assert _balances() == {rules.GATEWAY: -1990, rules.ESCROW: 1990}
    with unit_of_work(readonly=True) as s:
        assert ledger.balance(s, rules.ESCROW, order_id=7) == 1990
        assert ledger.balance(s, rules.ESCROW, order_id=8) == 0


def test_the_record_helpers_are_idempotent(db: str) -> None:
    release = [(rules.supplier_account(4), 1750), (rules.PLATFORM_REVENUE, 40)]

    def work(s: Session) -> list[bool]:
        return [
            ledger.record_payment(s, payment_id=3, order_id=1, amount=1990),
            ledger.record_payment(s, payment_id=3, order_id=1, amount=1990),
            ledger.record_refund(s, refund_id=9, order_id=1, amount=200),
            ledger.record_refund(s, refund_id=9, order_id=1, amount=200),
            ledger.record_refund_sent(s, refund_id=9, order_id=1, amount=200),
            ledger.record_refund_sent(s, refund_id=9, order_id=1, amount=200),
            ledger.record_release(s, order_id=1, legs=release),
            ledger.record_release(s, order_id=1, legs=release),
        ]

    assert run_in_transaction(work) == [True, False] * 4
    assert _balances() == {
        rules.GATEWAY: -1990 + 200,
        rules.ESCROW: 0,
        rules.REFUNDS: 0,
        rules.supplier_account(4): 1750,
        rules.PLATFORM_REVENUE: 40,
    }
    assert sum(_balances().values()) == 0


def test_subsidy_in_and_back(db: str) -> None:
    def work(s: Session) -> list[bool]:
        return [
            ledger.record_subsidy(s, key="completion:5", order_id=5, amount=300),
            ledger.record_subsidy(s, key="completion:5", order_id=5, amount=300),
            ledger.return_subsidy(s, order_id=5, amount=300),
            ledger.return_subsidy(s, order_id=5, amount=300),
        ]

    assert run_in_transaction(work) == [True, False, True, False]
    assert _balances() == {rules.SUBSIDY: 0, rules.ESCROW: 0}


@pytest.mark.parametrize(
    "legs",
    [
        [(rules.GATEWAY, -1990), (rules.ESCROW, 1989)],
        [(rules.ESCROW, 1990)],
        [(rules.GATEWAY, -1990), (rules.ESCROW, 0)],  # a zero leg is dropped: one leg left
    ],
)
def test_unbalanced_legs_are_refused_and_nothing_is_written(
    db: str, legs: list[tuple[str, int]]
) -> None:
    with pytest.raises(rules.UnbalancedTransfer):
        run_in_transaction(lambda s: ledger.transfer(s, "bad:1", "payment", legs))
    assert _counts() == (0, 0)
    # The id was not taken by the refused attempt.
    ok = [(rules.GATEWAY, -1990), (rules.ESCROW, 1990)]
    assert run_in_transaction(lambda s: ledger.transfer(s, "bad:1", "payment", ok))


def test_an_all_zero_transfer_records_nothing(db: str) -> None:
    legs = [(rules.GATEWAY, 0), (rules.ESCROW, 0)]
    assert run_in_transaction(lambda s: ledger.transfer(s, "zero:1", "payment", legs)) is False
    assert _counts() == (0, 0)


def test_balances_add_up_over_many_transfers(db: str) -> None:
    def work(s: Session) -> None:
        for i in range(1, 21):
            ledger.record_payment(s, payment_id=i, order_id=i, amount=100 * i)
            if i % 3 == 0:
                ledger.record_refund(s, refund_id=i, order_id=i, amount=10 * i)
            if i % 6 == 0:
                ledger.record_refund_sent(s, refund_id=i, order_id=i, amount=10 * i)

    run_in_transaction(work)
    paid = sum(100 * i for i in range(1, 21))
    refunded = sum(10 * i for i in range(1, 21) if i % 3 == 0)
    sent = sum(10 * i for i in range(1, 21) if i % 6 == 0)
    balances = _balances()
    assert balances[rules.ESCROW] == paid - refunded
    assert balances[rules.REFUNDS] == refunded - sent
    assert balances[rules.GATEWAY] == -paid + sent
    assert sum(balances.values()) == 0
    with unit_of_work(readonly=True) as s:
        assert ledger.balance(s, rules.ESCROW) == paid - refunded
        assert ledger.balance(s, rules.ESCROW, order_id=6) == 600 - 60
