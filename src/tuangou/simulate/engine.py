"""One simulation: the proposed campaign, run by simulated members against the real engine.

Nothing here knows a rule of the team buy. The members open teams, join them and pay through
the same services the API calls (``teams.open_team``, ``teams.join_team``, the sandbox
gateway's ``payments.sandbox_pay_now``); the controlled clock moves from one event to the next,
and the worker's own jobs (``orders.tasks.release_expired``, ``teams.tasks.settle_due``)
release lapsed holds and settle teams at their deadlines. A refusal of the engine (a team
full or past its deadline, stock gone, a ladder the campaign rules refuse) is what the
member meets; a rule changed in the engine changes the figures at once.

Every random draw comes from the run's seed: the same seed gives the same figures.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tuangou.accounts import addresses
from tuangou.accounts import service as accounts
from tuangou.catalog import service as catalog
from tuangou.core import clock
from tuangou.core.db import get_engine, read, run_in_transaction
from tuangou.core.errors import DomainError
from tuangou.orders import service as orders
from tuangou.orders import tasks as order_tasks
from tuangou.payments import service as payments
from tuangou.simulate import calibrate, sandbox
from tuangou.simulate.agents import Agent, community
from tuangou.simulate.rules import Parameters, Setting, Spec, summarise
from tuangou.teams import service as teams
from tuangou.teams import tasks as team_tasks

Progress = Callable[[int, int, str], None]
SUCCEEDED = {"success", "completed"}


@dataclass
class Prepared:
    """What every run of the simulation starts from (in the base sandbox)."""

    sku_id: int
    single_price: int
    free_stock: int
    member_ids: list[int]
    goods: str


@dataclass
class Outcome:
    """The whole simulation: the parameters, where they came from, one row per setting."""

    spec: Spec
    params: Parameters
    sandbox: str  # "copy" (of the live SQLite file) or "fresh" (a migrated SQLite file)
    goods: str
    single_price: int
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec.to_json(),
            "sandbox": self.sandbox,
            "goods": self.goods,
            "single_price": self.single_price,
            "parameters": [
                {"name": n, "value": v, "source": s} for n, v, s in self.params.described()
            ],
            "rows": self.rows,
        }


def simulate(
    spec: Spec, *, params: Parameters | None = None, progress: Progress | None = None
) -> Outcome:
    """Run every setting of ``spec`` ``spec.runs`` times in sandboxes; the live database is
    only read (the history, the SKU)."""
    live = get_engine()
    history = read(calibrate.history)
    params = (params or Parameters()).with_history(history)
    sku, goods = read(lambda s: _live_sku(s, spec.sku_id))
    work = sandbox.prepare(live)
    try:
        with sandbox.inside(work.base):
            prepared = run_in_transaction(
                lambda s: _prepare(s, spec, sku, goods, copied=work.copied)
            )
        outcome = Outcome(
            spec, params, "copy" if work.copied else "fresh", goods, prepared.single_price
        )
        settings = spec.settings()
        total = len(settings) * spec.runs
        done = 0
        for setting in settings:
            runs = []
            error = None
            for r in range(spec.runs):
                if progress:
                    progress(done, total, setting.label())
                path = work.run_copy(done)
                try:
                    with sandbox.inside(path):
                        figures = _one_run(spec, setting, params, prepared, seed=spec.seed + r)
                finally:
                    work.discard(path)
                done += 1
                if "error" in figures:
                    error = figures["error"]
                    done += spec.runs - r - 1
                    break
                runs.append(figures)
            outcome.rows.append(
                {
                    "label": setting.label(),
                    "team_size": setting.team_size,
                    "window_hours": setting.window_hours,
                    "tiers": [list(t) for t in setting.tiers(spec.price)],
                    "completion": setting.completion,
                    "error": error,
                    "runs": runs,
                    "summary": summarise(runs) if runs else None,
                }
            )
        if progress:
            progress(total, total, "")
        return outcome
    finally:
        work.close()


def _live_sku(session: Session, sku_id: int) -> tuple[dict[str, int], str]:
    sku = catalog.get_sku(session, sku_id)
    product = catalog.get_product(session, sku.product_id)
    return (
        {"price": sku.price, "free": max(0, sku.stock - sku.allocated)},
        catalog.goods_name(product.title, sku.name),
    )


def _prepare(
    session: Session, spec: Spec, sku: dict[str, int], goods: str, *, copied: bool
) -> Prepared:
    """The base sandbox: the SKU (a copy of the live one in a fresh sandbox) and the members,
    each with an address to ship to."""
    if copied:
        sku_id = spec.sku_id
    else:
        supplier = catalog.create_supplier(session, name="模拟供应商", contact="")
        product = catalog.create_product(
            session, supplier_id=supplier.id, title=goods, description="", image_url=""
        )
        sku_id = catalog.create_sku(
            session, product_id=product.id, name="模拟", price=sku["price"], stock=sku["free"]
        ).id
    members: list[int] = []
    number = 0
    while len(members) < spec.members:
        number += 1
        phone = f"198{number:08d}"
        try:
            user = accounts.create_user(
                session, phone=phone, password=None, nickname=f"模拟成员{len(members) + 1}"
            )
        except accounts.PhoneTaken:
            continue
        addresses.add_address(
            session,
            user.id,
            name=user.nickname,
            phone=phone,
            region="模拟省 模拟市 模拟区",
            detail=f"模拟小区 {len(members) + 1} 号",
            make_default=True,
        )
        members.append(user.id)
    return Prepared(sku_id, sku["price"], sku["free"], members, goods)


# ---------------------------------------------------------------- one run


class _Run:
    def __init__(
        self,
        spec: Spec,
        setting: Setting,
        params: Parameters,
        prepared: Prepared,
        agents: list[Agent],
        seed: int,
    ) -> None:
        self.spec, self.setting, self.params = spec, setting, params
        self.prepared, self.agents = prepared, agents
        self.rng = random.Random(f"behaviour:{seed}")
        self.t0 = clock.now()
        self.events: list[tuple[float, int, str, int, int]] = []
        self.seq = 0
        self.now = 0.0
        self.bought: set[int] = set()
        self.team_ids: list[int] = []
        self.campaign_id = 0
        self.refusals = 0

    # time
    def at(self, hours: float) -> datetime:
        return self.t0 + timedelta(hours=hours)

    def move_to(self, hours: float) -> None:
        self.now = max(self.now, hours)
        clock.set_offset(clock.offset() + (self.at(self.now) - clock.now()))

    def push(self, hours: float, kind: str, who: int = -1, team_id: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.events, (hours, self.seq, kind, who, team_id))

    def hours_of(self, moment: datetime) -> float:
        return (moment - self.t0).total_seconds() / 3600

    # the campaign
    def create_campaign(self) -> None:
        spec, setting = self.spec, self.setting
        stock = spec.stock or min(spec.members, self.prepared.free_stock) or 1
        data = teams.CampaignInput(
            sku_id=self.prepared.sku_id,
            title="试运行",
            starts_at=self.t0 - timedelta(minutes=1),
            ends_at=self.at(spec.campaign_hours),
            tiers=setting.tiers(spec.price),
            stock=stock,
            min_size=setting.team_size,
            max_size=setting.max_size(),
            window_hours=setting.window_hours,
            per_member_limit=spec.per_member_limit,
            completion_enabled=setting.completion,
            completion_percent=spec.completion_percent,
            subsidy_budget=spec.subsidy_budget,
            opener_perk=spec.opener_perk,
            opener_price=spec.opener_price,
        )
        self.campaign_id = run_in_transaction(lambda s: teams.create_campaign(s, data).id)

    def accepts(self, who: int) -> bool:
        return self.agents[who].wtp_ratio * self.prepared.single_price >= self.spec.price

    # what members do
    def visit(self, who: int) -> None:
        if who in self.bought or not self.accepts(who):
            return
        if self.rng.random() < self.params.open_share:
            self.open(who)
            return
        listed = read(lambda s: [t.id for t in teams.teams_of_campaign(s, self.campaign_id)])
        if listed:
            self.join(who, listed[0])
        else:
            self.open(who)

    def follow_link(self, who: int, team_id: int) -> None:
        if who in self.bought:
            return
        if self.rng.random() >= self.params.link_conversion or not self.accepts(who):
            return
        if not self.join(who, team_id) and self.rng.random() < self.params.open_share:
            self.open(who)

    def open(self, who: int) -> bool:
        pays = self.rng.random() < self.params.pay_prob
        user_id = self.prepared.member_ids[who]

        def work(session: Session) -> tuple[int, datetime | None, datetime]:
            seat = teams.open_team(session, user_id=user_id, campaign_id=self.campaign_id)
            if pays:
                payments.sandbox_pay_now(session, seat.started.payment)
            team = teams.get_team(session, seat.team.id)
            return team.id, team.deadline, seat.order.expires_at

        try:
            team_id, deadline, expires = run_in_transaction(work)
        except DomainError:
            self.refusals += 1
            return False
        self.took_seat(who, team_id, deadline, expires, pays, self.params.share_prob)
        return True

    def join(self, who: int, team_id: int) -> bool:
        pays = self.rng.random() < self.params.pay_prob
        user_id = self.prepared.member_ids[who]

        def work(session: Session) -> tuple[datetime | None, datetime]:
            seat = teams.join_team(session, user_id=user_id, team_id=team_id)
            if pays:
                payments.sandbox_pay_now(session, seat.started.payment)
            return teams.get_team(session, team_id).deadline, seat.order.expires_at

        try:
            deadline, expires = run_in_transaction(work)
        except DomainError:
            self.refusals += 1
            return False
        self.took_seat(who, team_id, deadline, expires, pays, self.params.reshare_prob)
        return True

    def took_seat(
        self,
        who: int,
        team_id: int,
        deadline: datetime | None,
        expires: datetime,
        paid: bool,
        share_prob: float,
    ) -> None:
        self.bought.add(who)
        if team_id not in self.team_ids:
            self.team_ids.append(team_id)
        if deadline is not None:
            self.push(self.hours_of(deadline) + 1 / 3600, "tick")
        if not paid:
            self.bought.discard(who)  # a lapsed hold: they may buy later
            self.push(self.hours_of(expires) + 1 / 3600, "tick")
            return
        if self.rng.random() < share_prob:
            friends = list(self.agents[who].friends)
            chosen = self.rng.sample(friends, min(self.params.share_k, len(friends)))
            for friend in chosen:
                delay = self.rng.expovariate(1 / self.params.response_hours)
                self.push(self.now + delay, "link", friend, team_id)

    def tick(self) -> None:
        order_tasks.release_expired()
        while team_tasks.settle_due():
            pass

    def run(self) -> dict[str, Any]:
        try:
            self.create_campaign()
        except DomainError as exc:
            return {"error": f"{exc.code}: {exc.detail}"}
        for agent in self.agents:
            if agent.visit_at is not None:
                self.push(agent.visit_at, "visit", agent.index)
        end = float(self.spec.campaign_hours)
        while self.events:
            hours, _, kind, who, team_id = heapq.heappop(self.events)
            if kind != "tick" and hours >= end:
                continue  # the campaign is over: nobody opens or joins any more
            self.move_to(hours)
            if kind == "tick":
                self.tick()
            elif kind == "visit":
                self.visit(who)
            else:
                self.follow_link(who, team_id)
        # Past the last deadline: every team still under way settles.
        self.move_to(end + self.setting.window_hours + 1)
        self.tick()
        return read(self.figures)

    def figures(self, session: Session) -> dict[str, Any]:
        placed = orders.get_many(
            session, orders.ids_query(kind="team", campaign_id=self.campaign_id)
        )
        paid = [o for o in placed if o.paid_amount > 0]
        settled = [t for t in (teams.get_team(session, i) for i in self.team_ids) if t.outcome]
        succeeded = [t for t in settled if t.outcome in SUCCEEDED]
        failed_orders = {
            order_id
            for t in settled
            if t.outcome not in SUCCEEDED
            for order_id in teams.order_ids_of_team(session, t.id)
        }
        buyers = {o.user_id for o in paid}
        left = {o.user_id for o in paid if o.id in failed_orders}
        return {
            "teams": len(settled),
            "teams_succeeded": len(succeeded),
            "success_rate": len(succeeded) / len(settled) if settled else None,
            "buyers": len(buyers),
            "gmv": sum(o.paid_amount - o.refunded_amount for o in paid),
            "subsidy": sum(o.subsidy_amount + o.level_discount + o.coupon_discount for o in placed),
            "refunds": sum(o.refunded_amount for o in paid),
            "left_in_failed": len(left) / len(buyers) if buyers else None,
            "refusals": self.refusals,
        }


def _one_run(
    spec: Spec, setting: Setting, params: Parameters, prepared: Prepared, *, seed: int
) -> dict[str, Any]:
    agents = community(
        len(prepared.member_ids), params, seed=seed, campaign_hours=spec.campaign_hours
    )
    return _Run(spec, setting, params, prepared, agents, seed).run()
