"""One order is paid once: while a charged payment waits for its confirmation, no second
payment of the order is started or charged; two payments racing to be charged get one charge;
after the order is paid nothing more is charged. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.conftest import run_worker, scalar
from tests.pools.support import Item, seed_leader, seed_members, seed_operator, seed_sku, seed_wave
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.orders import service as orders
from tuangou.payments import service as payments

pytestmark = pytest.mark.usefixtures("db")


def _order() -> tuple[int, int]:
    """A member's unpaid wave order: (user id, order id)."""
    from tuangou.pools import service as pools

    leader = seed_leader(seed_operator().user_id)
    (member,) = seed_members(leader, 1)
    _, sku = seed_sku(price=2590)
    _, listing, (item,) = seed_wave(leader, [Item(sku, price=2590)])

    def place(session: Any) -> int:
        placed = pools.place_order(
            session, user_id=member.user_id, listing_id=listing, quantities={item: 1}
        )
        return int(placed.order.id)

    return member.user_id, run_in_transaction(place)


def _start(user_id: int, order_id: int) -> int:
    return run_in_transaction(
        lambda s: payments.start_for_user(s, user_id=user_id, order_id=order_id).payment.id
    )


def _charge(payment_id: int) -> str:
    """The payer approves ``payment_id`` on the sandbox page: the gateway's status, or the
    refusal's code."""

    def work(session: Any) -> str:
        payment = session.get(payments.Payment, payment_id)
        query = parse_qs(urlparse(payments.pay_url(payment)).query)
        return str(
            payments.sandbox_authorize(
                session,
                ref=payment.gateway_ref,
                amount=payment.amount,
                sig=query["sig"][0],
                outcome="approve",
            ).status
        )

    try:
        return run_in_transaction(work)
    except DomainError as exc:
        return str(exc.code)


def _charges(order_id: int) -> int:
    return int(
        scalar(
            "SELECT count(*) FROM sandbox_charges c JOIN payments p ON p.gateway_ref = c.ref"
            " WHERE p.order_id = :o AND c.status = 'succeeded'",
            o=order_id,
        )
    )


def _paid(order_id: int) -> tuple[str, int, int]:
    with unit_of_work(readonly=True) as session:
        order = orders.get(session, order_id)
        return str(order.status), int(order.paid_amount), int(order.refunded_amount)


def test_a_charged_payment_waiting_for_its_callback_blocks_a_second_payment() -> None:
    user_id, order_id = _order()
    first = _start(user_id, order_id)
    assert _charge(first) == "succeeded"
    # The callback has not landed: the order still reads unpaid, but it is in flight.
    assert _paid(order_id)[0] == "pending_payment"
    with unit_of_work(readonly=True) as session:
        flying = payments.in_flight(session, order_id)
        assert flying is not None and flying.id == first
    with pytest.raises(payments.errors.PaymentInFlight):
        _start(user_id, order_id)
    assert _charge(first) == "charge_closed"  # the same payment is not charged twice either
    assert _charges(order_id) == 1

    run_worker()  # the callback lands
    assert _paid(order_id) == ("paid", 2590, 0)
    with pytest.raises(orders.errors.OrderNotPayable):
        _start(user_id, order_id)  # a pay after paid
    assert _charges(order_id) == 1


def test_two_payments_of_one_order_racing_to_be_charged_get_one_charge() -> None:
    user_id, order_id = _order()
    # Two tabs each started a payment before either was charged.
    ids = [_start(user_id, order_id), _start(user_id, order_id)]
    barrier = threading.Barrier(2)
    answers: dict[int, str] = {}

    def pay(payment_id: int) -> None:
        barrier.wait()
        answers[payment_id] = _charge(payment_id)

    threads = [threading.Thread(target=pay, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # One is charged; the other is refused, or (both past the check at once) charged too.
    assert sorted(answers.values()) in (
        ["payment_in_flight", "succeeded"],
        ["succeeded", "succeeded"],
    ), answers
    charged = _charges(order_id)
    run_worker()
    # Either way the order is paid once: a second charge is refunded in full as late.
    status, paid, refunded = _paid(order_id)
    assert status == "paid" and paid - refunded == 2590 and refunded == 2590 * (charged - 1)
    # Nothing more is charged once the order is paid.
    for payment_id in ids:
        assert _charge(payment_id) in ("payment_in_flight", "charge_closed")
    assert _charges(order_id) == charged


def test_two_charged_payments_landing_at_once_pay_the_order_once() -> None:
    """Even a gateway that charged twice (the sandbox's own book written directly) does not
    pay one order twice: one payment pays it, the other is refunded in full as late."""
    user_id, order_id = _order()
    ids = [_start(user_id, order_id), _start(user_id, order_id)]

    def charge_both(session: Any) -> list[str]:
        refs = []
        for payment_id in ids:
            payment = session.get(payments.Payment, payment_id)
            query = parse_qs(urlparse(payments.pay_url(payment)).query)
            payments.sandbox().authorize(
                session,
                ref=payment.gateway_ref,
                amount=payment.amount,
                sig=query["sig"][0],
                outcome="approve",
            )
            refs.append(payment.gateway_ref)
        return refs

    refs = run_in_transaction(charge_both)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def land(ref: str) -> None:
        barrier.wait()
        results.append(
            run_in_transaction(lambda s: payments.apply_outcomes(s, [(ref, "succeeded")])[ref])
        )

    threads = [threading.Thread(target=land, args=(r,)) for r in refs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["late", "paid"]
    status, paid, refunded = _paid(order_id)
    assert status == "paid" and paid - refunded == 2590 and refunded == 2590
