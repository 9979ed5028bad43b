"""Due order work: release unpaid holds, complete shipped orders, refund unshipped ones."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tuangou.core.db import read, run_in_transaction
from tuangou.orders import service as orders


def release_expired(limit: int = 200) -> int:
    done = 0
    for order_id in read(lambda s: orders.due_unpaid(s, limit)):

        def release(session: Session, order_id: int = order_id) -> bool:
            order = orders.get(session, order_id)  # release_unpaid locks, in the one order
            return orders.release_unpaid(session, order, reason="payment_timeout")

        done += bool(run_in_transaction(release))
    return done


def auto_complete(limit: int = 200) -> int:
    done = 0
    for order_id in read(lambda s: orders.due_auto_complete(s, limit)):

        def complete(session: Session, order_id: int = order_id) -> bool:
            return orders.auto_complete(session, order_id)

        done += bool(run_in_transaction(complete))
    return done


def refund_unshipped(limit: int = 200) -> int:
    done = 0
    for order_id in read(lambda s: orders.due_unshipped(s, limit)):

        def refund(session: Session, order_id: int = order_id) -> bool:
            return orders.refund_unshipped(session, order_id)

        done += bool(run_in_transaction(refund))
    return done
