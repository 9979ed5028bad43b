"""The HTTP floor under the join benchmark: how fast would a join be if its database work
cost nothing?

    python bench/floor.py [--clients 64] [--seconds 10]

Serves tuangou's own app (the same middleware, routes, dependencies and JSON responses) with
two extra routes matched first, shaped like a join and a sandbox payment but doing no database
work at all:

* ``POST /api/floor/teams/{team_id}/join`` takes the body, bearer token and
  ``Idempotency-Key`` of the real join, checks the token and fingerprints the request as the
  real one does, and answers 201 with the body of a real join's reply;
* ``POST /api/floor/sandbox/pay`` takes the real payment's body, checks its signature, and
  answers with the body of a real payment's reply.

(The replies are captured from one real join and one real payment at the start.) It then
measures, with ``--clients`` concurrent clients, the same server's no-op, the join-shaped
request alone, and the cycle of ``bench/join.py`` (a join, then its payment). Their rates
over the no-op's are upper bounds of what ``bench/join.py`` can report on this machine with
this stack, whatever the database work costs. The last line is ``floor join/noop ratio: X``.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name classes imported inside make_app.
import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp

from join import drive, free_port, launch, noop_phase, point_at, seed, stop_server

HERE = Path(__file__).resolve().parent
REPLIES = "TUANGOU_FLOOR_REPLIES"  # where the server finds the captured replies


def make_app() -> Any:
    """tuangou's app, plus the two database-free routes, matched before any other."""
    from fastapi import APIRouter, Request
    from fastapi.responses import JSONResponse

    from tuangou.api.app import create_app
    from tuangou.api.deps import IdemKey, Member
    from tuangou.api.responses import FastJSONResponse
    from tuangou.core import idempotency, logs
    from tuangou.core.config import get_settings
    from tuangou.payments.gateway import sandbox
    from tuangou.payments.schemas import SandboxPayIn
    from tuangou.teams.schemas import SeatIn

    logs.configure(get_settings().log_format)  # as tuangou.api.asgi, what serve runs
    replies: dict[str, Any] = {}

    def reply(name: str) -> Any:
        if not replies:
            replies.update(json.loads(Path(os.environ[REPLIES]).read_text()))
        return replies[name]

    app = create_app()
    floor = APIRouter(prefix="/api/floor")

    def routes(prefix: str, response: type[JSONResponse]) -> None:
        @floor.post(prefix + "/teams/{team_id}/join", status_code=201)
        async def join(
            team_id: int, body: SeatIn, request: Request, who: Member, key: IdemKey = None
        ) -> JSONResponse:
            idempotency.fingerprint(request.method, request.url.path, body.model_dump())
            return response(reply("join"), status_code=201)

        @floor.post(prefix + "/sandbox/pay")
        async def pay(body: SandboxPayIn) -> JSONResponse:
            sandbox().check(body.ref or "", body.amount or 0, body.sig or "")
            return response(reply("pay"))

    # The same two routes twice: the replies rendered by orjson (the app's default response
    # class) and by the standard library's json (Starlette's JSONResponse), to compare.
    routes("", FastJSONResponse)
    routes("/stdjson", JSONResponse)
    app.include_router(floor)
    added = len(floor.routes)
    for _ in range(added):  # matched first, like the no-op
        app.router.routes.insert(0, app.router.routes.pop())
    return app


SERVERS = ("uvicorn", "granian")


def server_args(server: str, target: str, port: int, workers: int) -> list[str]:
    """``python`` arguments serving the app factory ``target`` on 127.0.0.1:``port``, with
    the options ``tuangou serve`` gives the same server (see tuangou.cli)."""
    if server == "uvicorn":  # uvloop and httptools: picked when installed ("auto")
        args = ["-m", "uvicorn", target, "--factory", "--app-dir", str(HERE)]
        args += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        args += ["--timeout-worker-healthcheck", "60"]  # as tuangou serve (see tuangou.cli)
        return [*args, "--log-level", "warning", "--no-access-log"]
    if server == "granian":
        args = ["-m", "granian", "--interface", "asgi", "--factory", "--http", "1"]
        args += ["--loop", "uvloop", "--host", "127.0.0.1", "--port", str(port)]
        args += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
        return [*args, target]
    raise SystemExit(f"unknown server {server!r}: one of {', '.join(SERVERS)}")


def start(
    url: str,
    port: int,
    replies: Path,
    log: Path,
    *,
    server: str = "uvicorn",
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """tuangou's app with the floor routes (make_app), served by ``server``."""
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    env = {"DATABASE_URL": url, REPLIES: str(replies), "PYTHONPATH": path, **(env or {})}
    return launch(server_args(server, "floor:make_app", port, workers), env, port, log)


def post(url: str, body: Any, headers: dict[str, str]) -> Any:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def pay_body(join_reply: dict[str, Any]) -> dict[str, Any]:
    q = {k: v[0] for k, v in parse_qs(urlparse(join_reply["pay_url"]).query).items()}
    return {"ref": q["ref"], "amount": int(q["amount"]), "sig": q["sig"]}


async def floor_phase(
    base: str,
    tokens: list[str],
    team_id: int,
    pay: dict[str, Any] | None,
    seconds: float,
    *,
    prefix: str = "/api/floor",
) -> int:
    """Join-shaped requests (each followed by a payment-shaped one if ``pay``); returns
    the number of join-shaped 201s. ``prefix`` "/api/floor/stdjson" renders the replies
    with the standard library's json instead of orjson."""
    done = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def client(i: int, stop: float) -> None:
            nonlocal done
            n = 0
            auth = {"Authorization": f"Bearer {tokens[i]}"}
            while time.monotonic() < stop:
                n += 1
                headers = {**auth, "Idempotency-Key": f"floor-{i}-{n}"}
                path = f"{base}{prefix}/teams/{team_id}/join"
                async with http.post(path, json={"quantity": 1}, headers=headers) as r:
                    await r.read()
                    done += r.status == 201
                if pay is not None:
                    async with http.post(f"{base}{prefix}/sandbox/pay", json=pay) as r:
                        await r.read()

        stop = time.monotonic() + seconds
        await asyncio.gather(*(client(i, stop) for i in range(len(tokens))))
    return done


def capture(base: str, world: Any, replies: Path) -> dict[str, Any]:
    """One real join and its real payment: the floor routes answer with these bodies.
    Returns the payment's body, which the payment-shaped route accepts. Once captured in
    ``replies``, they are reused (a paid charge cannot be paid again)."""
    if replies.exists():
        return dict(json.loads(replies.read_text())["pay_in"])
    auth = {"Authorization": f"Bearer {world.tokens[0]}", "Idempotency-Key": "floor-real"}
    joined = post(f"{base}/api/teams/{world.teams[0]}/join", {"quantity": 1}, auth)
    pay = pay_body(joined)
    paid = post(f"{base}/api/sandbox/pay", pay, {})
    replies.write_text(json.dumps({"join": joined, "pay": paid, "pay_in": pay}))
    return pay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument(
        "--servers",
        default=",".join(SERVERS),
        help="ASGI servers measured one after the other in this run (the last line is the"
        " first one's)",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if args.clients < 1 or args.seconds <= 0 or args.workers < 1 or not servers:
        parser.error("--clients, --seconds, --workers and --servers must be positive")
    for name in servers:
        if name not in SERVERS:
            parser.error(f"unknown server {name!r}: one of {', '.join(SERVERS)}")

    tmp = Path(tempfile.mkdtemp(prefix="tuangou-floor-"))
    url = f"sqlite:///{tmp / 'floor.db'}"
    point_at(url)
    world = seed(args.clients, teams=4)
    replies = tmp / "replies.json"
    pay: dict[str, Any] | None = None
    print("tuangou HTTP floor: tuangou's app, join- and payment-shaped routes, no database")
    print(
        f"{args.workers} server process(es); {args.clients} clients; {args.seconds:g} s per"
        f" phase; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    first: float | None = None
    summary = []
    for name in servers:
        port = free_port()
        server = start(url, port, replies, tmp / f"{name}.log", server=name, workers=args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            if pay is None:
                pay = capture(base, world, replies)
            print(f"-- {name} on {base}")
            noop, cpu = drive(noop_phase(base, args.clients, args.seconds))
            noop_rate = noop.ok / args.seconds
            print(
                f"noop         GET /api/noop          {noop_rate:9.1f} req/s"
                f"  (the client used {cpu / (args.seconds + 1):.2f} CPU)"
            )
            team = world.teams[1]
            joins, cpu = drive(floor_phase(base, world.tokens, team, None, args.seconds))
            join_rate = joins / args.seconds
            print(
                f"join floor   POST, no database      {join_rate:9.1f} req/s"
                f"  (ratio {join_rate / noop_rate:.2f};"
                f" the client used {cpu / args.seconds:.2f} CPU)"
            )
            cycles, cpu = drive(floor_phase(base, world.tokens, team, pay, args.seconds))
            cycle_rate = cycles / args.seconds
            print(
                f"cycle floor  join + pay, no database {cycle_rate:9.1f} cycles/s"
                f"  (ratio {cycle_rate / noop_rate:.2f}: the ceiling of bench/join.py's ratio)"
            )
            std = "/api/floor/stdjson"
            cycles, _ = drive(floor_phase(base, world.tokens, team, pay, args.seconds, prefix=std))
            std_rate = cycles / args.seconds
            print(
                f"cycle floor  replies by stdlib json  {std_rate:9.1f} cycles/s"
                f"  (orjson/stdlib {cycle_rate / std_rate if std_rate else 0:.2f})"
            )
        finally:
            stop_server(server)
        summary.append((name, noop_rate, join_rate, cycle_rate, std_rate))
        if first is None:
            first = join_rate / noop_rate if noop_rate else 0.0
    print("server    noop/s   join floor/s  cycle floor/s  (stdlib json)")
    for name, noop_rate, join_rate, cycle_rate, std_rate in summary:
        print(f"{name:8} {noop_rate:8.1f} {join_rate:13.1f} {cycle_rate:14.1f}  ({std_rate:.1f})")
    print(f"floor join/noop ratio: {first or 0.0:.2f}")


if __name__ == "__main__":
    main()
