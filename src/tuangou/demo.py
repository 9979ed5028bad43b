"""Demo data: an operator, a supplier with its staff, products with stock, members, and
running team-buy campaigns (one with a three-tier ladder), some teams already under way."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.accounts.models import User
from tuangou.catalog import service as catalog
from tuangou.core import clock
from tuangou.core.db import run_in_transaction
from tuangou.payments import service as payments
from tuangou.teams import service as teams

PASSWORD = "demo1234"
OPERATOR_PHONE = "13800000000"
SUPPLIER_PHONE = "13900000000"
MEMBERS = [
    ("13800000001", "李阿姨"),
    ("13800000002", "王叔叔"),
    ("13800000003", "张小红"),
    ("13800000004", "陈大明"),
    ("13800000005", "刘婷"),
    ("13800000006", "赵六"),
]


def already_loaded(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.phone == OPERATOR_PHONE)) is not None


def _address(name: str, phone: str) -> dict[str, str]:
    return {"name": name, "phone": phone, "line": "幸福里小区 3 栋 2 单元 501"}


def load() -> dict[str, object]:
    def build(session: Session) -> dict[str, object]:
        if already_loaded(session):
            return {"loaded": False}
        now = clock.now()
        accounts.create_user(
            session, phone=OPERATOR_PHONE, password=PASSWORD, nickname="平台运营", role="operator"
        )
        farm = catalog.create_supplier(session, name="阳光果园合作社", contact="0571-88880000")
        accounts.create_user(
            session,
            phone=SUPPLIER_PHONE,
            password=PASSWORD,
            nickname="果园老周",
            role="supplier",
            supplier_id=farm.id,
        )
        members = []
        for phone, name in MEMBERS:
            user = accounts.create_user(session, phone=phone, password=PASSWORD, nickname=name)
            user.address = _address(name, phone)
            members.append(user)
        apples = catalog.create_product(
            session,
            supplier_id=farm.id,
            title="烟台红富士苹果 5斤装",
            description="当季现摘, 果径 80mm 以上, 产地直发。",
            image_url="/static/demo/apples.jpg",
        )
        apple_box = catalog.create_sku(
            session, product_id=apples.id, name="5斤装", price=3990, stock=500
        )
        eggs = catalog.create_product(
            session,
            supplier_id=farm.id,
            title="农家散养土鸡蛋 30枚",
            description="林下散养, 每日新鲜收蛋。",
            image_url="/static/demo/eggs.jpg",
        )
        egg_box = catalog.create_sku(
            session, product_id=eggs.id, name="30枚", price=4590, stock=300
        )
        rice = catalog.create_product(
            session,
            supplier_id=farm.id,
            title="五常稻花香大米 10斤",
            description="新米, 真空包装。",
            image_url="/static/demo/rice.jpg",
        )
        rice_bag = catalog.create_sku(
            session, product_id=rice.id, name="10斤", price=8900, stock=200
        )
        ladder = teams.create_campaign(
            session,
            teams.CampaignInput(
                sku_id=apple_box.id,
                title="红富士苹果 · 阶梯拼团",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=7),
                tiers=[(2, 2990), (5, 2690), (10, 2390)],
                stock=300,
                min_size=2,
                max_size=10,
                per_member_limit=3,
                max_quantity_per_order=3,
                opener_perk="price",
                opener_price=2790,
            ),
        )
        teams.create_campaign(
            session,
            teams.CampaignInput(
                sku_id=egg_box.id,
                title="土鸡蛋 · 2人团",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=3),
                tiers=[(2, 3590)],
                stock=100,
                completion_enabled=True,
                completion_percent=50,
                subsidy_budget=20000,
            ),
        )
        teams.create_campaign(
            session,
            teams.CampaignInput(
                sku_id=rice_bag.id,
                title="五常大米 · 新人团 (团长免单)",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(days=5),
                tiers=[(3, 6990)],
                min_size=3,
                stock=60,
                opener_perk="free",
                subsidy_budget=50000,
                new_member_only=True,
            ),
        )
        session.flush()
        # Two teams under way on the ladder campaign: the openers have paid; one has a joiner.
        first = teams.open_team(session, user_id=members[0].id, campaign_id=ladder.id, quantity=2)
        second = teams.open_team(session, user_id=members[1].id, campaign_id=ladder.id)
        for seat in (first, second):
            payments.sandbox_pay_now(session, seat.started.payment)
        joiner = teams.join_team(session, user_id=members[2].id, team_id=first.team.id)
        payments.sandbox_pay_now(session, joiner.started.payment)
        return {"loaded": True, "team_ids": [first.team.id, second.team.id]}

    return run_in_transaction(build)
