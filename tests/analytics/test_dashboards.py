"""The dashboards' figures over a small, known data set, on both backends: by hand, by the
plain-SQL reference, and by the analytical engine (DuckDB), which must all agree."""

from __future__ import annotations

import itertools
from dataclasses import fields, replace
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session

from tests.analytics.test_service import World, _insert, _leader, _user, at
from tuangou.analytics import dashboards, engine, rules
from tuangou.analytics.figures import Figures
from tuangou.core.db import get_engine, read, run_in_transaction

TODAY = date(2025, 3, 31)
SCOPE = rules.Scope(date(2025, 2, 1), TODAY)
_codes = itertools.count(1)


class Data:
    """Four members (m1 and m3 invited by m2), two leaders, a settled wave and an open one."""

    def __init__(self, s: Session) -> None:
        self.w = w = World(s)
        self.s = s
        self.m = {n: _user(s, f"m{n}") for n in (1, 2, 3, 4)}
        self.east = _leader(s, "王姐", "东苑")
        self.west = _leader(s, "李哥", "西苑")
        for n in (1, 2, 3, 4):
            _insert(
                s,
                "referral_members",
                user_id=self.m[n],
                code=f"c{next(_codes)}",
                inviter_id=self.m[2] if n in (1, 3) else None,
                created_at=at(date(2025, 1, 1), 9),
            )
        wave, apple, _ = w.wave(at(date(2025, 3, 10), 20))
        east_listing, west_listing = w.listing(wave, self.east), w.listing(wave, self.west)
        open_wave, apple2, _ = w.wave(None, status="open")
        open_listing = w.listing(open_wave, self.east)

        self.order(1, at(date(2025, 1, 20), 9), 1000)  # before the range: m1's first month
        self.order(2, at(date(2025, 2, 10), 9), 2000)
        e1 = self.wave_order(
            3, wave, east_listing, self.east, at(date(2025, 2, 15), 0.5), 3000, apple, "confirmed"
        )
        w1 = self.wave_order(
            2,
            wave,
            west_listing,
            self.west,
            at(date(2025, 3, 5), 9),
            4000,
            apple,
            "refunded",
            refunded=1000,
        )
        w.refund(w1, 1000, "below_moq", at(date(2025, 3, 10), 21))
        self.order(1, at(date(2025, 3, 20), 9), 1500)
        self.wave_order(
            1, open_wave, open_listing, self.east, at(date(2025, 3, 20), 10), 2500, apple2, "open"
        )
        self.order(4, at(TODAY, 23.5), 500)  # 23:30 local: still today
        late = self.order(3, None, 0)
        w.refund(late, 700, "late_payment", at(date(2025, 3, 25), 9))
        w.team("settled", at(TODAY, 10))
        w.team("failed", at(date(2025, 3, 30), 10))
        self.commission(e1, self.east, 300, 0, at(date(2025, 2, 16), 9))
        self.commission(w1, self.west, 400, 100, at(date(2025, 3, 6), 9))
        _insert(
            s,
            "aftersale_cases",
            order_id=e1,
            user_id=self.m[3],
            order_kind="wave",
            leader_id=self.east[0],
            community_id=self.east[2],
            kind="damaged",
            description="压坏了",
            status="accepted",
            amount_requested=1000,
            amount_refunded=800,
            created_at=at(date(2025, 3, 2), 9),
        )

    def order(self, member: int, paid_at: datetime | None, paid: int, **kw: Any) -> int:
        self.w.member = self.m[member]
        return self.w.order(paid_at, paid, **kw)

    def wave_order(
        self,
        member: int,
        wave: int,
        listing: int,
        leader: Any,
        paid_at: datetime,
        paid: int,
        item: int,
        status: str,
        refunded: int = 0,
    ) -> int:
        self.w.member = self.m[member]
        return self.w.wave_order(
            wave, listing, leader, paid_at, paid, [(item, status)], refunded=refunded
        )

    def commission(self, order: int, leader: Any, amount: int, back: int, when: datetime) -> None:
        _insert(
            self.s,
            "commissions",
            order_id=order,
            leader_id=leader[0],
            kind="wave",
            base_amount=amount * 10,
            rate_bps=1000,
            amount=amount,
            reversed_amount=back,
            status="settled",
            created_at=when,
            available_at=when,
        )


def both(scope: rules.Scope) -> Figures:
    """The figures by the reference, checked equal to the engine's, field by field."""
    sql = read(lambda s: dashboards.compute(s, scope))
    duck = read(lambda s: engine.compute(s, scope))
    assert duck.engine == "duckdb" and sql.engine == "sql"
    for field in fields(Figures):
        if field.compare:
            assert getattr(duck, field.name) == getattr(sql, field.name), field.name
    return sql


def test_the_platform_figures_by_hand_and_by_both_engines(db_url: str) -> None:
    data = run_in_transaction(Data)
    f = both(SCOPE)
    day = {d.day: d for d in f.days}
    assert len(f.days) == 59
    assert (day[date(2025, 2, 15)].orders, day[date(2025, 2, 15)].paid) == (1, 3000)
    assert day[date(2025, 3, 10)].refunded == 1000  # the late payment's refund is no GMV
    assert (day[date(2025, 3, 20)].orders, day[date(2025, 3, 20)].paid) == (2, 4000)
    assert (day[TODAY].orders, day[TODAY].paid) == (1, 500)
    assert f.gmv_total == 2000 + 3000 + 4000 + 1500 + 2500 + 500 - 1000
    assert (f.orders, f.paid, f.aov) == (6, 13500, 2250)
    assert (f.buyers, f.repeat_buyers, f.repurchase) == (4, 2, 0.5)
    assert f.teams is not None and f.teams_total is not None
    assert (f.teams_total.succeeded, f.teams_total.failed) == (1, 1)
    assert [(w.day, w.succeeded, w.failed) for w in f.waves if w.total] == [
        (date(2025, 3, 10), 1, 1)
    ]
    # K-factor: m3 (invited) first ordered in February among 2 ordering members; March's
    # first-timer m4 was not invited, and m1 (invited) had first ordered in January.
    assert [(m.month, m.converted, m.active, m.k) for m in f.months] == [
        ("2025-02", 1, 2, 0.5),
        ("2025-03", 0, 3, 0.0),
    ]
    assert [(c.month, c.size, c.active) for c in f.cohorts] == [
        ("2025-02", 2, (2, 1)),
        ("2025-03", 1, (1,)),
    ]
    assert f.cohorts[0].shares == [1.0, 0.5]
    east, west = data.east[0], data.west[0]
    assert [
        (r.leader_id, r.gmv, r.orders, r.commission, r.confirmed, r.refunded, r.aftersales)
        for r in f.leaders
    ] == [(east, 5500, 2, 300, 1, 0, 1), (west, 3000, 1, 300, 0, 1, 0)]
    assert f.leaders[0].aftersale_rate == 0.5 and f.leaders[1].confirmation == 0.0
    assert [(r.reason, r.count, r.amount) for r in f.refunds] == [
        ("below_moq", 1, 1000),
        ("late_payment", 1, 700),
    ]
    assert [(r.reason, r.count, r.amount) for r in f.aftersales] == [("damaged", 1, 800)]


def test_a_leaders_figures_are_their_own_wave_orders_only(db_url: str) -> None:
    data = run_in_transaction(Data)
    f = both(replace(SCOPE, leader_id=data.east[0]))
    assert f.teams is None and f.teams_total is None  # teams belong to no community
    assert (f.orders, f.paid, f.aov, f.buyers, f.repeat_buyers) == (2, 5500, 2750, 2, 0)
    assert f.refunds == [] and f.gmv_total == 5500
    assert [(r.leader_id, r.gmv) for r in f.leaders] == [(data.east[0], 5500)]
    # m1's first order through this leader is in March: a first order in scope.
    assert [(m.month, m.converted, m.active) for m in f.months] == [
        ("2025-02", 1, 1),
        ("2025-03", 1, 1),
    ]
    assert [(c.month, c.active) for c in f.cohorts] == [("2025-02", (1, 0)), ("2025-03", (1,))]
    west = both(replace(SCOPE, community_id=data.west[2]))
    assert (west.orders, west.gmv_total) == (1, 3000)
    assert [(r.reason, r.amount) for r in west.refunds] == [("below_moq", 1000)]
    assert both(replace(SCOPE, community_id=data.west[2], leader_id=data.east[0])).orders == 0


def test_an_empty_range_and_the_scope_rules(db_url: str) -> None:
    f = both(rules.Scope(TODAY, TODAY))
    assert (f.orders, f.aov, f.repurchase, f.gmv_total) == (0, None, None, 0)
    assert [c.size for c in f.cohorts] == [0]
    with pytest.raises(ValueError):
        rules.scope_of(TODAY, start=TODAY, end=date(2025, 3, 1))
    with pytest.raises(ValueError):
        rules.scope_of(TODAY, days=rules.MAX_RANGE_DAYS + 1)
    assert rules.scope_of(TODAY, days=7).start == date(2025, 3, 25)
    assert [rules.month_key(m) for m in rules.Scope(date(2024, 11, 30), TODAY).months] == [
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
        "2025-03",
    ]
    assert set(rules.DEFINITIONS) >= {
        "gmv",
        "orders",
        "team_success",
        "wave_confirmation",
        "k_factor",
        "retention",
        "repurchase",
        "aov",
        "leaders",
        "refunds",
        "aftersales",
    }


def test_the_engine_reads_through_the_scanner_or_else_through_the_session(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With the scanner installed (the wheels), DuckDB reads the database itself: no row
    comes through the session. Without it, the engine warns once and reads the rows in chunks,
    with the same figures."""
    run_in_transaction(Data)
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    found = engine.extension_file(backend)
    assert found is not None and found.name == f"{engine.SCANNERS[backend][1]}.duckdb_extension"

    def no_loader(*args: Any) -> Any:
        raise AssertionError("the rows were read through the session")

    with monkeypatch.context() as patch:
        patch.setattr(engine, "Loader", no_loader)
        scanned = both(SCOPE)
    assert (scanned.orders, scanned.paid) == (6, 13500)

    monkeypatch.setattr(engine, "SCANNERS", {backend: ("no_such_scanner_package", "x", "x")})
    monkeypatch.setattr(engine, "_warned", set())
    assert read(engine.scanner) is None
    with caplog.at_level("WARNING", logger=engine.__name__):
        assert both(SCOPE) == scanned
        assert both(replace(SCOPE, leader_id=scanned.leaders[0].leader_id)).orders == 2
    warnings = [r for r in caplog.records if r.name == engine.__name__]
    assert len(warnings) == 1 and backend in warnings[0].getMessage()


def test_the_scanner_reads_committed_rows_and_does_not_wait_for_a_writer(db_url: str) -> None:
    """A transaction holding written, uncommitted rows neither stops the engine nor shows in
    its figures; it commits afterwards (the read-only attach held nothing it waits for)."""
    run_in_transaction(Data)
    before = both(SCOPE)
    with get_engine().connect() as conn:
        conn.execute(text("UPDATE orders SET paid_amount = paid_amount + 1000000"))
        during = read(lambda s: engine.compute(s, SCOPE))
        conn.commit()
    assert during == before
    after = both(SCOPE)
    assert after.paid == before.paid + 1000000 * before.orders


def test_what_the_scanner_attaches() -> None:
    """A libpq string from the SQLAlchemy URL, quoted; an in-memory SQLite has no file to
    attach (the engine then reads through the session)."""
    url = make_url("postgresql+psycopg://ops:p'w\\x@db.local:5433/shop?sslmode=require")
    assert engine._target(url) == (
        "dbname='shop' host='db.local' port='5433' user='ops' password='p\\'w\\\\x' "
        "sslmode='require'"
    )
    assert engine._target(make_url("sqlite://")) is None
    assert engine._target(make_url("sqlite:///:memory:")) is None
    assert engine.extension_file("mysql") is None
