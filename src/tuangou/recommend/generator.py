"""A generator of realistic group-buying interaction data, for the demo and the evaluation.

A year of purchases in a city's neighbourhoods: communities (小区) each with its own tastes
over the product categories and a few local favourites; members who belong to one community,
with tastes of their own (partly their community's, partly copied from the friend who invited
them) and a latent taste over products that only their own history reveals; products with a
base popularity (a few sell to everyone) and, for produce, a season (荔枝 in summer, 大闸蟹 in
autumn, 草莓 in winter). Each member buys a few to a few dozen times over the year.

Deterministic per seed (numpy's PCG64), bounded in size (``MAX_MEMBERS``, ``MAX_ITEMS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from tuangou.recommend.rules import Interaction

MAX_MEMBERS = 20_000
MAX_ITEMS = 2_000
START = datetime(2025, 1, 1)

# Categories, with example products and the month their season peaks (0: all year).
CATEGORIES: list[tuple[str, list[tuple[str, int]]]] = [
    ("水果", [("荔枝", 6), ("西瓜", 7), ("草莓", 1), ("车厘子", 12), ("苹果", 10), ("柑橘", 11)]),
    ("蔬菜", [("青菜", 0), ("番茄", 0), ("春笋", 3), ("莲藕", 9), ("土豆", 0), ("菠菜", 2)]),
    ("肉禽蛋", [("土鸡蛋", 0), ("五花肉", 0), ("牛腩", 0), ("羊肉", 12), ("鸡腿", 0)]),
    ("水产", [("大闸蟹", 10), ("基围虾", 0), ("鲈鱼", 0), ("小龙虾", 6), ("带鱼", 0)]),
    ("粮油", [("大米", 0), ("面粉", 0), ("菜籽油", 0), ("杂粮", 0)]),
    ("乳品", [("鲜牛奶", 0), ("酸奶", 0), ("奶酪", 0)]),
    ("烘焙", [("吐司", 0), ("月饼", 9), ("青团", 4), ("粽子", 6)]),
    ("零食", [("坚果", 0), ("饼干", 0), ("果干", 0)]),
    ("日用", [("纸巾", 0), ("洗衣液", 0), ("垃圾袋", 0)]),
    ("母婴", [("纸尿裤", 0), ("婴儿米粉", 0)]),
]
BRANDS = ["农家", "产地直发", "精选", "有机", "老字号", "家庭装", "小包装", "特级"]


@dataclass(frozen=True)
class Item:
    id: int
    title: str
    category: int
    season: int  # 1..12, 0 for all year


@dataclass(frozen=True)
class Member:
    id: int
    community: int
    pickup_point: int
    inviter: int | None


@dataclass(frozen=True)
class World:
    seed: int
    items: list[Item]
    members: list[Member]
    communities: int
    interactions: list[Interaction]  # in time order


def _plus_one(index: int | None) -> int | None:
    return None if index is None else index + 1


def bounded(members: int, items: int) -> tuple[int, int]:
    """The sizes a world is generated at: at least 10 of each, at most the maximums."""
    return max(10, min(members, MAX_MEMBERS)), max(10, min(items, MAX_ITEMS))


def generate(
    *,
    seed: int = 7,
    members: int = 2_000,
    items: int = 300,
    communities: int = 25,
    factors: int = 8,
    mean_purchases: float = 14.0,
) -> World:
    """A world of members, products and a year of their purchases."""
    members, items = bounded(members, items)
    communities = max(1, min(communities, members // 5))
    rng = np.random.default_rng(seed)
    n_cat = len(CATEGORIES)

    # Products: a category, a season, a base popularity (heavy-tailed), a latent taste.
    cat_of = rng.integers(0, n_cat, size=items)
    catalogue: list[Item] = []
    season = np.zeros(items, dtype=np.int64)
    for i in range(items):
        _, kinds = CATEGORIES[int(cat_of[i])]
        kind, peak = kinds[int(rng.integers(0, len(kinds)))]
        brand = BRANDS[int(rng.integers(0, len(BRANDS)))]
        season[i] = peak
        catalogue.append(Item(i + 1, f"{brand}{kind} #{i + 1}", int(cat_of[i]), peak))
    popularity = rng.normal(0.0, 0.8, size=items)
    item_taste = rng.normal(0.0, 1.0, size=(items, factors))

    # Communities: tastes over categories, a few local favourites, two pickup points each.
    comm_cat = rng.normal(0.0, 1.0, size=(communities, n_cat))
    comm_fav = np.zeros((communities, items))
    for c in range(communities):
        favourites = rng.choice(items, size=max(1, items // 30), replace=False)
        comm_fav[c, favourites] = 1.2

    # Members: a community, maybe an inviter in it (friends share tastes), a latent taste.
    community_of = rng.integers(0, communities, size=members)
    member_taste = rng.normal(0.0, 1.0, size=(members, factors))
    member_cat = 0.6 * comm_cat[community_of] + rng.normal(0.0, 0.6, size=(members, n_cat))
    inviter: list[int | None] = [None] * members
    by_community: dict[int, list[int]] = {}
    for m in range(members):
        c = int(community_of[m])
        earlier = by_community.setdefault(c, [])
        if earlier and rng.random() < 0.4:
            friend = earlier[int(rng.integers(0, len(earlier)))]
            inviter[m] = friend
            member_taste[m] = 0.5 * member_taste[m] + 0.5 * member_taste[friend]
        earlier.append(m)
    people = [
        Member(
            m + 1,
            int(community_of[m]) + 1,
            int(community_of[m]) * 2 + 1 + int(rng.integers(0, 2)),
            _plus_one(inviter[m]),
        )
        for m in range(members)
    ]

    # Purchases: how many per member (heavy-tailed), when (over the year), what (a softmax
    # over popularity, season, the community's and the member's tastes).
    activity = rng.lognormal(np.log(mean_purchases) - 0.3, 0.7, size=members)
    counts = np.clip(rng.poisson(activity), 1, 200)
    month_of_day = np.array([(START + timedelta(days=d)).month for d in range(365)])
    in_season = np.zeros((12, items))
    for month in range(1, 13):
        gap = np.minimum(np.abs(season - month), 12 - np.abs(season - month))
        in_season[month - 1] = np.where(season == 0, 0.0, np.where(gap <= 1, 1.5, -2.0))
    found: list[Interaction] = []
    for m in range(members):
        base = (
            popularity
            + 0.8 * member_cat[m][cat_of]
            + comm_fav[int(community_of[m])]
            + 0.9 * (item_taste @ member_taste[m])
        )
        days = np.sort(rng.integers(0, 365, size=int(counts[m])))
        seconds = rng.integers(8 * 3600, 22 * 3600, size=days.size)
        for day, sec in zip(days, seconds, strict=True):
            logits = base + in_season[month_of_day[day] - 1]
            p = np.exp(logits - logits.max())
            p /= p.sum()
            item = int(rng.choice(items, p=p))
            at = START + timedelta(days=int(day), seconds=int(sec))
            found.append(Interaction(m + 1, item + 1, at))
    found.sort(key=lambda i: (i.at, i.member, i.item))
    return World(seed, catalogue, people, communities, found)
