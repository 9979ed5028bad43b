"""N + k reports arriving at once hide a target exactly once, on both backends."""

from __future__ import annotations

import threading
from typing import Any

from tests.conftest import Api, rows
from tests.moderation.conftest import Notes, make_world
from tuangou.core.db import run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.moderation import service as moderation

THRESHOLD = 3
REPORTERS = 8  # the threshold and five more, all at once


def test_simultaneous_reports_hide_once_and_log_one_automatic_hide(api: Api, notes: Notes) -> None:
    w = make_world(api, members=REPORTERS + 1)
    author, *reporters = w.members
    note = notes.add(w.community["id"], author["user_id"])
    barrier = threading.Barrier(len(reporters))
    outcomes: list[Any] = []
    lock = threading.Lock()

    def one(who: dict[str, Any]) -> None:
        barrier.wait()
        try:
            done = run_in_transaction(
                lambda s: (
                    moderation.report(
                        s, user_id=who["user_id"], kind="note", target_id=note, reason="spam"
                    ).hidden_now
                )
            )
        except DomainError as exc:  # a report of a note hidden a moment ago
            done = exc.code
        with lock:
            outcomes.append(done)

    threads = [threading.Thread(target=one, args=(who,)) for who in reporters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(outcomes) == len(reporters)
    # Exactly one report hid it; the rest were counted, or refused once it was hidden.
    assert outcomes.count(True) == 1, outcomes
    assert set(outcomes) <= {True, False, "target_not_found"}, outcomes
    assert notes.calls == [(note, True)]
    assert rows("SELECT action FROM moderation_log") == [("auto_hide",)]
    assert rows("SELECT status FROM moderation_cases") == [("hidden_pending_review",)]
    counted = rows("SELECT COUNT(*) FROM moderation_reports")[0][0]
    assert counted == outcomes.count(True) + outcomes.count(False) >= THRESHOLD
    told = rows("SELECT COUNT(*) FROM outbox_events WHERE topic = 'moderation.hidden'")
    assert told == [(1,)]
