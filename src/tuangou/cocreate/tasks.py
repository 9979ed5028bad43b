"""Co-creation's worker job: archive open proposals that did not reach their threshold in
time (each by compare-and-set, so a second run or a second worker archives nothing twice)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tuangou.cocreate import service as cocreate
from tuangou.core.db import read, run_in_transaction


def archive_stale(limit: int = 200) -> int:
    archived = 0
    for proposal_id in read(lambda s: cocreate.due_for_archive(s, limit)):

        def work(session: Session, proposal_id: int = proposal_id) -> bool:
            return cocreate.archive(session, proposal_id)

        if run_in_transaction(work):
            archived += 1
    return archived
