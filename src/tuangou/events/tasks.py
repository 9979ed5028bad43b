"""Due event work: reminders before the start, the refunds and releases of cancelled
events, events over, and the fees of seats kept in them. (An unpaid seat's hold is released
by the orders' own job, which calls this kind's ``on_released``: the seat goes to the next in
line.) Each step is a compare-and-set: run twice, it does its work once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tuangou.core.db import read, run_in_transaction
from tuangou.events import service as events


def remind_due(limit: int = 100) -> int:
    done = 0
    for event_id in read(lambda s: events.due_reminders(s, limit)):

        def remind(session: Session, event_id: int = event_id) -> int:
            return events.remind(session, event_id)

        done += run_in_transaction(remind)
    return done


def settle_cancelled(limit: int = 200) -> int:
    done = 0
    for signup_id in read(lambda s: events.due_cancelled(s, limit)):

        def settle(session: Session, signup_id: int = signup_id) -> bool:
            return events.settle_cancelled(session, signup_id)

        done += bool(run_in_transaction(settle))
    return done


def end_over(limit: int = 100) -> int:
    done = 0
    for event_id in read(lambda s: events.due_over(s, limit)):

        def end(session: Session, event_id: int = event_id) -> bool:
            return events.end_event(session, event_id)

        done += bool(run_in_transaction(end))
    for order_id in read(lambda s: events.due_kept(s, 200)):

        def release(session: Session, order_id: int = order_id) -> bool:
            return events.release_kept(session, order_id)

        done += bool(run_in_transaction(release))
    return done
