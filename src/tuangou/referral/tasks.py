"""The referral's worker job: commission past the after-sale window becomes withdrawable.
Safe with any number of workers at once: each line moves by compare-and-set."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tuangou.core.db import run_in_transaction
from tuangou.referral import service as referral


def unfreeze_due(limit: int = 500) -> int:
    done = 0
    for commission_id in run_in_transaction(lambda s: referral.due(s, limit)):

        def release(session: Session, commission_id: int = commission_id) -> bool:
            return referral.release_due(session, commission_id)

        done += bool(run_in_transaction(release))
    return done
