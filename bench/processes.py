"""Several server processes on one database: join-and-pay cycles per second with 1, 2 and 4
``tuangou serve`` processes, in one run.

    python bench/processes.py --database-url postgresql://postgres@127.0.0.1:55432/bench
    python bench/processes.py --sweep 1,2,4 --worker-processes 2 --clients 64 --seconds 10

Seeds once, then for each count in ``--sweep`` runs ``bench/join.py``'s measurement (no-op,
cycle floor, joins and payments, drain, confirmation lag, audit) against a server of that many
processes, with ``--worker-processes`` standalone ``tuangou worker`` processes beside them.
It prints a line per count, and last ``processes cycles N/1: X``: the cycles per second of the
largest count over those of one process.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from join import measure, percentile, point_at, seed


def main() -> None:
    from floor import SERVERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--sweep", default="1,2,4", help="server process counts, in order")
    parser.add_argument("--worker-processes", type=int, default=2)
    parser.add_argument("--server", choices=SERVERS, default="uvicorn")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    args = parser.parse_args()
    counts = [int(n) for n in args.sweep.split(",") if n.strip()]
    if not counts or min(counts) < 1 or args.clients < 1 or args.seconds <= 0:
        parser.error("--sweep, --clients and --seconds must be positive")

    tmp = Path(tempfile.mkdtemp(prefix="tuangou-processes-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    label = "sqlite (temporary file)" if not args.database_url else url.split("@")[-1]
    point_at(url)
    world = seed(args.clients, teams=max(4 * args.clients * len(counts), 64))
    print(f"tuangou server processes: {label}; sweep {counts}")
    results = []
    for n in counts:
        print(f"-- {n} server process(es)")
        results.append(
            measure(
                url,
                world,
                tmp,
                clients=args.clients,
                seconds=args.seconds,
                workers=n,
                server=args.server,
                worker_processes=args.worker_processes,
            )
        )
    print("processes  noop/s  floor cycles/s  cycles/s  cycles/floor  lag p99  audit")
    for r in results:
        print(
            f"{r.workers:9d} {r.noop_rate:7.1f} {r.floor_rate:15.1f} {r.cycle_rate:9.1f}"
            f" {r.ratio:13.2f} {percentile(r.lags, 99) * 1000:6.0f} ms"
            f"  {'FAIL' if r.violations else 'PASS'}"
        )
    first, last = results[0], results[-1]
    scale = last.cycle_rate / first.cycle_rate if first.cycle_rate else 0.0
    print(f"processes cycles {last.workers}/{first.workers}: {scale:.2f}")


if __name__ == "__main__":
    main()
