"""The search's worker job: keep the index up to date."""

from __future__ import annotations

from tuangou.core.db import run_in_transaction
from tuangou.search import service as search


def refresh_index() -> int:
    """Index what went live, drop what ended, re-index changed texts now and then."""
    return run_in_transaction(lambda session: search.refresh(session))
