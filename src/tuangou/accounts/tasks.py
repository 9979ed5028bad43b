"""The accounts' worker job: page sessions that have ended (idle too long, or past their
lifetime) are deleted. Safe with any number of workers: deleting a row twice deletes it once,
and a session renewed meanwhile is kept (the delete checks the expiry again)."""

from __future__ import annotations

from tuangou.accounts import service as accounts
from tuangou.core.db import read, run_in_transaction


def forget_expired_sessions(limit: int = 500) -> int:
    """Delete expired page sessions (read first: a round with none takes no write lock)."""
    keys = read(lambda session: accounts.expired_page_sessions(session, limit=limit))
    if not keys:
        return 0
    return run_in_transaction(lambda session: accounts.forget_page_sessions(session, keys))
