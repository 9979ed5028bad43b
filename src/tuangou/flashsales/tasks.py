"""Due flash-sale work: slots over and with nothing held give their allocation back.

(An unpaid flash order's hold is released by the orders' own job, which calls this kind's
``on_released``: its units come back to the slot.)"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tuangou.core.db import read, run_in_transaction
from tuangou.flashsales import service as flash


def settle_over(limit: int = 100) -> int:
    done = 0
    for slot_id in read(lambda s: flash.due_settlement(s, limit)):

        def settle(session: Session, slot_id: int = slot_id) -> bool:
            return flash.settle(session, slot_id)

        done += bool(run_in_transaction(settle))
    return done
