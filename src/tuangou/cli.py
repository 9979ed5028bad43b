"""The ``tuangou`` command: serving, the worker, migrations, the audit, backups, and the
operators' tools (risk, points, webhooks, coupons, the simulator, reconciliation…); ``tuangou
--help`` lists them all."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from tuangou.core.config import get_settings, reset_settings

app = typer.Typer(
    help="tuangou: open, self-hosted social group-buying (社交团购).", no_args_is_help=True
)
console = Console()

DbOption = Annotated[
    str | None,
    typer.Option("--database-url", help="overrides DATABASE_URL (default: sqlite:///tuangou.db)"),
]


def _setup(database_url: str | None) -> None:
    """What every command does first: its database, its logs, and the whole composition."""
    from tuangou import wiring

    wiring.compose()
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        reset_settings()
    from tuangou.core import logs

    logs.configure(get_settings().log_format)


def _migrate_if_needed() -> None:
    from tuangou.core import migrate

    if not migrate.is_current():
        console.print(f"migrating the database to [bold]{migrate.head()}[/bold] …")
        migrate.upgrade()
    from tuangou.core import secret

    secret.secret_key()  # made once, outside any other transaction


WORKER_HEALTHCHECK_SECONDS = 60


def _serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    console.print(f"tuangou on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if workers > 1:
        uvicorn.run(
            "tuangou.api.asgi:app",
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
            # The supervisor kills a process that does not answer its ping in time. Importing
            # the app holds the interpreter lock for long stretches, and on a busy machine
            # the default 5 s had every process killed and respawned before it ever served.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )
    else:
        from tuangou.api.app import create_app

        uvicorn.run(create_app(), host=host, port=port, log_level="warning", access_log=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="server processes")] = 1,
    database_url: DbOption = None,
) -> None:
    """Run the platform (API at /api, OpenAPI at /docs), migrating a new database first."""
    _setup(database_url)
    _migrate_if_needed()
    _serve(host, port, workers)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    database_url: DbOption = None,
) -> None:
    """Like serve, with demo data: a supplier, products, members, running team buys, and
    leaders' communities with waves open, arrived and completed."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou import demo as demo_data

    result = demo_data.load()
    if result.get("loaded"):
        console.print("demo data loaded")
    table = Table(title="demo log-ins (password: demo1234)")
    table.add_column("role")
    table.add_column("phone")
    table.add_row("operator", demo_data.OPERATOR_PHONE)
    table.add_row("supplier", demo_data.SUPPLIER_PHONE)
    for phone, name in demo_data.MEMBERS:
        table.add_row(f"member {name}", phone)
    for phone, name, point, *_ in demo_data.LEADERS:
        table.add_row(f"leader {name} · {point}", phone)
    console.print(table)
    _serve(host, port, 1)


@app.command()
def migrate(database_url: DbOption = None) -> None:
    """Apply the database migrations."""
    _setup(database_url)
    from tuangou.core import migrate as m

    m.upgrade()
    console.print(f"database at revision [bold]{m.current()}[/bold]")


@app.command()
def worker(
    database_url: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="run until idle, then exit")] = False,
) -> None:
    """Run the background jobs (settle due teams, release unpaid holds, deliver events…)."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou import worker as w

    if once:
        done = w.run_until_idle()
        for name, n in done.items():
            console.print(f"{name}: {n}")
        return
    from tuangou.core import wakeup

    stop = threading.Event()

    def finish(*_: object) -> None:  # the current job ends, then the loop
        stop.set()
        wakeup.interrupt()

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    w.loop(stop, get_settings().worker_interval)


@app.command()
def createoperator(
    phone: Annotated[str, typer.Option(prompt=True, help="11-digit mobile number")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    nickname: Annotated[str, typer.Option(help="display name")] = "运营",
    database_url: DbOption = None,
) -> None:
    """Create an operator account."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou.accounts import service as accounts
    from tuangou.core.db import run_in_transaction
    from tuangou.core.errors import DomainError

    try:
        user_id = run_in_transaction(
            lambda s: (
                accounts.create_user(
                    s, phone=phone, password=password, nickname=nickname, role="operator"
                ).id
            )
        )
    except DomainError as exc:
        console.print(f"[red]{exc.code}[/red]: {exc.detail}")
        raise typer.Exit(2) from exc
    console.print(f"operator {phone} created (user {user_id})")


@app.command()
def audit(database_url: DbOption = None) -> None:
    """Check the invariants (no oversell, seats, settle once, order money, journal)."""
    _setup(database_url)
    from tuangou import audit as a
    from tuangou.core.db import unit_of_work

    with unit_of_work(readonly=True) as session:
        results = a.run(session)
    failed = 0
    for check in results:
        mark = "[green]PASS[/green]" if check.ok else "[red]FAIL[/red]"
        console.print(f"{mark} invariant {check.invariant}: {check.name}")
        for violation in check.violations[:50]:
            console.print(f"     - {violation}")
        if len(check.violations) > 50:
            console.print(f"     … and {len(check.violations) - 50} more")
        failed += len(check.violations)
    if failed:
        console.print(f"[red]{failed} violation(s)[/red]")
        raise typer.Exit(1)
    console.print("all invariants hold")


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="the backup file to write (must not exist)")],
    database_url: DbOption = None,
) -> None:
    """Back up the database while the platform runs (SQLite's online backup, or pg_dump)."""
    _setup(database_url)
    from tuangou.core import backup as b

    try:
        b.backup(get_settings().database_url, path)
    except b.BackupError as exc:
        console.print(f"[red]backup failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"backed up to {path} ({path.stat().st_size:,} bytes)")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="a file written by tuangou backup")],
    database_url: DbOption = None,
) -> None:
    """Restore a backup into the database, replacing what it holds (stop the server and
    workers first); then run tuangou audit on it."""
    _setup(database_url)
    from tuangou.core import backup as b

    try:
        b.restore(path, get_settings().database_url)
    except b.BackupError as exc:
        console.print(f"[red]restore failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"restored {path}; now run: tuangou audit")


risk_app = typer.Typer(
    help="The risk engine: replay an event log, generate one, run the graph work."
)
app.add_typer(risk_app, name="risk")


@risk_app.command("replay")
def risk_replay(
    events: Annotated[str, typer.Argument(help="the event log: one JSON object a line")],
    flagged: Annotated[
        str, typer.Option("--flagged", help="where to write the flagged member ids, one a line")
    ],
    graph_every: Annotated[
        int, typer.Option(help="run the graph work every N events, as the worker would")
    ] = 50_000,
) -> None:
    """Replay an event log through the risk engine (the same rules as the platform's, in
    memory), in time order, and write the flagged member ids. Unknown event types are skipped
    and counted; a malformed line is skipped and reported with its line number."""
    from tuangou.risk import engine

    try:
        lines = list(engine.iter_file(events))
    except OSError as exc:
        console.print(f"[red]cannot read {events}[/red]: {exc.strerror}")
        raise typer.Exit(2) from exc
    replay = engine.Replay(graph_every=graph_every)
    report = replay.run(replay.read(lines))
    with open(flagged, "w", encoding="utf-8") as out:
        for member in report.flagged:
            out.write(f"{member}\n")
    rate = report.events / report.seconds if report.seconds else 0.0
    console.print(
        f"replayed {report.events} events in {report.seconds:.2f} s ({rate:,.0f} events/s); "
        f"flagged {len(report.flagged)} members → {flagged}"
    )
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(report.verdicts.items()))
    console.print(f"verdicts: {verdicts or 'none'}")
    found = ", ".join(f"{k} {v}" for k, v in sorted(report.findings.items()))
    console.print(f"graph findings: {found or 'none'}")
    for type_, n in sorted(report.skipped_types.items()):
        console.print(f"[yellow]skipped {n} event(s) of unknown type {type_!r}[/yellow]")
    for line_no, problem in report.malformed:
        console.print(f"[yellow]line {line_no}: malformed, skipped: {problem}[/yellow]")


@risk_app.command("generate")
def risk_generate(
    out: Annotated[str, typer.Argument(help="the event log to write (JSON lines)")],
    members: Annotated[int, typer.Option(help="about how many members")] = 10_000,
    seed: Annotated[int, typer.Option(help="the same seed gives the same log")] = 7,
    labels: Annotated[
        str | None, typer.Option(help="where to write the labels (JSON: member → pattern)")
    ] = None,
) -> None:
    """Generate an event log with labelled fraud (help rings, camouflaged rings, device farms,
    invite farms) among honest neighbourhoods."""
    from tuangou.risk import generate

    if members < 100:
        console.print("[red]--members must be at least 100[/red]")
        raise typer.Exit(2)
    log = generate.generate(members, seed=seed)
    log.write(out, labels)
    console.print(f"{len(log.events)} events of {len(log.labels)} members → {out}")


@risk_app.command("analyse")
def risk_analyse(database_url: DbOption = None) -> None:
    """Run the graph work over the platform's recent events now (the worker runs it every
    few minutes) and open review cases for what it finds."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou.risk import tasks

    console.print(f"{tasks.analyse_graph(force=True)} new review case(s)")


points_app = typer.Typer(help="Points (积分): run the expiry now, show a member's points.")
app.add_typer(points_app, name="points")


@points_app.command("expire")
def points_expire(database_url: DbOption = None) -> None:
    """Expire every member's points that are past their end now (the worker does it once a
    day); running it again expires nothing more."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou.points import tasks

    console.print(f"{tasks.expire_all()} point(s) expired")


@points_app.command("show")
def points_show(
    member: Annotated[int, typer.Argument(help="the member's id")],
    database_url: DbOption = None,
) -> None:
    """A member's points: balance, experience and level, streak, what expires when, and the
    latest entries."""
    _setup(database_url)
    from tuangou.accounts import service as accounts
    from tuangou.core.db import unit_of_work
    from tuangou.core.errors import NotFound
    from tuangou.points import service as points

    with unit_of_work(readonly=True) as session:
        try:
            accounts.get_user(session, member)
        except NotFound as exc:
            console.print(f"[red]no member {member}[/red]")
            raise typer.Exit(1) from exc
        s = points.summary(session, member)
        rows = points.entries(session, member, limit=20)
    lv = s.level
    console.print(f"member {member}: {s.balance} points, {s.experience} experience")
    nxt = f", {lv.to_next} to {lv.next.name}" if lv.next else ""
    console.print(f"level {lv.index + 1} {lv.level.name}{nxt}")
    console.print(
        f"streak {s.streak} day(s); checked in today: {'yes' if s.checked_in_today else 'no'}"
    )
    for e in s.expiring:
        console.print(f"{e.points} point(s) expire after {e.on.isoformat()}")
    for row in rows:
        console.print(f"  {row.at:%Y-%m-%d %H:%M} {row.amount:+d} {row.kind} {row.memo}")


webhooks_app = typer.Typer(help="Outgoing webhooks: list the endpoints, send what is due now.")
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("list")
def webhooks_list(database_url: DbOption = None) -> None:
    """Every endpoint: its address, whether it is active, its topics and its deliveries by
    status (secrets are never shown here)."""
    _setup(database_url)
    from tuangou.core.db import unit_of_work
    from tuangou.webhooks import service as webhooks

    with unit_of_work(readonly=True) as session:
        endpoints = webhooks.list_endpoints(session)
        counts = webhooks.counts(session)
    table = Table("id", "address", "state", "topics", "pending", "delivered", "failed")
    for e in endpoints:
        n = counts.get(e.id, {})
        table.add_row(
            str(e.id),
            e.url,
            "active" if e.active else "paused",
            ", ".join(e.topics),
            *(str(n.get(s, 0)) for s in ("pending", "delivered", "failed")),
        )
    console.print(table if endpoints else "no endpoint")


@webhooks_app.command("deliver")
def webhooks_deliver(database_url: DbOption = None) -> None:
    """Send the due deliveries now, until none is left due (the worker does it every round)."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou.core import outbox
    from tuangou.webhooks import service as webhooks

    outbox.deliver_pending()
    total = 0
    while sent := webhooks.send_due():
        total += sent
    console.print(f"{total} request(s) sent")


coupons_app = typer.Typer(help="Coupons (优惠券): the operator's catalogue.")
app.add_typer(coupons_app, name="coupons")


@coupons_app.command("list")
def coupons_list(database_url: DbOption = None) -> None:
    """The coupon catalogue: what each gives, for what minimum spend and kinds of order, its
    price in points, its stock and whether it is on offer."""
    _setup(database_url)
    from tuangou.core.db import unit_of_work
    from tuangou.core.money import fmt
    from tuangou.coupons import service as coupons

    with unit_of_work(readonly=True) as session:
        found = coupons.catalogue(session)
    for c in found:
        gives = fmt(c.amount) if c.form == "fixed" else f"{c.percent_bps / 100:g}%"
        cap = f" (at most {fmt(c.cap)})" if c.cap else ""
        state = "on offer" if c.active else "paused"
        console.print(
            f"{c.id} {c.name}: {gives} off{cap} from {fmt(c.min_spend)} on {c.kinds};"
            f" {c.points_price} points; stock {c.stock}; {state}"
        )
    if not found:
        console.print("no coupons")


@app.command()
def simulate(
    sku: Annotated[int, typer.Option("--sku", help="the SKU of the proposed campaign")],
    price: Annotated[int, typer.Option("--price", help="the group price at the team size, fen")],
    team_size: Annotated[str, typer.Option(help="team sizes to compare: 2,3,5")] = "2",
    window: Annotated[str, typer.Option(help="team windows to compare: 24h,48h")] = "24h",
    tiers: Annotated[
        str, typer.Option(help="ladders past the team size, members:fen; ';' between: none;5:2690")
    ] = "none",
    completion: Annotated[str, typer.Option(help="platform completion: on, off or on,off")] = "off",
    completion_percent: Annotated[int, typer.Option(help="completion from this % filled")] = 50,
    subsidy_budget: Annotated[int, typer.Option(help="the completion budget, fen")] = 100_000,
    hours: Annotated[int, typer.Option(help="how long the campaign runs, hours")] = 72,
    stock: Annotated[int | None, typer.Option(help="the campaign's stock (one a member)")] = None,
    members: Annotated[int, typer.Option(help="simulated members")] = 200,
    runs: Annotated[int, typer.Option(help="runs per setting (seeds S, S+1, …)")] = 5,
    seed: Annotated[int, typer.Option(help="the first seed")] = 1,
    database_url: DbOption = None,
) -> None:
    """What if: run a proposed team-buy campaign with simulated members against the real
    engine, in a sandbox copy of the database, for each combination of the settings given;
    print the team success rate, GMV, subsidy, refunds and the members left in failed teams
    (mean and p10–p90 over the runs). The live database is only read."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou.simulate import report, rules

    try:
        spec = rules.check(
            rules.Spec(
                sku_id=sku,
                price=price,
                team_sizes=rules.parse_ints(team_size, "team_size"),
                windows=rules.parse_hours(window),
                tiers=rules.parse_tiers(tiers),
                completions=rules.parse_completion(completion),
                completion_percent=completion_percent,
                subsidy_budget=subsidy_budget,
                campaign_hours=hours,
                stock=stock,
                members=members,
                runs=runs,
                seed=seed,
            )
        )
    except rules.SpecProblem as exc:
        console.print(f"[red]{exc.field}: {exc.message}[/red]")
        raise typer.Exit(2) from exc
    if report.run(console, spec) is None:
        raise typer.Exit(1)


@app.command()
def reconcile(
    statement: Annotated[str, typer.Argument(help="the gateway's statement file")],
    gateway: Annotated[str, typer.Option("--gateway", help="wechat or alipay")],
    database_url: DbOption = None,
) -> None:
    """对账: compare a gateway's statement (WeChat Pay trade bill CSV, Alipay business detail
    CSV) with our payments and refunds; list every mismatch; exit 1 if there is any."""
    _setup(database_url)
    from pathlib import Path

    from tuangou.core.db import unit_of_work
    from tuangou.core.money import fmt
    from tuangou.payments import reconcile as rec

    if gateway not in rec.GATEWAYS:
        console.print(f"[red]--gateway must be one of {', '.join(rec.GATEWAYS)}[/red]")
        raise typer.Exit(2)
    try:
        parsed = rec.read(gateway, Path(statement).read_bytes())
    except (OSError, rec.StatementError) as exc:
        console.print(f"[red]cannot read the statement: {exc}[/red]")
        raise typer.Exit(2) from None
    with unit_of_work(readonly=True) as session:
        found = rec.reconcile(session, gateway, parsed)
    period = f"{parsed.first_day} … {parsed.last_day}"
    if not found:
        console.print(f"{gateway} {period}: {len(parsed.lines)} line(s), no mismatch")
        return
    table = Table(title=f"{gateway} {period}: {len(found)} mismatch(es)")
    for column in ("problem", "payment", "refund", "ours", "theirs"):
        table.add_column(column)
    for m in found:
        table.add_row(
            m.problem,
            m.ref,
            m.refund_key or "",
            "" if m.ours is None else fmt(m.ours),
            "" if m.theirs is None else fmt(m.theirs),
        )
    console.print(table)
    raise typer.Exit(1)


notify_app = typer.Typer(help="Message channels (SMS, WeChat, e-mail): try a provider's settings.")
app.add_typer(notify_app, name="notify")


@notify_app.command("test")
def notify_test(
    channel: Annotated[str, typer.Option(help="sms, wechat or email")],
    to: Annotated[str, typer.Option(help="a phone number, a mini-program openid or an e-mail")],
) -> None:
    """Send one test message through the configured provider (its settings, its template);
    prints the provider's message id, or why it was refused. Needs no database."""
    from tuangou.notifications import service as notifications
    from tuangou.notifications.rules import mask_address

    try:
        message_id = notifications.send_test(channel, to)
    except Exception as exc:  # the provider's refusal, said plainly
        console.print(f"not sent to {mask_address(channel, to)}: {exc}")
        raise typer.Exit(1) from None
    console.print(f"sent to {mask_address(channel, to)}: {message_id}")


@app.command()
def verify(
    key: Annotated[
        str | None,
        typer.Option("--key", help="the pinned public key (hex, or a file) from /journal/key"),
    ] = None,
    server: Annotated[str | None, typer.Option("--server", help="the server's URL")] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="TUANGOU_TOKEN", help="your bearer token")
    ] = None,
    bundle: Annotated[
        str | None, typer.Option("--bundle", help="a proof bundle exported from 我的账本")
    ] = None,
    state: Annotated[
        str | None,
        typer.Option("--state", help="a file remembering the checkpoint seen last time"),
    ] = None,
    local: Annotated[
        bool, typer.Option("--local", help="operators: check the database itself")
    ] = False,
    database_url: DbOption = None,
) -> None:
    """Check the verifiable record (可验证的账本) without trusting the server: checkpoint
    signatures, your entries' inclusion proofs, consistency between checkpoints, and that
    your escrow balance is the sum of your entries. ``--local``: recompute every leaf from
    the journaled rows and every checkpoint's root, naming any entry that was changed."""
    import json
    from pathlib import Path

    from tuangou.journal import verify as v

    if local:
        _setup(database_url)
        from tuangou.core.db import unit_of_work
        from tuangou.journal import service as journal

        with unit_of_work(readonly=True) as session:
            problems = journal.verify_local(session)
            size = journal.size(session)
        for problem in problems:
            console.print(f"[red]FAIL[/red] {problem}")
        if problems:
            raise typer.Exit(1)
        console.print(f"the record holds: {size} entries, every checkpoint signed and consistent")
        return
    if not key or not (bundle or (server and token)):
        console.print("[red]give --key, and --bundle FILE or --server URL with --token[/red]")
        raise typer.Exit(2)
    try:
        pinned = v.load_key(key)
        found = (
            json.loads(Path(bundle).read_text())
            if bundle
            else v.fetch_bundle(server or "", token or "")
        )
    except (OSError, ValueError) as exc:
        console.print(f"[red]FAIL[/red] {exc}")
        raise typer.Exit(1) from exc
    problems, notes = v.check(found, pinned, server=server, state=Path(state) if state else None)
    for note in notes:
        console.print(note)
    for problem in problems:
        console.print(f"[red]FAIL[/red] {problem}")
    if problems:
        raise typer.Exit(1)
    console.print("[green]verified[/green]")


journal_app = typer.Typer(help="The verifiable record (可验证的账本).")
app.add_typer(journal_app, name="journal")


@journal_app.command("checkpoint")
def journal_checkpoint(database_url: DbOption = None) -> None:
    """Sign a checkpoint of the whole log and of each grown community view now."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou.journal import service as journal

    n = journal.publish_checkpoints(force=True)
    console.print(f"{n} checkpoint(s) signed; public key {journal.public_key().hex()}")


recommend_app = typer.Typer(help="Recommendations (猜你喜欢): train, show, evaluate.")
app.add_typer(recommend_app, name="recommend")


@recommend_app.command("train")
def recommend_train(
    algorithm: Annotated[str, typer.Option(help="als or bpr")] = "als",
    database_url: DbOption = None,
) -> None:
    """Train the next model version on every purchase now (the worker does it on its
    schedule); a failed run is recorded and the previous good version stays served."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou.recommend import service as recommend

    try:
        chosen = recommend.Algorithm(algorithm)
    except ValueError as exc:
        console.print("[red]--algorithm is als or bpr[/red]")
        raise typer.Exit(2) from exc
    done = recommend.train(algorithm=chosen)
    console.print(
        f"version {done.version}: {done.status} ({done.members} members, {done.items} products,"
        f" {done.interactions} interactions){': ' + done.error if done.error else ''}"
    )
    if done.status != "good":
        raise typer.Exit(1)


@recommend_app.command("show")
def recommend_show(
    member: Annotated[int, typer.Argument(help="the member's id")],
    database_url: DbOption = None,
) -> None:
    """A member's 猜你喜欢 row as the home page shows it: the source, the model version and
    each recommendation with its reason and score; and the kept model versions."""
    _setup(database_url)
    from tuangou.accounts import service as accounts
    from tuangou.core.db import unit_of_work
    from tuangou.core.errors import NotFound
    from tuangou.core.money import fmt
    from tuangou.recommend import rules
    from tuangou.recommend import service as recommend

    with unit_of_work(readonly=True) as session:
        try:
            accounts.get_user(session, member)
        except NotFound as exc:
            console.print(f"[red]no member {member}[/red]")
            raise typer.Exit(1) from exc
        found = recommend.recommend(session, member)
        kept = [
            (v.version, v.status, v.algorithm, v.trained_at, v.members, v.items, v.error)
            for v in recommend.versions(session)
        ]
    console.print(f"member {member}: source {found.source}, model version {found.model_version}")
    for r in found.items:
        console.print(
            f"  {r.score:.3f} {r.offer.link} {r.product_title} {fmt(r.offer.price)}"
            f" · {rules.REASON_WORDS[r.reason][1]}"
        )
    if not found.items:
        console.print("  nothing orderable to recommend")
    for version, status, algorithm, at, members, items, error in kept:
        console.print(
            f"version {version} {status} {algorithm} {at:%Y-%m-%d %H:%M}"
            f" ({members} members, {items} products) {error}"
        )


@recommend_app.command("evaluate")
def recommend_evaluate(
    seed: Annotated[int, typer.Option(help="the generator's and the model's seed")] = 7,
    members: Annotated[int, typer.Option(help="generated members")] = 2_000,
    from_db: Annotated[
        bool, typer.Option("--from-db", help="evaluate on this database's purchases instead")
    ] = False,
    database_url: DbOption = None,
) -> None:
    """Hold out each member's last interactions (a time-based split) and print recall@10 and
    NDCG@10 of the model (ALS, and BPR beside it), the popularity baseline and the community
    popularity baseline, all computed in this run on the same split."""
    from tuangou.recommend import evaluate as ev
    from tuangou.recommend import generator

    if from_db:
        _setup(database_url)
        from tuangou.core.db import read
        from tuangou.recommend import interactions

        data = read(lambda s: interactions.all_interactions(s))
        community_of = read(lambda s: interactions.community_of_members(s))
    else:
        if not 10 <= members <= generator.MAX_MEMBERS:
            console.print(f"[red]--members is 10 to {generator.MAX_MEMBERS}[/red]")
            raise typer.Exit(2)
        world = generator.generate(seed=seed, members=members)
        data = world.interactions
        community_of = {m.id: m.community for m in world.members}
    try:
        report = ev.evaluate(data, community_of, seed=seed)
    except ValueError as exc:
        console.print(f"[red]cannot evaluate[/red]: {exc}")
        raise typer.Exit(1) from exc
    for line in report.lines():
        print(line)


privacy_app = typer.Typer(help="Privacy: the data retention.")
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("purge")
def privacy_purge(database_url: DbOption = None) -> None:
    """Purge raw data past its retention now (TUANGOU_RETENTION_DAYS, 90 by default, or
    TUANGOU_RETENTION_CODES_DAYS, …_SESSIONS_DAYS, …_RISK_DAYS): one-time login codes, page
    sessions, the risk events' device, IP and phone. The worker does it every 10 minutes."""
    _setup(database_url)
    _migrate_if_needed()
    from tuangou.privacy import tasks

    done = tasks.purge()
    console.print(
        f"{done['codes']} login code(s), {done['sessions']} page session(s) deleted; "
        f"raw signals cleared from {done['risk']} risk event(s)"
    )


if __name__ == "__main__":
    app()
