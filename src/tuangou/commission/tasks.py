"""The commission's worker job: commissions past the after-sale window become withdrawable.
Safe with any number of workers at once: each commission moves by compare-and-set."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tuangou.commission import service as commission
from tuangou.commission.models import Commission, CommissionWallet
from tuangou.commission.rules import CommissionStatus
from tuangou.communities import service as communities
from tuangou.core import clock, outbox
from tuangou.core.db import run_in_transaction, table
from tuangou.ledger import service as ledger


def unfreeze_due(limit: int = 500) -> int:
    """Commissions past the after-sale window become withdrawable."""

    def due(session: Session) -> list[int]:
        return list(
            session.scalars(
                select(Commission.id)
                .where(
                    Commission.status == CommissionStatus.FROZEN,
                    Commission.available_at <= clock.now(),
                )
                .limit(limit)
            )
        )

    done = 0
    for commission_id in run_in_transaction(due):

        def release(session: Session, commission_id: int = commission_id) -> bool:
            moved = session.execute(
                update(table(Commission))
                .where(Commission.id == commission_id, Commission.status == CommissionStatus.FROZEN)
                .values(status=CommissionStatus.AVAILABLE)
            ).rowcount  # type: ignore[attr-defined]
            if not moved:
                return False
            c = session.get(Commission, commission_id)
            assert c is not None
            session.refresh(c)
            value = c.amount - c.reversed_amount
            if value > 0:
                session.execute(
                    update(table(CommissionWallet))
                    .where(CommissionWallet.leader_id == c.leader_id)
                    .values(
                        frozen=CommissionWallet.frozen - value,
                        available=CommissionWallet.available + value,
                    )
                )
                ledger.transfer(
                    session,
                    f"commission-available:{c.id}",
                    "commission_available",
                    [
                        (commission.frozen_account(c.leader_id), -value),
                        (commission.available_account(c.leader_id), value),
                    ],
                    order_id=c.order_id,
                )
                leader = communities.get_leader(session, c.leader_id)
                outbox.emit(
                    session,
                    "commission.available",
                    {
                        "user_ids": [leader.user_id],
                        "commission_id": c.id,
                        "order_id": c.order_id,
                        "amount": value,
                    },
                )
            return True

        done += bool(run_in_transaction(release))
    return done
