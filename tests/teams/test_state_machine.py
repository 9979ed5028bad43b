"""A stateful model of team buys at the service level (Hypothesis ``RuleBasedStateMachine``).

Members open, join, pay (or fail to), leave, let holds expire and deadlines pass, in any order
Hypothesis can think of; after every step the audit (invariants 1–5) finds nothing, no team
exceeds its max size, and a settled team never changes again. Each example runs on a fresh
SQLite database copied from one migrated template.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import audit_violations, run_worker
from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.core import clock, secret
from tuangou.core.config import reset_settings
from tuangou.core.db import make_engine, run_in_transaction, set_engine, unit_of_work
from tuangou.core.errors import DomainError
from tuangou.payments import service as payments
from tuangou.teams import service as teams

MEMBERS = 5
TERMINAL = ("settled", "failed", "closed")
ADDRESS = {"name": "收货人", "phone": "13900000000", "line": "幸福里 1 号"}

_template: Path | None = None


def _template_db() -> Path:
    """A SQLite file migrated once per test session."""
    global _template
    if _template is None:
        from tuangou.core import migrate

        path = Path(tempfile.mkdtemp(prefix="tuangou-sm-")) / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()
        _template = path
    return _template


def _fresh_database() -> tuple[Path, str | None]:
    workdir = Path(tempfile.mkdtemp(prefix="tuangou-sm-"))
    path = workdir / "test.db"
    shutil.copy(_template_db(), path)
    previous = os.environ.get("DATABASE_URL")
    url = f"sqlite:///{path}"
    os.environ["DATABASE_URL"] = url
    reset_settings()
    secret.reset()
    set_engine(make_engine(url))
    secret.secret_key()
    clock.set_offset(timedelta(0))
    return workdir, previous


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


def _work() -> None:
    """Run the background jobs until idle; none of them may fail."""
    failures = _Failures()
    loggers = [logging.getLogger(name) for name in ("tuangou.worker", "tuangou.core.outbox")]
    for logger in loggers:
        logger.addHandler(failures)
    try:
        run_worker()
    finally:
        for logger in loggers:
            logger.removeHandler(failures)
    assert failures.messages == []


def _attempt(fn: Any) -> Any:
    """Run a service call in its own transaction; a refusal (a DomainError) is fine."""
    try:
        return run_in_transaction(fn)
    except DomainError:
        return None


class TeamBuys(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.workdir, self.previous_url = _fresh_database()
        self.campaigns: list[int] = []
        self.users: list[int] = []
        self.teams: list[int] = []
        self.pay_urls: list[str] = []  # every pay_url handed out, paid or not
        self.seats: list[tuple[int, int, int]] = []  # (user id, team id, order id)
        self.terminal: dict[int, tuple[Any, ...]] = {}

    @initialize()
    def setup(self) -> None:
        self.campaigns, self.users = run_in_transaction(_setup)

    def teardown(self) -> None:
        set_engine(None)
        secret.reset()
        clock.set_offset(timedelta(0))
        if self.previous_url is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = self.previous_url
        reset_settings()
        shutil.rmtree(self.workdir, ignore_errors=True)

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
        _attempt(
            lambda s: payments.sandbox_authorize(
                s, ref=q["ref"], amount=int(q["amount"]), sig=q["sig"], outcome=outcome
            )
        )
        _work()

    @rule(
        member=st.integers(0, MEMBERS - 1),
        which=st.integers(0, 1),
        quantity=QUANTITY,
        pay_now=PAY_NOW,
    )
    def open_team(self, member: int, which: int, quantity: int, pay_now: str | None) -> None:
        user_id, campaign_id = self.users[member], self.campaigns[which]
        seat = _attempt(
            lambda s: teams.open_team(
                s, user_id=user_id, campaign_id=campaign_id, quantity=quantity, address=ADDRESS
            )
        )
        self._seated(seat, pay_now)

    @precondition(lambda self: self.teams)
    @rule(member=st.integers(0, MEMBERS - 1), back=BACK, quantity=QUANTITY, pay_now=PAY_NOW)
    def join_team(self, member: int, back: int, quantity: int, pay_now: str | None) -> None:
        user_id, team_id = self.users[member], _pick(self.teams, back)
        seat = _attempt(
            lambda s: teams.join_team(
                s, user_id=user_id, team_id=team_id, quantity=quantity, address=ADDRESS
            )
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
    def pay_again(self, back: int) -> None:
        """A new payment attempt for an order (after a decline, say)."""
        user_id, _, order_id = _pick(self.seats, back)
        started = _attempt(lambda s: payments.start_for_user(s, user_id=user_id, order_id=order_id))
        if started is not None:
            self.pay_urls.append(started.pay_url)

    @precondition(lambda self: self.seats)
    @rule(back=BACK)
    def leave(self, back: int) -> None:
        user_id, team_id, _ = _pick(self.seats, back)
        _attempt(lambda s: teams.leave_team(s, user_id=user_id, team_id=team_id))
        _work()

    @rule(seconds=st.sampled_from([31, 60, 16 * 60, 24 * 3600 + 60]))
    def time_passes(self, seconds: int) -> None:
        """Time passes and the worker runs: lost callbacks are reconciled (after 30 s),
        unpaid holds expire (15 min), deadlines pass (24 h) and teams settle."""
        clock.advance(timedelta(seconds=seconds))
        _work()

    # ------------------------------------------------------------ invariants

    @invariant()
    def audit_passes(self) -> None:
        assert audit_violations() == []

    @invariant()
    def no_team_over_its_max_size(self) -> None:
        with unit_of_work(readonly=True) as s:
            rows = s.execute(
                text(
                    "SELECT t.id, t.max_size, t.seats_taken, t.paid_count, t.status,"
                    " t.final_unit_price, t.outcome,"
                    " (SELECT COUNT(*) FROM team_seats x WHERE x.team_id = t.id"
                    "  AND x.status IN ('held', 'paid')) FROM teams t"
                )
            ).all()
        for tid, max_size, taken, paid, status, final, outcome, live in rows:
            assert 0 <= paid <= taken <= max_size, (tid, paid, taken, max_size)
            assert live == taken, (tid, live, taken)
            if status in TERMINAL:
                state = (status, final, outcome)
                # A team settles (or fails, or closes) exactly once and never moves again.
                assert self.terminal.setdefault(tid, state) == state, (tid, state)

    @invariant()
    def a_live_team_is_led_by_a_paid_member(self) -> None:
        """An open or formed team has exactly one opener, who holds a paid seat in it (when
        the opener leaves, the earliest joiner takes over; with nobody left, it closes)."""
        with unit_of_work(readonly=True) as s:
            rows = s.execute(
                text(
                    "SELECT t.id, t.opener_id,"
                    " (SELECT COUNT(*) FROM team_seats x WHERE x.team_id = t.id"
                    "  AND x.status IN ('held', 'paid') AND x.is_opener),"
                    " (SELECT COUNT(*) FROM team_seats x WHERE x.team_id = t.id"
                    "  AND x.status = 'paid' AND x.is_opener AND x.user_id = t.opener_id)"
                    " FROM teams t WHERE t.status IN ('open', 'formed')"
                )
            ).all()
        for tid, opener_id, openers, opener_paid in rows:
            assert openers == 1, (tid, openers)
            assert opener_paid == 1, (tid, opener_id)

    @invariant()
    def every_event_was_handled(self) -> None:
        with unit_of_work(readonly=True) as s:
            failed = s.execute(
                text("SELECT topic, last_error FROM outbox_events WHERE last_error IS NOT NULL")
            ).all()
        assert failed == []

    @invariant()
    def money_never_goes_missing(self) -> None:
        with unit_of_work(readonly=True) as s:
            for oid, paid, refunded, status in s.execute(
                text("SELECT id, paid_amount, refunded_amount, status FROM orders")
            ):
                assert 0 <= refunded <= paid, oid
                if status == "pending_payment":
                    assert paid == 0, oid


TestTeamBuys = TeamBuys.TestCase
TestTeamBuys.settings = settings(max_examples=15, stateful_step_count=25, deadline=None)
