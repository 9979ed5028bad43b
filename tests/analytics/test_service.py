"""The dashboard's figures over known orders, teams, waves and refunds, on both backends.

The actors (members, a supplier, a campaign, leaders and their communities) are made through
the services; the facts (orders paid on chosen days, refunds, settled teams and waves) are
written as rows with chosen times, so that every figure is known exactly.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.analytics import rules
from tuangou.analytics import service as analytics
from tuangou.catalog import service as catalog
from tuangou.communities import service as communities
from tuangou.core import clock
from tuangou.core.db import Base, run_in_transaction, unit_of_work
from tuangou.teams import service as teams

TODAY = date(2025, 3, 31)
_phones = itertools.count(1)


def at(day: date, hour: float) -> datetime:
    """A stored (UTC) time: ``hour`` o'clock local time on ``day``."""
    return clock.local_midnight(day) + timedelta(hours=hour)


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def _insert(session: Session, table: str, **values: Any) -> int:
    result = session.execute(insert(Base.metadata.tables[table]).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _user(session: Session, nickname: str) -> int:
    phone = f"135{next(_phones):08d}"
    return accounts.create_user(session, phone=phone, password="secret123", nickname=nickname).id


def _leader(session: Session, nickname: str, community: str) -> tuple[int, int, int]:
    """A leader with a community: (leader id, pickup point id, community id)."""
    user_id = _user(session, nickname)
    app = communities.apply(
        session,
        user_id,
        communities.PickupPointInput(
            name=f"{community}驿站", address="幸福路 1 号", latitude=30.2, longitude=120.1
        ),
    )
    operator_id = _user(session, "运营")
    approval = communities.approve_application(session, app.id, operator_id=operator_id)
    c = communities.create_community(session, user_id, name=community)
    return approval.leader.id, approval.pickup_point.id, c.id


class World:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.member = _user(session, "团员")
        self.supplier = catalog.create_supplier(session, name="果园").id
        product = catalog.create_product(session, supplier_id=self.supplier, title="苹果")
        self.sku = catalog.create_sku(
            session, product_id=product.id, name="5斤", price=3000, stock=1000
        ).id
        self.campaign = teams.create_campaign(
            session,
            teams.CampaignInput(
                sku_id=self.sku,
                title="苹果拼团",
                starts_at=at(days_ago(40), 0),
                ends_at=at(TODAY, 23),
                tiers=[(2, 1990)],
                stock=100,
            ),
        ).id
        self._refunds = itertools.count(1)

    def order(
        self, paid_at: datetime | None, paid: int, *, refunded: int = 0, kind: str = "team"
    ) -> int:
        return _insert(
            self.s,
            "orders",
            user_id=self.member,
            supplier_id=self.supplier,
            kind=kind,
            campaign_id=self.campaign,
            quantity=1,
            unit_price=paid,
            amount=paid,
            status="paid" if paid_at else "cancelled",
            paid_amount=paid,
            refunded_amount=refunded,
            address={"name": "团员", "phone": "13500000000", "line": "幸福里"},
            created_at=paid_at or at(days_ago(1), 9),
            expires_at=paid_at or at(days_ago(1), 9),
            paid_at=paid_at,
        )

    def refund(self, order_id: int, amount: int, reason: str, created_at: datetime) -> None:
        _insert(
            self.s,
            "refunds",
            key=f"test:{next(self._refunds)}",
            order_id=order_id,
            user_id=self.member,
            amount=amount,
            reason=reason,
            status="succeeded",
            created_at=created_at,
        )

    def team(self, status: str, settled_at: datetime | None) -> None:
        _insert(
            self.s,
            "teams",
            campaign_id=self.campaign,
            opener_id=self.member,
            status=status,
            min_size=2,
            max_size=2,
            created_at=at(days_ago(35), 0),
            settled_at=settled_at,
        )

    def wave(self, settled_at: datetime | None, status: str = "settled") -> tuple[int, int, int]:
        """A wave with two items: (wave id, item a, item b)."""
        wave = _insert(
            self.s,
            "waves",
            supplier_id=self.supplier,
            source="catalogue",
            created_by=self.member,
            title="周末团",
            cutoff_at=settled_at or at(TODAY, 23),
            delivery_date=TODAY,
            status=status,
            commission_bps=1000,
            created_at=at(days_ago(35), 0),
            settled_at=settled_at,
        )
        items = [
            _insert(
                self.s,
                "wave_items",
                wave_id=wave,
                sku_id=self.sku,
                title=title,
                price=1000,
                tiers=[[1, 1000]],
                moq=10,
                stock=100,
                per_member_limit=5,
            )
            for title in ("苹果", "梨")
        ]
        return wave, items[0], items[1]

    def listing(self, wave: int, leader: tuple[int, int, int]) -> int:
        return _insert(
            self.s,
            "wave_listings",
            wave_id=wave,
            community_id=leader[2],
            leader_id=leader[0],
            pickup_point_id=leader[1],
            commission_bps=1000,
            created_at=at(days_ago(35), 0),
        )

    def wave_order(
        self,
        wave: int,
        listing: int,
        leader: tuple[int, int, int],
        paid_at: datetime,
        paid: int,
        lines: list[tuple[int, str]],
        refunded: int = 0,
    ) -> int:
        order_id = self.order(paid_at, paid, refunded=refunded, kind="wave")
        _insert(
            self.s,
            "wave_orders",
            order_id=order_id,
            wave_id=wave,
            listing_id=listing,
            pickup_point_id=leader[1],
        )
        for item, status in lines:
            _insert(
                self.s,
                "wave_order_lines",
                order_id=order_id,
                item_id=item,
                sku_id=self.sku,
                quantity=1,
                unit_price=1000,
                status=status,
            )
        return order_id


def _dashboard(**kw: Any) -> analytics.Dashboard:
    with unit_of_work(readonly=True) as session:
        return analytics.dashboard(session, today=TODAY, **kw)


def test_gmv_per_day_is_paid_orders_minus_refunds_in_local_days(db_url: str) -> None:
    def build(s: Session) -> None:
        w = World(s)
        a = w.order(at(TODAY, 9), 1990)
        w.order(at(TODAY, 0.5), 3000)  # 00:30 local: today, though yesterday in UTC
        w.order(at(days_ago(1), 23.5), 500)  # 23:30 local yesterday
        b = w.order(at(days_ago(2), 10), 4000, refunded=1500)
        w.refund(b, 1500, "manual", at(TODAY, 11))  # a refund counts on the day it was made
        w.refund(a, 400, "price_protection", at(TODAY, 12))
        w.order(at(days_ago(30), 12), 9999)  # just outside the 30 days
        late = w.order(None, 0)  # a late payment on a closed order: no sale, no refund
        w.refund(late, 700, "late_payment", at(TODAY, 13))

    run_in_transaction(build)
    d = _dashboard()
    assert d.days[0] == days_ago(29) and d.days[-1] == TODAY and len(d.days) == 30
    assert d.paid[-1] == 1990 + 3000
    assert d.refunded[-1] == 1500 + 400
    assert d.gmv[-1] == 1990 + 3000 - 1500 - 400
    assert d.gmv[-2] == 500
    assert d.gmv[-3] == 4000
    assert d.gmv_total == 1990 + 3000 + 500 + 4000 - 1500 - 400
    assert sum(1 for g in d.gmv if g) == 3
    # Refunds by reason count every refund of the window, the largest amount first.
    assert [(r.reason, r.count, r.amount) for r in d.refunds] == [
        ("manual", 1, 1500),
        ("late_payment", 1, 700),
        ("price_protection", 1, 400),
    ]


def test_team_success_counts_settled_against_failed_teams_per_day(db_url: str) -> None:
    def build(s: Session) -> None:
        w = World(s)
        w.team("settled", at(TODAY, 10))
        w.team("settled", at(TODAY, 11))
        w.team("failed", at(TODAY, 12))
        w.team("failed", at(days_ago(3), 12))
        w.team("open", None)  # still running: not counted
        w.team("closed", at(TODAY, 9))  # nobody paid: neither a success nor a failure
        w.team("settled", at(days_ago(31), 9))  # outside the window

    run_in_transaction(build)
    d = _dashboard()
    assert (d.teams[-1].succeeded, d.teams[-1].failed) == (2, 1)
    assert d.teams[-1].rate == pytest.approx(2 / 3)
    assert (d.teams[-4].succeeded, d.teams[-4].failed) == (0, 1)
    assert d.teams[-2].rate is None
    total = d.teams_total
    assert (total.succeeded, total.failed, total.total) == (2, 2, 4)
    assert rules.percent(total.rate) == "50%"


def test_wave_confirmation_and_the_top_communities_and_leaders(db_url: str) -> None:
    def build(s: Session) -> None:
        w = World(s)
        east = _leader(s, "王姐", "东苑")
        west = _leader(s, "李哥", "西苑")
        wave, apple, pear = w.wave(at(days_ago(1), 23))
        le, lw = w.listing(wave, east), w.listing(wave, west)
        # confirmed (one line confirmed is enough), confirmed, refunded below MOQ
        w.wave_order(
            wave,
            le,
            east,
            at(days_ago(2), 9),
            2000,
            [(apple, "confirmed"), (pear, "refunded")],
            refunded=1000,
        )
        w.wave_order(wave, le, east, at(days_ago(2), 10), 3000, [(apple, "confirmed")])
        w.wave_order(wave, lw, west, at(days_ago(2), 11), 1000, [(pear, "refunded")], refunded=1000)
        w.wave_order(wave, lw, west, at(days_ago(3), 11), 2500, [(apple, "confirmed")])
        # an open wave: its lines have no outcome yet
        open_wave, apple2, _ = w.wave(None, status="open")
        lo = w.listing(open_wave, west)
        w.wave_order(open_wave, lo, west, at(TODAY, 8), 9000, [(apple2, "open")])

    run_in_transaction(build)
    d = _dashboard()
    assert (d.waves[-2].succeeded, d.waves[-2].failed) == (3, 1)
    assert d.waves_total.rate == pytest.approx(3 / 4)
    assert sum(o.total for o in d.waves) == 4
    # net of refunds: east 1000 + 3000; west 0 + 2500 + 9000 (the open wave's order is paid)
    assert [(r.name, r.gmv, r.orders) for r in d.top_communities] == [
        ("西苑", 11500, 3),
        ("东苑", 4000, 2),
    ]
    assert [(r.name, r.gmv, r.orders) for r in d.top_leaders] == [
        ("李哥", 11500, 3),
        ("王姐", 4000, 2),
    ]
    assert [r.name for r in _dashboard(top_n=1).top_leaders] == ["李哥"]


def test_queues_count_what_waits_and_the_age_of_the_oldest(db_url: str) -> None:
    def build(s: Session) -> None:
        for name in ("甲", "乙"):
            communities.apply(
                s,
                _user(s, name),
                communities.PickupPointInput(
                    name=f"{name}驿站", address="幸福路 2 号", latitude=30.2, longitude=120.1
                ),
            )

    run_in_transaction(build)
    clock.advance(timedelta(hours=2))
    with unit_of_work(readonly=True) as session:
        found = {q.name: q for q in analytics.queues(session)}
    assert list(found) == ["leader_applications", "aftersales", "withdrawals"]
    apps = found["leader_applications"]
    assert apps.count == 2
    assert apps.oldest_age_seconds is not None and 7200 <= apps.oldest_age_seconds < 7260
    assert found["aftersales"].count == 0 and found["aftersales"].oldest_age_seconds is None
    assert found["withdrawals"].count == 0


def test_gmv_of_a_team_bought_through_the_services(api: Any) -> None:
    """A real team (two members pay 19.90 each and it settles at once): the same figures."""
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, tiers=[[2, 1990]])
    a, b = api.signup("甲"), api.signup("乙")
    team = api.open(a, c["id"])["team"]["id"]
    api.join(b, team)
    with unit_of_work(readonly=True) as session:
        d = analytics.dashboard(session)
    assert d.gmv[-1] == 2 * 1990
    assert (d.teams_total.succeeded, d.teams_total.failed) == (1, 0)
    assert d.refunds == []


def test_rules() -> None:
    assert rules.rate(0, 0) is None and rules.rate(1, 4) == 0.25
    assert rules.percent(None) == "—" and rules.percent(2 / 3) == "67%"
    assert rules.window(TODAY, 3) == [days_ago(2), days_ago(1), TODAY]
    assert rules.per_day([TODAY], [(TODAY, 2), (TODAY, 3), (days_ago(1), 9)]) == [5]
    assert rules.top({"a": 1, "b": 3, "c": 3}, 2) == [("b", 3), ("c", 3)]
    assert rules.age_seconds(-3.5) == 0
    with pytest.raises(ValueError):
        rules.window(TODAY, 0)
