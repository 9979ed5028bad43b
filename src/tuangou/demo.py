"""Demo data: an operator, a supplier with its staff, products with stock, members, and
running team-buy campaigns (one with a three-tier ladder), some teams already under way.

Community group-buying (:func:`load_communities`): three leaders with their pickup points and
communities (one a sub-leader of another, by an accepted invitation; one invitation still
pending), neighbours in them, and three waves of the
supplier: one open for orders (cut-off tonight, delivery tomorrow) with its chain under way,
one that has arrived at its pickup point (pickup codes issued), and one completed (every
order picked up; the leaders' commissions frozen through the after-sale window).

Flash sales (:func:`_flash_sales`): today's slots of navel oranges at 10:00, 14:00 and 20:00
(those not over yet), one on sale now, where a member has bought and paid, and tomorrow's
10:00.

An event (:func:`_demo_event`): a paid strawberry tasting in the third community next
Saturday, two neighbours signed up and paid, one seat held for its payment, one waiting."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tuangou.accounts import addresses
from tuangou.accounts import service as accounts
from tuangou.accounts.models import User
from tuangou.bargains import service as bargains
from tuangou.catalog import service as catalog
from tuangou.cocreate import service as cocreate
from tuangou.communities import service as communities
from tuangou.core import clock, locks
from tuangou.core.db import run_in_transaction
from tuangou.flashsales import rules as flash_rules
from tuangou.flashsales import service as flash
from tuangou.payments import service as payments
from tuangou.pools import service as pools
from tuangou.risk import service as risk
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


# The categories of the members' strip, in order.
CATEGORIES = ("水果", "蔬菜", "肉禽蛋", "粮油", "日用")


def _category(session: Session, name: str) -> int:
    """The demo category of that name (made, with the others, if missing)."""
    found = {c.name: c.id for c in catalog.list_categories(session)}
    if not found:
        found = {n: catalog.create_category(session, name=n).id for n in CATEGORIES}
    return found[name]


# Homes for the demo's address books: (region, detail line).
HOMES = [
    ("浙江省 杭州市 西湖区", "幸福里小区 3 栋 2 单元 501"),
    ("浙江省 杭州市 西湖区", "幸福里小区 5 栋 1 单元 302"),
    ("浙江省 杭州市 拱墅区", "和睦新村 12 幢 402"),
    ("浙江省 杭州市 上城区", "望江家园 东区 7 幢 1103"),
]
WORK = ("浙江省 杭州市 滨江区", "网商路 599 号 B 座 8 楼 前台")


def _address_book(session: Session, user: User, index: int) -> None:
    """A member's address book: a home (the default) and, for every other one, an office."""
    region, detail = HOMES[index % len(HOMES)]
    add = partial(addresses.add_address, session, user.id, name=user.nickname, phone=user.phone)
    add(region=region, detail=detail, make_default=True)
    if index % 2 == 0:
        add(region=WORK[0], detail=WORK[1])


def load() -> dict[str, object]:
    def build(session: Session) -> dict[str, object]:
        if already_loaded(session):
            return {"loaded": False}
        locks.setup(session)  # many use cases, one transaction: the whole demo or nothing
        now = clock.now()
        operator = accounts.create_user(
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
        for index, (phone, name) in enumerate(MEMBERS):
            user = accounts.create_user(session, phone=phone, password=PASSWORD, nickname=name)
            _address_book(session, user, index)
            members.append(user)
        apples = catalog.create_product(
            session,
            supplier_id=farm.id,
            title="烟台红富士苹果 5斤装",
            description="当季现摘, 果径 80mm 以上, 产地直发。",
            image_url="/static/demo/apples.svg",
        )
        catalog.set_product_category(
            session, product_id=apples.id, category_id=_category(session, "水果")
        )
        apple_box = catalog.create_sku(
            session, product_id=apples.id, name="5斤装", price=3990, stock=500
        )
        eggs = catalog.create_product(
            session,
            supplier_id=farm.id,
            title="农家散养土鸡蛋 30枚",
            description="林下散养, 每日新鲜收蛋。",
            image_url="/static/demo/eggs.svg",
        )
        catalog.set_product_category(
            session, product_id=eggs.id, category_id=_category(session, "肉禽蛋")
        )
        egg_box = catalog.create_sku(
            session, product_id=eggs.id, name="30枚", price=4590, stock=300
        )
        rice = catalog.create_product(
            session,
            supplier_id=farm.id,
            title="五常稻花香大米 10斤",
            description="新米, 真空包装。",
            image_url="/static/demo/rice.svg",
        )
        catalog.set_product_category(
            session, product_id=rice.id, category_id=_category(session, "粮油")
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
                allow_solo=True,  # 单独购买 at the SKU's price, beside 开团
            ),
        )
        egg_team = teams.create_campaign(
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
                allow_solo=False,  # a newcomers' team offer: no buying alone
            ),
        )
        session.flush()
        # Two teams under way on the ladder campaign: the openers have paid; one has a joiner.
        # Each order keeps a copy of the address chosen (the first opener ships to the office).
        office = addresses.list_addresses(session, members[0].id)[-1]
        first = teams.open_team(
            session,
            user_id=members[0].id,
            campaign_id=ladder.id,
            quantity=2,
            address_id=office.id,
        )
        second = teams.open_team(session, user_id=members[1].id, campaign_id=ladder.id)
        for seat in (first, second):
            payments.sandbox_pay_now(session, seat.started.payment)
        joiner = teams.join_team(session, user_id=members[2].id, team_id=first.team.id)
        payments.sandbox_pay_now(session, joiner.started.payment)
        # 单独购买: a box of eggs bought alone at the single price, confirmed once paid.
        alone = teams.buy_alone(session, user_id=members[2].id, campaign_id=egg_team.id)
        payments.sandbox_pay_now(session, alone.started.payment)
        _referral(session, members)
        bargain_id = _demo_bargain(session, supplier_id=farm.id, members=members)
        waves = load_communities(
            session, operator_id=operator.id, supplier_id=farm.id, members=members
        )
        _flash_sales(session, supplier_id=farm.id, buyer_id=members[3].id)
        _group_rules_and_moderation(session)
        _demo_points(session, members)
        _demo_coupons(session, members)
        return {
            "loaded": True,
            "team_ids": [first.team.id, second.team.id],
            "wave_ids": waves,
            "bargain_id": bargain_id,
        }

    result = run_in_transaction(build)
    finish_communities()
    run_in_transaction(_demo_reviews)
    run_in_transaction(_risk_ring)
    run_in_transaction(_community_posts)
    run_in_transaction(_cocreate)
    run_in_transaction(_webhook)
    run_in_transaction(_demo_achievements)
    run_in_transaction(_leaderboard)
    run_in_transaction(_notify_prefs)
    _recommend_model()
    _demo_quality()
    # The verifiable record: every money movement, points transfer and help above is in it;
    # a first signed checkpoint lets 我的账本 prove each of them at once.
    from tuangou.journal import service as journal

    journal.publish_checkpoints(force=True)
    return result


def _recommend_model() -> None:
    """猜你喜欢: a model trained on the demo's purchases and a small slice of the generator's
    year of a neighbourhood (its people as synthetic members, with ids below zero that no
    account has; its products mapped onto the demo's), so the members' row says "model"."""
    from tuangou.core.db import read
    from tuangou.recommend import generator
    from tuangou.recommend import service as recommend
    from tuangou.recommend.rules import Interaction

    products = [p.id for p in read(lambda s: catalog.list_products(s))]
    if len(products) < 2 or read(recommend.versions):
        return  # nothing to train on, or trained already (the demo loads once)
    world = generator.generate(seed=7, members=60, items=max(10, len(products)), communities=3)
    extra = [
        Interaction(-i.member, products[(i.item - 1) % len(products)], i.at)
        for i in world.interactions
    ]
    recommend.train(extra=extra)


def _webhook(session: Session) -> None:
    """Outgoing webhooks: one endpoint of the operator's own (an address of example.com, so
    nothing is sent: it is paused), with a test event waiting in its delivery log. Its secret
    is not kept: rotating it in the console shows a new one."""
    from tuangou.webhooks import service as webhooks

    if webhooks.list_endpoints(session):
        return  # loaded before
    view, _ = webhooks.create_endpoint(
        session,
        url="https://erp.example.com/tuangou/webhooks",
        topics=["order.completed", "refund.created", "wave.confirmed"],
        description="进销存系统 (示例, 已暂停)",
        active=False,
    )
    webhooks.send_test(session, view.id)


def _demo_points(session: Session, members: list[User]) -> None:
    """Points (积分): the first member has checked in five days running (today among them),
    the second three days, then missed one (their streak starts again tomorrow) and has
    reached 好邻居 with a verified-review-like task award; the third has a few points from
    an operator's adjustment."""
    from tuangou.points import service as points

    today = clock.now()
    for back in range(4, -1, -1):
        points.checkin(session, members[0].id, at=today - timedelta(days=back))
    for back in (5, 4, 3):
        points.checkin(session, members[1].id, at=today - timedelta(days=back))
    points.award(
        session,
        user_id=members[1].id,
        reason=points.Reason.TASK,
        key="demo:welcome-tasks",
        points=200,
        at=today - timedelta(days=2),
        note="新手任务",
    )
    points.award(
        session,
        user_id=members[2].id,
        reason=points.Reason.ADMIN_ADJUST,
        key="demo:compensation",
        points=30,
        note="配送延误补偿",
    )


def _demo_achievements(session: Session) -> None:
    """Tasks and achievements: 赵六's first review (this week's review task done) and first
    completed order (the achievement 首单) are counted now rather than when the worker
    delivers their events (which then count nothing twice), and they checked in seven days
    running the week before last (the achievement 连续签到 7 天)."""
    from tuangou.achievements import service as achievements
    from tuangou.points import service as points
    from tuangou.reviews import service as reviews

    wave_id = _demo_waves(session).get(WAVE_COMPLETED)
    user_id = session.scalar(select(User.id).where(User.phone == DEMO_REVIEWS[0][0]))
    if wave_id is None or user_id is None:
        return
    order = next(
        (o for _i, o, _l in pools.wave_orders(session, wave_id) if o.user_id == user_id), None
    )
    if order is None or not reviews.completed(order):
        return
    achievements.on_order_completed(session, user_id, order.id)
    for review in reviews.of_order(session, order.id).values():
        if review.status == reviews.ReviewStatus.PUBLISHED:
            points.on_review_published(session, user_id=user_id, review_id=review.id)
    now = clock.now()
    first = clock.local_date(now - timedelta(days=20))
    if points.checkins_between(session, user_id, first, first):
        return  # loaded before
    for back in range(20, 13, -1):
        points.checkin(session, user_id, at=now - timedelta(days=back))


def _demo_coupons(session: Session, members: list[User]) -> None:
    """Coupons (优惠券): a catalogue of three (a fixed amount off waves and team buys, a
    percentage with a cap, a small one for flash sales); the second member has bought the
    first with points and holds it, unused."""
    from tuangou.coupons import service as coupons

    catalogue = [
        coupons.CouponData(
            name="满30减5",
            form=coupons.Form.FIXED,
            amount=500,
            min_spend=3000,
            points_price=100,
            kinds=("wave", "team"),
            stock=200,
            valid_days=30,
            per_member_limit=2,
        ),
        coupons.CouponData(
            name="团购九折券",
            form=coupons.Form.PERCENT,
            percent_bps=1000,
            cap=1000,
            min_spend=2000,
            points_price=150,
            kinds=("team", "wave", "bargain"),
            stock=100,
            valid_days=14,
        ),
        coupons.CouponData(
            name="秒杀立减2元",
            form=coupons.Form.FIXED,
            amount=200,
            min_spend=500,
            points_price=50,
            kinds=("flash",),
            stock=50,
            valid_days=7,
        ),
    ]
    made = [coupons.create(session, data) for data in catalogue]
    coupons.buy(session, user_id=members[1].id, coupon_id=made[0].id, key="demo:first-coupon")


def _referral(session: Session, members: list[User]) -> None:
    """Referral (分销): 李阿姨 invited 王叔叔, 张小红 and 刘婷, and 刘婷 invited 赵六. When the
    weekend wave's orders are picked up, 刘婷's earns 李阿姨 level 1, and 赵六's earns 刘婷
    level 1 and 李阿姨 level 2."""
    from tuangou.referral import service as referral

    code = referral.member(session, members[0].id).code
    for invitee in (members[1], members[2], members[4]):
        referral.bind(session, user_id=invitee.id, code=code)
    referral.bind(session, user_id=members[5].id, code=referral.member(session, members[4].id).code)


FLASH_TITLE = "整点秒杀 · 赣南脐橙"
FLASH_TIMES = ((10, 0), (14, 0), (20, 0))


def _flash_sales(session: Session, *, supplier_id: int, buyer_id: int) -> None:
    """Today's flash slots not over yet, one on sale now, tomorrow's 10:00; one unit bought."""
    oranges = catalog.create_product(
        session,
        supplier_id=supplier_id,
        title="赣南脐橙 5斤装",
        description="果园直发, 酸甜多汁。",
        image_url="/static/demo/apples.svg",
    )
    catalog.set_product_category(
        session, product_id=oranges.id, category_id=_category(session, "水果")
    )
    box = catalog.create_sku(session, product_id=oranges.id, name="5斤装", price=3990, stock=300)
    now = clock.to_local(clock.now())
    today, minute = now.date(), now.hour * 60 + now.minute
    fixed = [(h, m) for h, m in FLASH_TIMES if h * 60 + m + flash_rules.DEFAULT_MINUTES > minute]
    live = [(h, m) for h, m in fixed if h * 60 + m <= minute]
    if not live:  # none of the fixed slots is on now: one more, from five minutes ago
        start = max(0, minute - 5)
        ahead = [h * 60 + m for h, m in fixed]
        if not ahead or ahead[0] - start >= flash_rules.DEFAULT_MINUTES:
            live = [divmod(start, 60)]
            fixed = sorted([*fixed, live[0]])

    def slots(day: date, times: list[tuple[int, int]]) -> list[Any]:
        if not times:
            return []
        return flash.create_slots(
            session,
            flash.SlotsInput(
                sku_id=box.id,
                title=FLASH_TITLE,
                price=990,
                stock=20,
                per_order_cap=1,
                per_member_cap=1,
                day=day,
                times=[f"{h:02d}:{m:02d}" for h, m in times],
            ),
        )

    made = slots(today, fixed)
    slots(today + timedelta(days=1), [FLASH_TIMES[0]])
    on_now = [s for s in made if s.starts_at <= clock.now() < s.ends_at]
    if on_now and on_now[0].ends_at - clock.now() > timedelta(minutes=5):
        bought = flash.buy(session, user_id=buyer_id, slot_id=on_now[0].id)
        payments.sandbox_pay_now(session, bought.started.payment)


def _demo_bargain(session: Session, *, supplier_id: int, members: list[User]) -> int:
    """A bargain campaign (砍价) and a bargain under way: 陈大明 started it and two friends
    have cut (both new members, so each cut carries the new-member bonus)."""
    now = clock.now()
    pan = catalog.create_product(
        session,
        supplier_id=supplier_id,
        title="铸铁炒锅 32cm",
        description="无涂层铸铁, 老师傅手工打磨。",
    )
    pan_sku = catalog.create_sku(session, product_id=pan.id, name="32cm", price=12900, stock=50)
    campaign = bargains.create_campaign(
        session,
        bargains.CampaignInput(
            sku_id=pan_sku.id,
            title="铸铁炒锅 · 好友砍价",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=7),
            start_price=12900,
            floor_price=3900,
            helpers_needed=5,
            stock=20,
            new_member_bonus=300,
        ),
    )
    bargain = bargains.start_bargain(session, user_id=members[3].id, campaign_id=campaign.id)
    for friend in (members[4], members[5]):
        bargains.help_bargain(
            session,
            helper_id=friend.id,
            bargain_id=bargain.id,
            share=bargain.share_token,
            device=f"demo-phone-{friend.id}",
            ip="127.0.0.1",
        )
    return int(bargain.id)


# ---------------------------------------------------------------- a ring for the risk review

# Six accounts made last week that help each other's bargains and nobody else's: the graph
# work finds them, and the operator's risk review (/ops/risk) has a case to decide.
RING = [(f"1377770{n:04d}", f"小号{n}") for n in range(101, 107)]


def _risk_ring(session: Session) -> None:
    if session.scalar(select(User.id).where(User.phone == RING[0][0])) is not None:
        return  # loaded before
    start = clock.now() - timedelta(days=6)
    ids = []
    for n, (phone, name) in enumerate(RING):
        user = accounts.create_user(session, phone=phone, password=PASSWORD, nickname=name)
        ids.append(user.id)
        at = start + timedelta(hours=n)
        risk.record(
            session,
            risk.Event(
                risk.EventType.SIGNUP,
                at,
                user.id,
                device=f"demo-phone-{n}",
                ip=f"39.1.{n}.8",
                phone=phone,
            ),
        )
    step = 0
    for starter in ids:
        for helper in ids:
            if helper != starter:
                step += 1
                risk.record(
                    session,
                    risk.Event(
                        risk.EventType.HELP,
                        start + timedelta(hours=8, minutes=23 * step),
                        helper,
                        target=f"bargain:demo-{starter}",
                        other=starter,
                        device=f"demo-phone-{ids.index(helper)}",
                    ),
                )
    session.flush()
    risk.analyse(session)


# ---------------------------------------------------------------- community group-buying

# (phone, nickname, pickup point, address, community); the second is the first's sub-leader.
LEADERS = [
    (
        "13600000001",
        "李团长",
        "幸福里自提点 (3栋便利店)",
        "幸福里小区 3 栋 1 楼",
        "幸福里邻里团",
    ),
    ("13600000002", "王团长", "阳光花园自提点 (东门快递柜旁)", "阳光花园东门", "阳光花园业主群"),
    ("13600000003", "陈团长", "翠湖苑自提点 (物业前台)", "翠湖苑 1 号楼物业", "翠湖苑团购群"),
]
# The leaders' pickup points, GCJ-02 (as a map app gives them), a few hundred metres apart in
# one part of Hangzhou, so that 附近 (/nearby) around the first shows all three.
LEADER_POINTS = [(30.27, 120.15), (30.2752, 120.1583), (30.2668, 120.1609)]
SUB_LEADER = (1, 0)  # LEADERS[1] is the sub-leader of LEADERS[0]
PENDING_INVITEE = 2  # LEADERS[0] has invited LEADERS[2]; the invitation is pending
NEIGHBOURS = [
    ("13800000011", "孙奶奶"),
    ("13800000012", "周先生"),
    ("13800000013", "吴姐"),
    ("13800000014", "郑阿姨"),
    ("13800000015", "钱老师"),
    ("13800000016", "冯大爷"),
]
WAVE_OPEN = "明日达 · 果园直供"
WAVE_ARRIVED = "幸福里 · 酥梨青菜团"
WAVE_COMPLETED = "周末面包鸡蛋团"
WAVE_IN_TRANSIT = "产地直发 · 红富士苹果"  # settled, shipped, on its way (delivery tracking)


def _group_rules_and_moderation(session: Session) -> None:
    """Group rules (群规) and moderation: the first leader's community has a second version
    of its rules, accepted by its members (they joined on the first, written when it was
    created); its log shows a member muted for an hour two days ago, and lifted early."""
    from tuangou.moderation import service as moderation

    leader_phone, *_ = LEADERS[0]
    leader = session.scalars(select(User).where(User.phone == leader_phone)).one()
    profile = communities.leader_profile(session, leader.id)
    community = profile.communities[0]
    communities.save_rules(
        session,
        leader.id,
        community.id,
        "1. 每天最多 3 条团购消息, 晚上 10 点后不发广告。\n"
        "2. 文明交流, 不发与小区无关的链接。\n"
        "3. 提货请带提货码, 当天未取请在群里说一声。",
    )
    members = [m.user_id for m, _ in communities.members(session, leader.id, community.id)]
    for user_id in members:
        communities.accept_rules(session, community.id, user_id, community.rules_version)
    noisy = next(uid for uid in members if uid != leader.id)
    restore = _at_offset(2)
    try:
        moderation.mute(
            session,
            actor_id=leader.id,
            operator=False,
            community_id=community.id,
            user_id=noisy,
            period="1h",
            reason="连续发了 5 条与团购无关的广告",
        )
        clock.set_offset(clock.offset() + timedelta(minutes=20))
        moderation.unmute(
            session, actor_id=leader.id, operator=False, community_id=community.id, user_id=noisy
        )
    finally:
        clock.set_offset(restore)


def _at_offset(days: float) -> timedelta:
    """Move the platform's clock ``days`` back (for waves that ran in the past);
    returns the offset to restore."""
    before = clock.offset()
    clock.set_offset(before - timedelta(days=days))
    return before


def _tonight() -> tuple[datetime, date]:
    """Tonight's 23:00 in the deployment's time zone (tomorrow's if it is nearly that late),
    and the delivery day after it."""
    now = clock.now()
    day = clock.local_date(now)
    cutoff = clock.local_midnight(day) + timedelta(hours=23)
    if cutoff <= now + timedelta(minutes=30):
        day += timedelta(days=1)
        cutoff = clock.local_midnight(day) + timedelta(hours=23)
    return cutoff, day + timedelta(days=1)


OWN_SHOP = "团长自营小铺"  # a leader's own goods (``Supplier.leader_id``)


def _item(
    sku_id: int,
    price: int,
    moq: int,
    *,
    tiers: list[tuple[int, int]] | None = None,
    stock: int = 300,
    limit: int = 5,
    title: str = "",
) -> pools.ItemInput:
    return pools.ItemInput(
        sku_id=sku_id,
        price=price,
        moq=moq,
        stock=stock,
        per_member_limit=limit,
        tiers=tiers or [],
        title=title,
    )


def _order(
    session: Session, user: User, listing_id: int, quantities: dict[int, int], remark: str = ""
) -> None:
    placed = pools.place_order(
        session, user_id=user.id, listing_id=listing_id, quantities=quantities, remark=remark
    )
    payments.sandbox_pay_now(session, placed.started.payment)


def load_communities(
    session: Session, *, operator_id: int, supplier_id: int, members: list[User]
) -> list[int]:
    """Leaders, pickup points, communities and neighbours, and three waves of the supplier
    (their orders placed and paid). Returns the waves' ids; :func:`finish_communities`
    then settles the past ones and takes them through delivery and pickup."""
    leaders: list[tuple[User, Any, Any, Any]] = []  # (user, leader, pickup point, community)
    for phone, name, point_name, address, community_name in LEADERS:
        user = accounts.create_user(session, phone=phone, password=PASSWORD, nickname=name)
        application = communities.apply(
            session,
            user.id,
            communities.PickupPointInput(
                name=point_name,
                address=address,
                latitude=LEADER_POINTS[len(leaders)][0],
                longitude=LEADER_POINTS[len(leaders)][1],
                opening_hours="08:00-21:00",
            ),
        )
        approval = communities.approve_application(session, application.id, operator_id=operator_id)
        community = communities.create_community(
            session,
            user.id,
            name=community_name,
            rules_text="每天最多 3 条团购消息; 晚上 10 点后不发广告。提货请带提货码。",
        )
        leaders.append((user, approval.leader, approval.pickup_point, community))
    sub, parent = SUB_LEADER
    # The sub-leader accepted an invitation a week ago (before the completed wave's sales);
    # the first leader has also invited the third, who has not answered yet.
    restore = _at_offset(7)
    try:
        invitation = communities.invite_sub_leader(
            session, leaders[parent][0].id, leaders[sub][1].id
        )
        communities.accept_invitation(session, leaders[sub][0].id, invitation.id)
    finally:
        clock.set_offset(restore)
    communities.invite_sub_leader(session, leaders[parent][0].id, leaders[PENDING_INVITEE][1].id)

    neighbours = []
    for index, (phone, name) in enumerate(NEIGHBOURS, start=len(members)):
        user = accounts.create_user(session, phone=phone, password=PASSWORD, nickname=name)
        _address_book(session, user, index)
        neighbours.append(user)
    people = members + neighbours
    # Each community has its neighbours; some people are in two.
    circles = [people[0:6], people[4:9], people[8:12]]
    for (_, _, _, community), circle in zip(leaders, circles, strict=True):
        for user in circle:
            communities.join_by_invite(
                session,
                community.invite_code,
                user.id,
                rules_version=communities.current_rules_version(community),
            )
    first_user, _, _, first_community = leaders[0]
    communities.set_admin(session, first_user.id, first_community.id, people[0].id, admin=True)

    def sku(
        title: str,
        name: str,
        price: int,
        image: str,
        terms: tuple[int, int],
        category: str,
        owner: int = 0,
    ) -> int:
        """A SKU with the supplier's terms for leaders' waves (floor price, max commission)."""
        product = catalog.create_product(
            session,
            supplier_id=owner or supplier_id,
            title=title,
            description="产地直发, 团长自提点取货。",
            image_url=f"/static/demo/{image}.svg",
        )
        catalog.set_product_category(
            session, product_id=product.id, category_id=_category(session, category)
        )
        floor, most = terms
        return catalog.create_sku(
            session,
            product_id=product.id,
            name=name,
            price=price,
            stock=5000,
            floor_price=floor,
            max_commission_bps=most,
        ).id

    apples = sku("烟台红富士苹果 3斤", "3斤装", 2590, "apples", (2190, 1500), "水果")
    eggs = sku("农家土鸡蛋 15枚", "15枚", 2290, "eggs", (1990, 1500), "肉禽蛋")
    pears = sku("砀山酥梨 5斤", "5斤装", 1990, "pears", (1690, 1200), "水果")
    greens = sku("本地小青菜 500g", "500g", 390, "greens", (350, 1000), "蔬菜")
    bread = sku("现烤全麦面包", "1个", 1290, "bread", (1090, 1200), "粮油")
    # The third leader's own goods: their terms bind other leaders, not the third.
    own_shop = catalog.create_supplier(
        session, name=OWN_SHOP, contact="社区团长自营", leader_id=leaders[2][1].id
    )
    sku("自家腌萝卜干 500g", "500g", 1590, "placeholder", (1290, 1000), "蔬菜", owner=own_shop.id)

    def listing(leader_index: int, wave_id: int) -> int:
        user, _, point, community = leaders[leader_index]
        return pools.adopt_wave(
            session,
            user_id=user.id,
            wave_id=wave_id,
            community_id=community.id,
            pickup_point_id=point.id,
        ).id

    # 1. Completed: a catalogue wave four days ago, at the sub-leader's and the third
    #    leader's communities (the sub-leader's sales earn their leader an override).
    restore = _at_offset(4)
    try:
        completed_cutoff, completed_delivery = _tonight()
        completed = pools.create_catalogue_wave(
            session,
            user_id=operator_id,
            supplier_id=supplier_id,
            data=pools.WaveInput(
                title=WAVE_COMPLETED,
                # That night's 23:00 (the next night's when loaded after about 22:30).
                cutoff_at=completed_cutoff,
                delivery_date=completed_delivery,
                commission_bps=1200,
                items=[
                    _item(bread, 1290, 5, tiers=[(8, 1190)], title="现烤全麦面包"),
                    _item(eggs, 2290, 3, title="农家土鸡蛋 15枚"),
                ],
            ),
        )
        bread_item, egg_item = (i.id for i in pools.items_of(session, completed.id))
        east, west = listing(1, completed.id), listing(2, completed.id)
        _order(session, people[4], east, {bread_item: 2, egg_item: 1}, "早上 9 点来拿")
        _order(session, people[5], east, {bread_item: 3})
        _order(session, people[6], east, {egg_item: 1})
        _order(session, people[8], west, {bread_item: 2, egg_item: 1})
        _order(session, people[9], west, {bread_item: 1})
    finally:
        clock.set_offset(restore)

    # 2. Arrived: the first leader's own wave two days ago, delivered today.
    restore = _at_offset(2)
    try:
        now = clock.now()
        day = clock.local_date(now)
        user, _, point, community = leaders[0]
        arrived, own = pools.publish_wave(
            session,
            user_id=user.id,
            community_id=community.id,
            pickup_point_id=point.id,
            data=pools.WaveInput(
                title=WAVE_ARRIVED,
                description="砀山酥梨现摘, 青菜当天早上采收。",
                cutoff_at=clock.local_midnight(day + timedelta(days=1)) + timedelta(hours=23),
                delivery_date=day + timedelta(days=2),
                commission_bps=1000,
                items=[
                    _item(pears, 1990, 4, title="砀山酥梨 5斤"),
                    _item(greens, 390, 5, tiers=[(8, 350)], title="本地小青菜 500g"),
                ],
            ),
        )
        pear_item, greens_item = (i.id for i in pools.items_of(session, arrived.id))
        _order(session, people[0], own.id, {pear_item: 1, greens_item: 3}, "放门卫室, 谢谢")
        _order(session, people[1], own.id, {pear_item: 2, greens_item: 2})
        _order(session, people[2], own.id, {greens_item: 3})
        _order(session, people[3], own.id, {pear_item: 1})
    finally:
        clock.set_offset(restore)

    # 3. Open: a catalogue wave closing tonight, adopted by all three leaders (帮卖).
    cutoff, delivery = _tonight()
    wave = pools.create_catalogue_wave(
        session,
        user_id=operator_id,
        supplier_id=supplier_id,
        data=pools.WaveInput(
            title=WAVE_OPEN,
            description="果园当天采摘, 明天下午送到各自提点。",
            cutoff_at=cutoff,
            delivery_date=delivery,
            commission_bps=1200,
            items=[
                _item(apples, 2590, 20, tiers=[(30, 2390), (60, 2190)], title="烟台红富士 3斤"),
                _item(eggs, 2290, 10, tiers=[(20, 2090)], limit=3, title="农家土鸡蛋 15枚"),
            ],
        ),
    )
    apple_item, egg_item = (i.id for i in pools.items_of(session, wave.id))
    chains = [listing(i, wave.id) for i in range(len(leaders))]
    _order(session, people[0], chains[0], {apple_item: 2, egg_item: 1}, "晚上 7 点后来拿")
    _order(session, people[1], chains[0], {apple_item: 1})
    _order(session, people[3], chains[0], {egg_item: 2})
    _order(session, people[5], chains[1], {apple_item: 3, egg_item: 1})
    _order(session, people[6], chains[1], {apple_item: 2})
    _order(session, people[9], chains[2], {apple_item: 1, egg_item: 2}, "要大个的")
    _order(session, people[10], chains[2], {apple_item: 2})
    _demo_event(
        session, leader_id=leaders[2][0].id, community_id=leaders[2][3].id, people=people[8:12]
    )
    session.flush()
    return [wave.id, arrived.id, completed.id]


EVENT_TITLE = "周六草莓品鉴会"
EVENT_FEE = 990  # fen: the tasting's plate, paid through the normal payment path


def _demo_event(session: Session, *, leader_id: int, community_id: int, people: list[User]) -> None:
    """A tasting in the third community (whose leader sells their own goods: the fee goes
    to that record) next Saturday afternoon (3 seats, ¥9.90): two neighbours signed up and
    paid (each with a check-in code), one seat held for its payment, one neighbour waiting."""
    from tuangou.events import service as events

    day = clock.local_date(clock.now()) + timedelta(days=1)
    while day.weekday() != 5:  # the next Saturday (tomorrow at the earliest)
        day += timedelta(days=1)
    start = clock.local_midnight(day) + timedelta(hours=15)
    leader = communities.get_leader_by_user(session, leader_id)
    point = communities.pickup_points_of(session, leader.id)[0]
    event = events.create_event(
        session,
        user_id=leader_id,
        community_id=community_id,
        data=events.EventInput(
            title=EVENT_TITLE,
            description="丹东 99 草莓刚到, 先尝后买; 小朋友可以一起来。每位 ¥9.90 含一份果盘。",
            place="",
            pickup_point_id=point.id,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            seats=3,
            fee=EVENT_FEE,
            hold_minutes=60 * 24,
        ),
    )
    events.publish(session, user_id=leader_id, event_id=event.id)
    for n, user in enumerate(people):
        done = events.sign_up(session, user_id=user.id, event_id=event.id)
        if done.started is not None and n < 2:
            payments.sandbox_pay_now(session, done.started.payment)


def _demo_waves(session: Session) -> dict[str, int]:
    supplier = next(
        (s for s in catalog.list_suppliers(session) if s.name == "阳光果园合作社"), None
    )
    if supplier is None:
        return {}
    return {w.title: w.id for w in pools.waves_of_supplier(session, supplier.id)}


def finish_communities() -> None:
    """Settle the demo's past waves, and take them through delivery: the arrived one has
    its pickup codes issued, the completed one is picked up. Each step checks what is
    already done, so that loading again (or after an interruption) adds nothing."""
    from tuangou.fulfilment import service as fulfilment

    found = run_in_transaction(_demo_waves)
    for title in (WAVE_COMPLETED, WAVE_ARRIVED):
        wave_id = found.get(title)
        if wave_id is None:
            continue
        pools.settle_wave(wave_id)

        def deliver(session: Session, wave_id: int = wave_id) -> None:
            wave = pools.get_wave(session, wave_id)
            if wave.status != pools.WaveStatus.SETTLED:
                return
            shipments = fulfilment.shipments_of(session, wave_id)
            points = fulfilment.points_of_wave(session, wave_id)
            if any(p not in shipments or shipments[p].shipped_at is None for p in points):
                supplier = accounts.list_users(session, role="supplier", limit=1000)
                staff = next(u for u in supplier if u.supplier_id == wave.supplier_id)
                fulfilment.ship(
                    session, wave_id=wave_id, supplier_id=wave.supplier_id, user_id=staff.id
                )
                shipments = fulfilment.shipments_of(session, wave_id)
            for listing in pools.listings_of_wave(session, wave_id):
                if shipments[listing.pickup_point_id].received_at is None:
                    leader = communities.get_leader(session, listing.leader_id)
                    fulfilment.receive(
                        session,
                        user_id=leader.user_id,
                        wave_id=wave_id,
                        pickup_point_id=listing.pickup_point_id,
                    )

        run_in_transaction(deliver)
        if title == WAVE_ARRIVED:
            run_in_transaction(partial(_operator_refund, wave_id=wave_id))
        if title != WAVE_COMPLETED:
            continue

        def collect(session: Session, wave_id: int = wave_id) -> None:
            leaders = {
                listing.pickup_point_id: communities.get_leader(session, listing.leader_id)
                for listing in pools.listings_of_wave(session, wave_id)
            }
            for info, _order, _lines in pools.wave_orders(session, wave_id):
                pickup = fulfilment.pickup_of_order(session, info.order_id)
                if pickup is None or pickup.status != fulfilment.PickupStatus.WAITING:
                    continue
                fulfilment.verify(
                    session,
                    user_id=leaders[pickup.pickup_point_id].user_id,
                    pickup_point_id=pickup.pickup_point_id,
                    code=pickup.code,
                    wave_id=wave_id,
                )

        run_in_transaction(collect)


# ---------------------------------------------------------------- reviews (晒单)

# Reviews of the completed wave by its buyers: (phone, item, stars, text, photo, reply by the
# supplier). Mixed, as real ones are; 刘婷 (13800000005) has not reviewed hers yet.
DEMO_REVIEWS = [
    ("13800000006", "现烤全麦面包", 5, "面包很香, 放到第二天还是软的, 孩子当早餐吃。", True, ""),
    (
        "13800000011",
        "农家土鸡蛋",
        4,
        "蛋黄颜色很正, 就是有一个磕破了。",
        False,
        "抱歉有破损, 下一批我们加厚包装。",
    ),
    ("13800000013", "现烤全麦面包", 3, "味道一般, 有点干, 价格还算实惠。", False, ""),
    ("13800000014", "现烤全麦面包", 5, "", False, ""),
]


def _demo_photo() -> bytes:
    """A small JPEG of a loaf's colours (generated: the demo ships no photos)."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (240, 226, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((50, 70, 270, 190), fill=(176, 112, 52))
    draw.ellipse((80, 90, 240, 150), fill=(201, 142, 80))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _demo_reviews(session: Session) -> None:
    """Reviews by buyers of the completed wave (only they may), one with a photo, one
    answered by the supplier. Nothing twice: a line reviewed already is skipped."""
    from tuangou.photos import service as photos
    from tuangou.reviews import service as reviews

    wave_id = _demo_waves(session).get(WAVE_COMPLETED)
    if wave_id is None:
        return
    staff = session.scalar(select(User).where(User.phone == SUPPLIER_PHONE))
    by_phone = {
        u.phone: u.id
        for u in session.scalars(select(User).where(User.phone.in_([r[0] for r in DEMO_REVIEWS])))
    }
    orders = [order for _info, order, _lines in pools.wave_orders(session, wave_id)]
    for phone, item, stars, text, photo, reply in DEMO_REVIEWS:
        order = next((o for o in orders if o.user_id == by_phone.get(phone)), None)
        if order is None or not reviews.completed(order):
            continue
        done = reviews.of_order(session, order.id)
        line = next((ln for ln in reviews.lines_of(session, order) if item in ln.title), None)
        if line is None or line.line_id in done:
            continue
        ids = []
        if photo:
            ids = [
                photos.upload(
                    session, user_id=order.user_id, content_type="image/jpeg", data=_demo_photo()
                ).id
            ]
        review = reviews.write(
            session,
            user_id=order.user_id,
            order_id=order.id,
            line_id=line.line_id,
            rating=stars,
            text=text,
            photo_ids=ids,
        )
        if reply and staff is not None:
            reviews.reply(
                session,
                review_id=review.id,
                user_id=staff.id,
                role=staff.role,
                supplier_id=staff.supplier_id,
                text=reply,
            )


REFUND_NOTE = "供应商反馈有一盒磕碰, 先退您 2 元, 给您添麻烦了。"


def _operator_refund(session: Session, wave_id: int) -> None:
    """An operator's partial refund of 陈大明's pears, with a note he reads (once)."""
    from tuangou.orders import service as orders

    member = session.scalar(select(User.id).where(User.phone == MEMBERS[3][0]))
    for _info, order, _lines in pools.wave_orders(session, wave_id):
        if order.user_id != member:
            continue
        if any(r.reason == "manual" for r in orders.refunds_of(session, order.id)):
            return
        if order.status in orders.MANUALLY_REFUNDABLE and order.paid_amount > 200:
            orders.manual_refund(session, order_id=order.id, amount=200, note=REFUND_NOTE)
        return


# ---------------------------------------------------------------- posts (社群动态)

POST_PINNED = "【群公告】每周二、五到货, 提货时间 16:00-20:00, 提货请出示提货码。"
POST_DEAL = "今晚 11 点截单: 果园当天采摘的红富士和土鸡蛋, 明天下午到自提点。"


WISHES = (
    "有没有人想买车厘子? 想团一箱过年吃。",
    "求车厘子 +1, 要大果的。",
    "能不能团点五常大米, 家里快吃完了。",
)


def _community_posts(session: Session) -> None:
    """A community looks alive, honestly: its leader's notice (pinned) and a deal post linking
    the open wave (today's deal), experience posts by members who picked up the completed
    wave's orders there, with replies and likes. Nothing when it already has posts."""
    from tuangou.posts import service as posts

    waves = _demo_waves(session)
    completed = waves.get(WAVE_COMPLETED)
    if completed is None or not pools.listings_of_wave(session, completed):
        return
    # The community where the completed wave was picked up: its buyers are verified.
    first = pools.listings_of_wave(session, completed)[0]
    community = communities.get_community(session, first.community_id)
    leader_user = accounts.get_user(
        session, communities.get_leader(session, community.leader_id).user_id
    )
    operator = posts.Viewer(None, operator=True)
    if posts.community_feed(session, community.id, operator).items:
        return
    listings = {
        wave_id: next(
            (
                x.id
                for x in pools.listings_of_wave(session, wave_id)
                if x.community_id == community.id
            ),
            None,
        )
        for wave_id in waves.values()
    }
    buyers = list(
        dict.fromkeys(
            order.user_id
            for info, order, _lines in pools.wave_orders(session, completed)
            if info.listing_id == first.id and order.status == "completed"
        )
    )
    others = [
        m.user_id
        for m, _ in communities.members(session, leader_user.id, community.id)
        if m.user_id not in buyers and m.user_id != leader_user.id
    ]
    said = [
        "周末的全麦面包很新鲜, 早上烤的, 孩子当早餐吃了两个。下次还跟。",
        "鸡蛋个头不大但蛋黄很黄, 煮出来很香。提货很方便, 团长人很好。",
    ]

    def at(hours: float, fn: Any) -> Any:
        restore = _at_offset(hours / 24)
        try:
            return fn()
        finally:
            clock.set_offset(restore)

    notice = at(
        30,
        lambda: posts.create_post(
            session, user_id=leader_user.id, community_id=community.id, body=POST_PINNED
        ),
    )
    experiences = [
        at(
            20 - 3 * n,
            lambda uid=uid, text=text: posts.create_post(
                session, user_id=uid, community_id=community.id, body=text
            ),
        )
        for n, (uid, text) in enumerate(zip(buyers, said, strict=False))
    ]
    deal = None
    open_listing = listings.get(waves.get(WAVE_OPEN, -1))
    if open_listing is not None:
        deal = at(
            2,
            lambda: posts.create_post(
                session,
                user_id=leader_user.id,
                community_id=community.id,
                body=POST_DEAL,
                listing_id=open_listing,
            ),
        )
    for n, post in enumerate(experiences):
        for m, uid in enumerate(others[n : n + 2]):
            at(
                15 - 3 * n - m,
                lambda uid=uid, post=post: posts.add_reply(
                    session, user_id=uid, post_id=post.id, body="看着不错, 下次我也跟一单。"
                ),
            )
        at(
            14 - 3 * n,
            lambda post=post: posts.add_reply(
                session, user_id=post.author_id, post_id=post.id, body="真的好吃, 推荐!"
            ),
        )
        for uid in others[: 3 + n]:
            posts.like(session, uid, post.id)
    # What neighbours ask for (需求洞察 reads it): two want cherries, one rice.
    if experiences:
        for hours, uid, text in zip((1.5, 1.0, 0.5), [*others, *buyers], WISHES, strict=False):
            at(
                hours,
                lambda uid=uid, text=text: posts.add_reply(
                    session, user_id=uid, post_id=experiences[0].id, body=text
                ),
            )
    moderator = posts.Viewer(leader_user.id)
    posts.pin(session, moderator, notice.id, pinned=True)
    if deal is not None:
        posts.mark_day_deal(session, moderator, deal.id)


# ---------------------------------------------------------------- co-creation (共创)

PROPOSAL_CONVERTED = "宁夏滩羊肉 · 邻居共创"


def _cocreate(session: Session) -> None:
    """Proposals in the second leader's community (阳光花园), whose neighbours picked up the
    weekend bread: one converted into a pre-sale wave that two of its voters have ordered
    from during their early window, one ready to convert, one still collecting votes. The
    neighbours with a completed order may vote. Loading again adds nothing."""
    if cocreate.any_proposal(session):
        return
    phones = [phone for phone, _ in MEMBERS + NEIGHBOURS]
    people = {
        u.phone: u
        for u in session.scalars(select(User).where(User.phone.in_([*phones, LEADERS[1][0]])))
    }
    if LEADERS[1][0] not in people:
        return
    leader = people[LEADERS[1][0]]
    person = [people[p] for p in phones]
    community = next(
        c for c in communities.communities_of(session, leader.id) if c.name == LEADERS[1][4]
    )
    cocreate.set_settings(
        session, user_id=leader.id, community_id=community.id, votes=3, units=10, early_hours=24
    )

    def propose(author: User, title: str, description: str, price: int, hint: str = "") -> int:
        return cocreate.propose(
            session,
            user_id=author.id,
            community_id=community.id,
            title=title,
            description=description,
            target_price=price,
            supplier_hint=hint,
        ).id

    def votes(proposal_id: int, pledges: list[tuple[User, int]]) -> None:
        for user, pledge in pledges:
            cocreate.vote(session, user_id=user.id, proposal_id=proposal_id, pledge=pledge)

    lamb = propose(
        person[5],
        PROPOSAL_CONVERTED,
        "盐池滩羊, 冷链到自提点, 一份 2 斤, 炖汤涮锅都好。",
        8800,
        "宁夏盐池的牧场, 去年邻居买过",
    )
    votes(lamb, [(person[4], 2), (person[5], 3), (person[6], 5), (person[8], 2)])
    berries = propose(person[4], "云南高山蓝莓", "12 盒一箱, 想和邻居分着买。", 3990)
    votes(berries, [(person[4], 3), (person[6], 4), (person[8], 2)])
    propose(person[7], "潮汕手打牛肉丸", "正宗潮汕口味, 最好能冷链送到。", 4590)

    farm = next(s for s in catalog.list_suppliers(session) if s.name == "阳光果园合作社")
    product = catalog.create_product(
        session,
        supplier_id=farm.id,
        title="宁夏盐池滩羊肉 2斤",
        description="冷链直发, 到自提点冷柜保存。",
        image_url="/static/demo/placeholder.svg",
    )
    sku = catalog.create_sku(
        session,
        product_id=product.id,
        name="2斤",
        price=8800,
        stock=500,
        floor_price=7600,
        max_commission_bps=1200,
    )
    cutoff, delivery = _tonight()
    point = communities.pickup_points_of(session, community.leader_id, active_only=True)[0]
    proposal = cocreate.convert(
        session,
        user_id=leader.id,
        proposal_id=lamb,
        data=cocreate.ConvertInput(
            sku_id=sku.id,
            price=8200,
            moq=12,
            stock=60,
            cutoff_at=cutoff,
            delivery_date=delivery,
            pickup_point_id=point.id,
        ),
    )
    assert proposal.listing_id is not None and proposal.wave_id is not None
    (item,) = pools.items_of(session, proposal.wave_id)
    _order(session, person[6], proposal.listing_id, {item.id: 4}, "冷柜放一下, 谢谢")
    _order(session, person[8], proposal.listing_id, {item.id: 2})
    _link_supplier(session, community.id, farm.id)


def _link_supplier(session: Session, community_id: int, farm_id: int) -> None:
    """The operator links the farm to 阳光花园: its staff (13900000000) finds the ready
    blueberry proposal under 共创需求, with a blueberry SKU of its own to convert it into."""
    operator = session.scalar(select(User).where(User.phone == OPERATOR_PHONE))
    if operator is None:
        return
    cocreate.link_supplier(
        session, operator_id=operator.id, community_id=community_id, supplier_id=farm_id
    )
    product = catalog.create_product(
        session,
        supplier_id=farm_id,
        title="云南高山蓝莓 12盒",
        description="产地直发, 一箱 12 盒。",
        image_url="/static/demo/placeholder.svg",
    )
    catalog.create_sku(
        session, product_id=product.id, name="1箱", price=3990, stock=300, floor_price=3500
    )


def _leaderboard(session: Session) -> None:
    """The most helpful neighbours of 幸福里邻里团 this week and last month: likes given to
    the demo's verified reviews (through the reviews domain: the worker brings them to the
    board), and helps, events and an invite that converted, recorded on the board. The
    leader may award last month's top once it is final. Loading again adds nothing."""
    from tuangou.leaderboards import service as boards
    from tuangou.reviews import service as reviews

    leader = session.scalar(select(User).where(User.phone == LEADERS[0][0]))
    if leader is None:
        return
    community = next(
        (c for c in communities.communities_of(session, leader.id) if c.name == LEADERS[0][4]),
        None,
    )
    if community is None or boards.has_actions(session, community.id):
        return
    people = [
        m.user_id
        for m, _ in communities.members(session, leader.id, community.id)
        if m.user_id != leader.id
    ]
    if len(people) < 3:
        return
    now = clock.now()
    today = clock.local_date(now)
    week = clock.local_midnight(today - timedelta(days=today.weekday()))
    last_month = clock.local_midnight(boards.last_month()) + timedelta(days=3, hours=10)
    kinds = boards.ActionKind
    plan = [  # (member, kind, when)
        (0, kinds.INVITE, last_month),
        (0, kinds.HELP, last_month + timedelta(days=2)),
        (1, kinds.EVENT, last_month + timedelta(days=5)),
        (1, kinds.HELP, last_month + timedelta(days=6)),
        (2, kinds.EVENT, last_month + timedelta(days=8)),
        (1, kinds.EVENT, week + timedelta(hours=10)),
        (2, kinds.HELP, week + timedelta(hours=11)),
        (2, kinds.HELP, week + timedelta(hours=12)),
        (0, kinds.REVIEW_LIKED, week + timedelta(hours=13)),
    ]
    for i, (who, kind, at) in enumerate(plan):
        if at > now:
            at = now
        boards.record(
            session,
            community_ids=[community.id],
            user_id=people[who % len(people)],
            kind=kind,
            ref=f"demo:{i}",
            at=at,
            recorded_at=at,  # history, as if it had been recorded as it happened
        )
    # Neighbours find each other's verified reviews of the wave helpful.
    wave_id = _demo_waves(session).get(WAVE_COMPLETED)
    if wave_id is not None:
        found = reviews.page(session, reviews.Scope("wave", wave_id), limit=3).reviews
        for review in found:
            for liker in people[:3]:
                if liker != review.user_id:
                    reviews.like(session, user_id=liker, review_id=review.id)


def _notify_prefs(session: Session) -> None:
    """Message channels: 李阿姨 also hears of her pickups by text message (at night too) and
    WeChat, and of shipments by text message. The senders are the log ones: nothing leaves
    the machine."""
    from tuangou.notifications import service as notifications

    auntie = session.scalar(select(User.id).where(User.phone == MEMBERS[0][0]))
    if auntie is None or notifications.get_preferences(session, auntie).routes:
        return  # no such member, or her choices are made already (the demo loads once)
    notifications.set_preferences(
        session,
        auntie,
        routes={"pickup.arrived": ["sms", "wechat"], "order.shipped": ["sms"]},
        quiet_start="22:00",
        quiet_end="08:00",
        pickup_at_night=True,
    )


# ---------------------------------------------------------------- supplier quality (品控)


def _demo_quality() -> None:
    """The farm's quality record and delivery tracking: a catalogue wave adopted by the second
    leader two days ago, settled and shipped by 顺丰速运, now in transit (运输中) to the
    pickup point; and an after-sale case (one cracked egg) on the completed wave, open for the
    leader to decide. Each step checks what is done already, so loading again adds nothing."""
    from tuangou.aftersales import service as aftersales
    from tuangou.fulfilment import service as fulfilment

    def publish(session: Session) -> int | None:
        found = _demo_waves(session)
        if WAVE_IN_TRANSIT in found:
            return found[WAVE_IN_TRANSIT]
        farm = next(
            (s for s in catalog.list_suppliers(session) if s.name == "阳光果园合作社"), None
        )
        operator = session.scalar(select(User).where(User.phone == OPERATOR_PHONE))
        zhou = session.scalar(select(User).where(User.phone == NEIGHBOURS[1][0]))
        leader_user = session.scalar(select(User).where(User.phone == LEADERS[1][0]))
        if farm is None or operator is None or zhou is None or leader_user is None:
            return None
        sku = next(
            k
            for product in catalog.list_products(session, supplier_id=farm.id)
            for k in catalog.skus_of(session, product.id)
            if "苹果" in product.title
        )
        leader = communities.get_leader_by_user(session, leader_user.id)
        community = communities.communities_led_by(session, leader.id)[0]
        point = communities.pickup_points_of(session, leader.id)[0]
        delivery = clock.local_date(clock.now()) + timedelta(days=1)
        restore = _at_offset(2)
        try:
            cutoff, _ = _tonight()
            wave = pools.create_catalogue_wave(
                session,
                user_id=operator.id,
                supplier_id=farm.id,
                data=pools.WaveInput(
                    title=WAVE_IN_TRANSIT,
                    description="果园装车直发, 顺丰冷链送到自提点。",
                    cutoff_at=cutoff,
                    delivery_date=delivery,
                    commission_bps=1000,
                    items=[_item(sku.id, 2490, 1, stock=20, title="烟台红富士 3斤")],
                ),
            )
            (item,) = pools.items_of(session, wave.id)
            listing = pools.adopt_wave(
                session,
                user_id=leader_user.id,
                wave_id=wave.id,
                community_id=community.id,
                pickup_point_id=point.id,
            )
            _order(session, zhou, listing.id, {item.id: 2}, "放快递柜旁")
        finally:
            clock.set_offset(restore)
        return int(wave.id)

    wave_id = run_in_transaction(publish)
    if wave_id is None:
        return
    pools.settle_wave(wave_id)

    def ship(session: Session) -> None:
        wave = pools.get_wave(session, wave_id)
        staff = session.scalar(select(User).where(User.phone == SUPPLIER_PHONE))
        if wave.status != pools.WaveStatus.SETTLED or staff is None:
            return
        shipments = fulfilment.shipments_of(session, wave_id)
        if not shipments or any(s.shipped_at is None for s in shipments.values()):
            fulfilment.ship(
                session,
                wave_id=wave_id,
                supplier_id=wave.supplier_id,
                user_id=staff.id,
                carrier="顺丰速运",
                tracking_no="SF1402785531",
            )
        for point_id, shipment in fulfilment.shipments_of(session, wave_id).items():
            if shipment.tracking_status == fulfilment.TrackingStatus.SHIPPED:
                fulfilment.move_tracking(
                    session,
                    wave_id=wave_id,
                    pickup_point_id=point_id,
                    supplier_id=wave.supplier_id,
                    user_id=staff.id,
                    to=fulfilment.TrackingStatus.IN_TRANSIT,
                    note="杭州转运中心",
                )

    run_in_transaction(ship)

    def case(session: Session) -> None:
        buyer = session.scalar(select(User).where(User.phone == NEIGHBOURS[2][0]))  # 吴姐
        wave_id = _demo_waves(session).get(WAVE_COMPLETED)
        if buyer is None or wave_id is None or aftersales.cases_of_member(session, buyer.id):
            return
        eggs = next((i for i in pools.items_of(session, wave_id) if "鸡蛋" in i.title), None)
        order = next(
            (o for info, o, _ in pools.wave_orders(session, wave_id) if o.user_id == buyer.id),
            None,
        )
        if eggs is None or order is None:
            return
        photo = aftersales.upload_photo(
            session, user_id=buyer.id, content_type="image/jpeg", data=_demo_photo()
        )
        aftersales.report(
            session,
            user_id=buyer.id,
            order_id=order.id,
            kind="damaged",
            description="收到时有 1 枚鸡蛋壳破裂, 蛋液粘在盒子上。",
            lines={eggs.id: 1},
            photo_ids=[photo.id],
        )

    run_in_transaction(case)
