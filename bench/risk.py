"""The risk engine's benchmark: how well it finds labelled fraud, next to a count-limit
baseline on the same log, how fast it replays, and what the help check adds to a request.

    python bench/risk.py [--members 16000] [--seed 7] [--help-checks 2000] [--database-url URL]

1. Generates a log (``tuangou.risk.generate``) of ``--members`` members (at least 10,000) with
   labelled help rings, camouflaged rings, device farms and invite farms among honest
   neighbourhoods.
2. Replays it through the engine (``tuangou.risk.engine.Replay``: the per-event rules of the
   request path, and the graph work as the worker runs it) and prints its precision and
   recall, overall and per pattern, beside the baseline's: the count limits other systems
   stop at (accounts per device, helps per member a day, signups per IP an hour, invitees
   per inviter), computed on the same log in the same run.
3. Prints the replay rate in events per second, and the time 100,000 events would take.
4. Against a database (a temporary SQLite file unless ``--database-url``), times
   ``risk.service.help_check`` inside a transaction, beside the same transaction without it,
   and prints the p50 and p99 the check adds to a help.

A pattern's precision counts every honest member flagged against it (tp / (tp + all false
positives)), the strictest reading. The last line is ``risk overall precision P recall R``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

# The count limits of the baseline (what the other systems have).
DEVICE_ACCOUNTS = 3  # accounts on one device
HELPS_A_DAY = 3  # bargains one member helps in a day
SIGNUPS_PER_IP_HOUR = 5
INVITEES = 15  # invitees of one inviter


def count_limits(events: Iterable[dict[str, Any]]) -> set[str]:
    """The members a count-limit system flags: over a limit at some point of the log."""
    flagged: set[str] = set()
    device_accounts: dict[str, set[str]] = defaultdict(set)
    helps_day: dict[tuple[str, str], int] = defaultdict(int)
    ip_hour: dict[tuple[str, str], list[str]] = defaultdict(list)
    invitees: dict[str, set[str]] = defaultdict(set)
    for e in events:
        t = e.get("type")
        at = str(e.get("at", ""))
        if t == "signup":
            m = str(e["member"])
            device_accounts[str(e.get("device"))].add(m)
            if len(device_accounts[str(e.get("device"))]) > DEVICE_ACCOUNTS:
                flagged |= device_accounts[str(e.get("device"))]
            key = (str(e.get("ip")), at[:13])
            ip_hour[key].append(m)
            if len(ip_hour[key]) > SIGNUPS_PER_IP_HOUR:
                flagged.update(ip_hour[key])
        elif t == "help":
            m = str(e["helper"])
            helps_day[(m, at[:10])] += 1
            if helps_day[(m, at[:10])] > HELPS_A_DAY:
                flagged.add(m)
        elif t == "invite":
            inviter = str(e["inviter"])
            invitees[inviter].add(str(e["invitee"]))
            if len(invitees[inviter]) > INVITEES:
                flagged.add(inviter)
    return flagged


def table(title: str, engine_scores: dict[str, Any], base_scores: dict[str, Any]) -> None:
    print(f"\n{title}")
    print(
        f"{'pattern':<18} {'members':>7}  {'engine P':>8} {'engine R':>8}   "
        f"{'limits P':>8} {'limits R':>8}"
    )
    for name, e in engine_scores.items():
        b = base_scores[name]
        print(
            f"{name:<18} {e['members']:>7}  {e['precision']:>8.3f} {e['recall']:>8.3f}   "
            f"{b['precision']:>8.3f} {b['recall']:>8.3f}"
        )


def help_latency(url: str | None, checks: int) -> tuple[float, float, float, float]:
    """(p50, p99 of a help's transaction without the check, p50, p99 of the check's added
    time) in milliseconds."""
    from sqlalchemy import text

    from tuangou import wiring
    from tuangou.accounts import service as accounts
    from tuangou.core import migrate
    from tuangou.core.config import reset_settings
    from tuangou.core.db import make_engine, run_in_transaction, set_engine
    from tuangou.risk import service as risk

    wiring.compose()
    tmp = None
    if url is None:
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{tmp}/risk-bench.db"
    os.environ["DATABASE_URL"] = url
    reset_settings()
    engine = make_engine(url)
    migrate.upgrade(engine)
    set_engine(engine)
    members = run_in_transaction(
        lambda s: [
            accounts.create_user(
                s, phone=f"1770{i:07d}", password="secret123", nickname=f"m{i}", role="member"
            ).id
            for i in range(200)
        ]
    )

    class Bargain:
        def __init__(self, id: int, starter_id: int) -> None:
            self.id, self.starter_id = id, starter_id

    base: list[float] = []
    added: list[float] = []
    for i in range(checks):
        helper = members[i % len(members)]
        bargain = Bargain(i // 8, members[(i // 8) % len(members)])

        def without(session: Any) -> None:
            session.execute(text("SELECT 1"))

        def with_check(
            session: Any, helper: int = helper, bargain: Bargain = bargain, i: int = i
        ) -> float:
            session.execute(text("SELECT 1"))
            t = time.perf_counter()
            risk.help_check(session, helper, bargain, f"dev{helper}", f"100.64.{i % 50}.9")
            return time.perf_counter() - t

        t0 = time.perf_counter()
        run_in_transaction(without)
        base.append(time.perf_counter() - t0)
        added.append(run_in_transaction(with_check))
    q = statistics.quantiles
    return (
        q(base, n=100)[49] * 1000,
        q(base, n=100)[98] * 1000,
        q(added, n=100)[49] * 1000,
        q(added, n=100)[98] * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--members", type=int, default=16_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--help-checks", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.members < 10_000:
        parser.error("--members must be at least 10,000")

    import json

    from tuangou.risk import engine, generate

    t = time.perf_counter()
    log = generate.generate(args.members, seed=args.seed)
    lines = list(log.lines())
    print(
        f"generated {len(lines)} events of {len(log.labels)} members "
        f"({sum(p != generate.HONEST for p in log.labels.values())} in fraud patterns) "
        f"in {time.perf_counter() - t:.1f} s"
    )
    labels = {str(m): p for m, p in log.labels.items()}

    replay = engine.Replay()
    t = time.perf_counter()
    events = replay.read(lines)
    report = replay.run(events)
    seconds = time.perf_counter() - t
    rate = report.events / seconds
    engine_scores = generate.score(set(report.flagged), labels)

    t = time.perf_counter()
    base_scores = generate.score(count_limits(json.loads(line) for line in lines), labels)
    base_seconds = time.perf_counter() - t
    table("precision (P) and recall (R), engine beside count limits:", engine_scores, base_scores)
    print(
        f"\nreplay: {report.events} events in {seconds:.1f} s (parsing included): "
        f"{rate:,.0f} events/s; 100,000 events would take {100_000 / rate:.1f} s "
        f"(count limits: {base_seconds:.1f} s)"
    )
    print(f"findings of the graph work: {dict(report.findings)}")

    p50_base, p99_base, p50, p99 = help_latency(args.database_url, args.help_checks)
    print(
        f"help check, {args.help_checks} helps: adds p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"(the help's transaction alone: p50 {p50_base:.2f} ms, p99 {p99_base:.2f} ms)"
    )
    o = engine_scores["overall"]
    print(f"risk overall precision {o['precision']:.3f} recall {o['recall']:.3f}")


if __name__ == "__main__":
    main()
