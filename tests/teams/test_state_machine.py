"""A stateful model of money and team rules at the service level (Hypothesis
``RuleBasedStateMachine``), on SQLite and on PostgreSQL.

Members open, join, pay (approved, declined, a lost or a duplicated callback), pay late (after
their team failed or their hold expired), leave; time passes past holds and deadlines and the
worker runs its due jobs; teams settle; the supplier ships, the member confirms receipt (escrow
is released); the operator refunds by hand, in part or in full. Everything goes through the real
services, in any order Hypothesis can think of.

After every step the audit's checks (``tuangou audit``: DOMAIN.md invariants 1–5, the whole
of it, not a subset) find nothing, and so do the model's own expectations: no team over its
max size, a settled team never moves again, a live team is led by a paid member, every event
was handled, every refund was sent, each member of a failed team and each late payment is
refunded exactly once, and every seat a service handed out is its member's.

Settings: ``SUITE`` examples × steps in the default run (fewer on PostgreSQL), and the
``soak`` marker runs many more (``scripts/soak``). Each example starts from an empty database:
a copy of one migrated SQLite file, or the PostgreSQL test database emptied.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import _empty_pg, audit_violations
from tuangou import worker
from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.core import clock, secret
from tuangou.core.config import reset_settings
from tuangou.core.db import make_engine, run_in_transaction, set_engine, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.orders import service as orders
from tuangou.payments import service as payments
from tuangou.teams import service as teams

MEMBERS = 5
TERMINAL = ("settled", "failed", "closed")
ADDRESS = {"name": "收货人", "phone": "13900000000", "line": "幸福里 1 号"}

# (examples, steps): the default run, its PostgreSQL half, and the soak run.
SUITE = (200, 30)
SUITE_PG = (20, 30)
SOAK = (int(os.environ.get("TUANGOU_SOAK_EXAMPLES", "2000")), 50)
SOAK_PG = (int(os.environ.get("TUANGOU_SOAK_PG_EXAMPLES", "200")), 50)

# The worker's jobs this model's steps can make due. A service call makes callbacks,
# settlements and events due at once; time passing makes the rest due too (holds, lost
# callbacks, deadlines, ship-by and receipt dates). The other jobs (search, risk graph,
# leaderboards...) read tables nothing here writes: running them after every step would
# triple the run time for nothing.
AT_ONCE = ("sandbox callbacks", "settle due teams", "deliver outbox")
IN_TIME = (
    "release unpaid holds",
    "end finished campaigns",
    "reconcile payments",
    "auto-confirm receipt",
    "refund unshipped",
)
JOBS = {name: job for name, job in worker.JOBS if name in AT_ONCE + IN_TIME}
assert len(JOBS) == len(AT_ONCE + IN_TIME), "a job of the model was renamed in tuangou.worker"


def _setup(session: Session) -> tuple[list[int], list[int]]:
    supplier = catalog.create_supplier(session, name="果园")
    product = catalog.create_product(session, supplier_id=supplier.id, title="苹果")
    sku = catalog.create_sku(session, product_id=product.id, name="5斤", price=3000, stock=1000)
    now = clock.now()
    common: dict[str, Any] = {
        "sku_id": sku.id,
        "title": "",
        "starts_at": now,
        "ends_at": now + timedelta(days=30),
    }
    campaigns = [
        # A ladder with the opener price; small stock so it sells out.
        teams.CampaignInput(
            **common,
            tiers=[(2, 1990), (3, 1790)],
            stock=6,
            min_size=2,
            max_size=3,
            per_member_limit=2,
            opener_perk="price",
            opener_price=1500,
        ),
        # Platform completion and opener free, with a budget that runs out.
        teams.CampaignInput(
            **common,
            tiers=[(3, 1990), (4, 1890)],
            stock=20,
            min_size=3,
            max_size=4,
            per_member_limit=3,
            max_quantity_per_order=2,
            completion_enabled=True,
            completion_percent=60,
            subsidy_budget=5000,
            opener_perk="free",
        ),
    ]
    campaign_ids = [teams.create_campaign(session, c).id for c in campaigns]
    user_ids = [
        accounts.create_user(
            session, phone=f"1380000{i:04d}", password=None, nickname=f"团员{i}"
        ).id
        for i in range(MEMBERS)
    ]
    return campaign_ids, user_ids


QUANTITY = st.sampled_from([1, 1, 1, 2])
BACK = st.sampled_from([0, 0, 0, 1, 2, 3, 6])
# How the member pays right after taking a seat: not yet (None), or on the sandbox page.
PAY_NOW = st.sampled_from(
    [None, "approve", "approve", "approve", "decline", "timeout", "duplicate"]
)


def _pick(items: list[Any], back: int) -> Any:
    """The item ``back`` places before the newest (wrapping round)."""
    return items[-1 - back % len(items)]


class _Failures(logging.Handler):
    """Collects the errors the worker logs (it logs a failing job and carries on)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _work(names: tuple[str, ...] = AT_ONCE) -> bool:
    """Run these jobs of the worker until idle; none of them may fail. Whether any did
    something."""
    jobs = [(name, JOBS[name]) for name in names]
    failures = _Failures()
    loggers = [logging.getLogger(name) for name in ("tuangou.worker", "tuangou.core.outbox")]
    for logger in loggers:
        logger.addHandler(failures)
    did = False
    try:
        for _ in range(100):
            if not any(worker.run_once(jobs).values()):
                break
            did = True
    finally:
        for logger in loggers:
            logger.removeHandler(failures)
    assert failures.messages == []
    return did


def _ref(pay_url: str) -> str:
    return parse_qs(urlparse(pay_url).query)["ref"][0]


def _query(sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with unit_of_work(readonly=True) as s:
        return [tuple(r) for r in s.execute(text(sql), params)]


class TeamBuys(RuleBasedStateMachine):
    # Set by the test: empties (or creates) the database and points this process at it;
    # returns what undoes it at teardown.
    fresh_database: Callable[[], Callable[[], None]]

    def __init__(self) -> None:
        super().__init__()
        self.undo = type(self).fresh_database()
        self.campaigns: list[int] = []
        self.users: list[int] = []
        self.teams: list[int] = []
        self.pay_urls: list[str] = []  # every pay_url handed out, paid or not
        self.seats: list[tuple[int, int, int]] = []  # (user id, team id, order id)
        self.terminal: dict[int, tuple[Any, ...]] = {}
        # Whether the last step changed anything: a step the services refused, after which
        # the worker found nothing to do, leaves the database as the invariants last saw it.
        self.changed = True

    def _attempt(self, fn: Any, *, work: bool = True) -> Any:
        """Run a service call in its own transaction (a refusal, a DomainError, is fine);
        then, if it did something, the worker's due jobs."""
        try:
            done = run_in_transaction(fn)
        except DomainError:
            return None
        self.changed = True
        if work:
            self._work()
        return done

    def _work(self, names: tuple[str, ...] = AT_ONCE) -> None:
        if _work(names):
            self.changed = True

    @initialize()
    def setup(self) -> None:
        self.campaigns, self.users = run_in_transaction(_setup)

    def teardown(self) -> None:
        self.undo()

    # ------------------------------------------------------------ rules
    # Targets are picked counting back from the newest (team, seat, payment), so that teams
    # fill up and settle instead of scattering members over many half-empty ones.

    def _seated(self, seat: Any, pay_now: str | None) -> None:
        if seat is None:
            return
        if seat.team.id not in self.teams:
            self.teams.append(seat.team.id)
        self.pay_urls.append(seat.started.pay_url)
        self.seats.append((seat.order.user_id, seat.team.id, seat.order.id))
        if pay_now is not None:
            self._pay(seat.started.pay_url, pay_now)

    def _pay(self, pay_url: str, outcome: str) -> None:
        q = {k: v[0] for k, v in parse_qs(urlparse(pay_url).query).items()}
        self._attempt(
            lambda s: payments.sandbox_authorize(
                s, ref=q["ref"], amount=int(q["amount"]), sig=q["sig"], outcome=outcome
            )
        )

    def _orders_in(self, statuses: tuple[str, ...]) -> list[tuple[int, int]]:
        """(order id, supplier id) of this model's orders in one of ``statuses``, oldest
        first."""
        found = _query("SELECT id, status, supplier_id FROM orders ORDER BY id")
        return [(oid, supplier) for oid, status, supplier in found if status in statuses]

    @rule(
        member=st.integers(0, MEMBERS - 1),
        which=st.integers(0, 1),
        quantity=QUANTITY,
        pay_now=PAY_NOW,
    )
    def open_team(self, member: int, which: int, quantity: int, pay_now: str | None) -> None:
        user_id, campaign_id = self.users[member], self.campaigns[which]
        seat = self._attempt(
            lambda s: teams.open_team(
                s, user_id=user_id, campaign_id=campaign_id, quantity=quantity, address=ADDRESS
            ),
            work=False,
        )
        self._seated(seat, pay_now)

    @precondition(lambda self: self.teams)
    @rule(member=st.integers(0, MEMBERS - 1), back=BACK, quantity=QUANTITY, pay_now=PAY_NOW)
    def join_team(self, member: int, back: int, quantity: int, pay_now: str | None) -> None:
        user_id, team_id = self.users[member], _pick(self.teams, back)
        seat = self._attempt(
            lambda s: teams.join_team(
                s, user_id=user_id, team_id=team_id, quantity=quantity, address=ADDRESS
            ),
            work=False,
        )
        self._seated(seat, pay_now)

    @precondition(lambda self: self.pay_urls)
    @rule(back=BACK, outcome=PAY_NOW.filter(bool))
    def pay(self, back: int, outcome: str) -> None:
        """Pay on the sandbox (maybe declined, a lost callback, duplicates), possibly late or
        twice; the gateway's callbacks land."""
        self._pay(_pick(self.pay_urls, back), outcome)

    @precondition(lambda self: self.seats)
    @rule(back=BACK)
    def late_pay(self, back: int) -> None:
        """Pay an order already closed (its hold expired, its team failed or closed, its
        member left): the money arrives and must go back, once."""
        closed = {oid for oid, _ in self._orders_in(("cancelled", "refunded"))}
        order_of = dict(_query("SELECT gateway_ref, order_id FROM payments"))
        urls = [u for u in self.pay_urls if order_of.get(_ref(u)) in closed]
        if urls:
            self._pay(_pick(urls, back), "approve")

    @precondition(lambda self: self.seats)
    @rule(back=BACK)
    def pay_again(self, back: int) -> None:
        """A new payment attempt for an order (after a decline, say)."""
        user_id, _, order_id = _pick(self.seats, back)
        started = self._attempt(
            lambda s: payments.start_for_user(s, user_id=user_id, order_id=order_id), work=False
        )
        if started is not None:
            self.pay_urls.append(started.pay_url)

    @precondition(lambda self: self.seats)
    @rule(back=BACK)
    def leave(self, back: int) -> None:
        user_id, team_id, _ = _pick(self.seats, back)
        self._attempt(lambda s: teams.leave_team(s, user_id=user_id, team_id=team_id))

    @rule(seconds=st.sampled_from([31, 60, 16 * 60, 24 * 3600 + 60]))
    def time_passes(self, seconds: int) -> None:
        """Time passes and the worker runs: lost callbacks are reconciled (after 30 s),
        unpaid holds expire (15 min), deadlines pass (24 h) and teams settle."""
        clock.advance(timedelta(seconds=seconds))
        self.changed = True  # the audit's checks read the clock (a deadline passed)
        # Only what this much time can make due (the rest waits for a longer wait).
        due = IN_TIME if seconds > 3600 else IN_TIME[:3] if seconds > 15 * 60 else IN_TIME[2:3]
        self._work(AT_ONCE + due)

    @precondition(lambda self: self.teams)
    @rule(back=BACK)
    def settle(self, back: int) -> None:
        """Settle a team now (what the worker does when it is full or past its deadline;
        nothing when it is not due, or done already)."""
        team_id = _pick(self.teams, back)
        self._attempt(lambda s: teams.settle_team(s, team_id))

    @precondition(lambda self: self.seats)
    @rule(back=BACK, part=st.sampled_from([None, None, 1, 100]))
    def refund(self, back: int, part: int | None) -> None:
        """The operator refunds a settled order by hand: all that escrow still holds for it,
        or a part (a damaged item, say)."""
        refundable = self._orders_in(("confirmed", "shipped"))
        if refundable:
            order_id, _ = _pick(refundable, back)
            self._attempt(
                lambda s: orders.manual_refund(s, order_id=order_id, amount=part, note="破损")
            )

    @precondition(lambda self: self.seats)
    @rule(back=BACK, receive=st.booleans())
    def fulfil(self, back: int, receive: bool) -> None:
        """The supplier ships a confirmed order; the member may confirm receipt at once
        (escrow is released to the supplier)."""
        confirmed = self._orders_in(("confirmed",))
        if not confirmed:
            return
        order_id, supplier_id = _pick(confirmed, back)
        self._attempt(
            lambda s: orders.ship(
                s, supplier_id=supplier_id, order_id=order_id, carrier="顺丰", tracking_no="SF1"
            ),
            work=not receive,
        )
        if receive:
            user_id = next(u for u, _, o in self.seats if o == order_id)
            self._attempt(lambda s: orders.confirm_receipt(s, user_id=user_id, order_id=order_id))

    # ------------------------------------------------------------ invariants

    @invariant()
    def everything_holds(self) -> None:
        """After every step that changed something: the whole audit, then the model's own
        expectations."""
        if not self.changed:
            return
        self.audit_passes()
        self.no_team_over_its_max_size()
        self.a_live_team_is_led_by_a_paid_member()
        self.every_event_was_handled_and_every_refund_sent()
        self.refunded_exactly_once()
        self.every_seat_handed_out_is_its_members()
        self.money_never_goes_missing()
        self.changed = False

    def audit_passes(self) -> None:
        assert audit_violations() == []

    def no_team_over_its_max_size(self) -> None:
        rows = _query(
            "SELECT t.id, t.max_size, t.seats_taken, t.paid_count, t.status,"
            " t.final_unit_price, t.outcome,"
            " (SELECT COUNT(*) FROM team_seats x WHERE x.team_id = t.id"
            "  AND x.status IN ('held', 'paid')) FROM teams t"
        )
        for tid, max_size, taken, paid, status, final, outcome, live in rows:
            assert 0 <= paid <= taken <= max_size, (tid, paid, taken, max_size)
            assert live == taken, (tid, live, taken)
            if status in TERMINAL:
                state = (status, final, outcome)
                # A team settles (or fails, or closes) exactly once and never moves again.
                assert self.terminal.setdefault(tid, state) == state, (tid, state)

    def a_live_team_is_led_by_a_paid_member(self) -> None:
        """An open or formed team has exactly one opener, who holds a paid seat in it (when
        the opener leaves, the earliest joiner takes over; with nobody left, it closes)."""
        rows = _query(
            "SELECT t.id, t.opener_id,"
            " (SELECT COUNT(*) FROM team_seats x WHERE x.team_id = t.id"
            "  AND x.status IN ('held', 'paid') AND x.is_opener),"
            " (SELECT COUNT(*) FROM team_seats x WHERE x.team_id = t.id"
            "  AND x.status = 'paid' AND x.is_opener AND x.user_id = t.opener_id)"
            " FROM teams t WHERE t.status IN ('open', 'formed')"
        )
        for tid, opener_id, openers, opener_paid in rows:
            assert openers == 1, (tid, openers)
            assert opener_paid == 1, (tid, opener_id)

    def every_event_was_handled_and_every_refund_sent(self) -> None:
        failed = _query("SELECT topic, last_error FROM outbox_events WHERE last_error IS NOT NULL")
        assert failed == []
        unsent = _query("SELECT id, reason, status FROM refunds WHERE status <> 'succeeded'")
        assert unsent == []

    def refunded_exactly_once(self) -> None:
        """Each paid member of a failed team gets their money back once, in full; each
        payment that arrived after its order closed goes back once, in full."""
        for oid, paid, refunded, n in _query(
            "SELECT o.id, o.paid_amount, o.refunded_amount,"
            " (SELECT COUNT(*) FROM refunds r WHERE r.order_id = o.id"
            "  AND r.reason = 'team_failed')"
            " FROM orders o JOIN team_seats s ON s.order_id = o.id"
            " JOIN teams t ON t.id = s.team_id"
            " WHERE t.status = 'failed' AND o.paid_at IS NOT NULL AND o.status = 'refunded'"
            " AND o.close_reason = 'team_failed'"
        ):
            assert n == 1 and refunded == paid, (oid, paid, refunded, n)
        for pid, amount, back in _query(
            "SELECT p.id, p.amount, (SELECT COUNT(*) FROM refunds r"
            "  WHERE r.key = 'late:' || CAST(p.id AS VARCHAR(20)) AND r.amount = p.amount)"
            " FROM payments p JOIN orders o ON o.id = p.order_id"
            " WHERE p.status = 'succeeded' AND o.status = 'cancelled'"
        ):
            assert back == 1, (pid, amount, back)

    def every_seat_handed_out_is_its_members(self) -> None:
        if not self.seats:
            return
        found = set(_query("SELECT user_id, team_id, order_id FROM team_seats"))
        assert set(self.seats) <= found

    def money_never_goes_missing(self) -> None:
        for oid, paid, refunded, status in _query(
            "SELECT id, paid_amount, refunded_amount, status FROM orders"
        ):
            assert 0 <= refunded <= paid, oid
            if status == "pending_payment":
                assert paid == 0, oid


# ---------------------------------------------------------------- the databases


def _point_at(url: str) -> Callable[[], None]:
    """Point this process's services at ``url``; returns what points them back."""
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    reset_settings()
    secret.reset()
    engine = make_engine(url)
    set_engine(engine)
    secret.secret_key()
    clock.set_offset(timedelta(0))

    def undo() -> None:
        set_engine(None)
        engine.dispose()
        secret.reset()
        clock.set_offset(timedelta(0))
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        reset_settings()

    return undo


@pytest.fixture
def sqlite_databases(sqlite_template: Path) -> Iterator[Callable[[], Callable[[], None]]]:
    """Each example: a copy of the migrated SQLite file."""
    workdir = Path(tempfile.mkdtemp(prefix="tuangou-sm-"))

    def fresh() -> Callable[[], None]:
        path = workdir / "test.db"
        for leftover in workdir.glob("test.db*"):
            leftover.unlink()
        shutil.copy(sqlite_template, path)
        return _point_at(f"sqlite:///{path}")

    yield fresh
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def pg_databases(pg_database: str) -> Callable[[], Callable[[], None]]:
    """Each example: the PostgreSQL test database, emptied."""

    def fresh() -> Callable[[], None]:
        _empty_pg(pg_database)
        return _point_at(pg_database)

    return fresh


def _run(fresh: Callable[[], Callable[[], None]], examples: int, steps: int) -> None:
    machine = type("TeamBuysHere", (TeamBuys,), {"fresh_database": staticmethod(fresh)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_team_buys_sqlite(sqlite_databases: Callable[[], Callable[[], None]]) -> None:
    _run(sqlite_databases, *SUITE)


def test_team_buys_postgresql(pg_databases: Callable[[], Callable[[], None]]) -> None:
    _run(pg_databases, *SUITE_PG)


@pytest.mark.soak
def test_team_buys_sqlite_soak(sqlite_databases: Callable[[], Callable[[], None]]) -> None:
    _run(sqlite_databases, *SOAK)


@pytest.mark.soak
def test_team_buys_postgresql_soak(pg_databases: Callable[[], Callable[[], None]]) -> None:
    _run(pg_databases, *SOAK_PG)
