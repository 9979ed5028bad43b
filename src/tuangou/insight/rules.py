"""Demand insight (需求洞察): product wishes read out of what a community writes.

Pure: text in, phrases out. Chinese has no spaces, so the text is segmented into words with
part-of-speech tags by jieba, with a small dictionary of the goods group buys sell (jieba's own
dictionary splits 阳光玫瑰 or 土鸡蛋 and tags some fruit as names or places).

Two kinds of evidence:

* **A wish**: a trigger phrase (想买, 求, 有没有, 能不能团 …) followed by a noun phrase: the
  nouns after it up to the end of the clause, skipping counts and measure words (一箱, 点, 个)
  and dropping a modifier that ends in 的 (新鲜的大闸蟹 → 大闸蟹).
* **A mention**: any noun phrase (adjacent nouns joined, 赣南 + 脐橙 → 赣南脐橙) of two
  characters or more that is not one of the words every post uses (邻居, 团长, 小区 …).

A wish counts the members who asked for it; a phrase members only mention needs two
different authors in the week to count at all. The score is ``3 × askers + texts mentioning
it``; the ranking is by score, then askers, then the phrase.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import jieba
import jieba.posseg as pseg

WISH_WEIGHT = 3
MIN_MENTION_AUTHORS = 2  # a phrase only mentioned counts once two members wrote it
MAX_PHRASE_CHARS = 12
TOP_N = 20
EVIDENCE_PER_WISH = 5

# Longest first, so 有没有人想买 wins over 有没有 and 想买. 求 alone only when it is not the
# end of another word (要求, 请求, 需求, 追求).
TRIGGERS = (
    "有没有人想买",
    "有没有人要",
    "能不能来点",
    "什么时候有",
    "什么时候上",
    "希望能团",
    "能不能团",
    "可不可以团",
    "有没有",
    "想买",
    "想要",
    "想吃",
    "想喝",
    "求购",
    "求团",
    "求推荐",
    "希望有",
    "可以团",
    "蹲一个",
    "再来点",
    "再团",
    "来点",
)
_TRIGGER = re.compile(
    "(?:" + "|".join(re.escape(t) for t in TRIGGERS) + r"|(?<![要请需追渴央])求(?!助|职))"
)
# A clause ends at punctuation, a space or a line break.
_CLAUSE_END = re.compile(r"[，。！？、；：,.!?;:\s~～（）()【】\[\]“”\"']")
_CJK = re.compile(r"[\u4e00-\u9fff]")

# Nouns and the like: jieba's tags n (noun), nr (name), ns (place), nt (organisation), nz
# (other proper noun), ng (noun morpheme), nrt, nrfg and vn (verbal noun).
_NOUNISH = ("n", "vn")
# Counts, measure words and pronouns that may stand between a trigger and the goods.
_SKIPPABLE = ("m", "q", "mq", "r", "d", "p", "c", "y", "e", "o", "f")

# Words every post of a neighbourhood uses: never a product.
STOP_WORDS = frozenset(
    {
        "人",
        "大家",
        "东西",
        "团长",
        "小区",
        "邻居",
        "时候",
        "朋友",
        "宝妈",
        "孩子",
        "小孩",
        "家里",
        "上次",
        "这次",
        "下次",
        "团",
        "群",
        "链接",
        "价格",
        "质量",
        "味道",
        "口感",
        "问题",
        "事情",
        "地方",
        "时间",
        "今天",
        "明天",
        "昨天",
        "周末",
        "早上",
        "晚上",
        "老人",
        "家人",
        "姐妹",
        "亲们",
        "快递",
        "自提点",
        "提货",
        "群里",
        "一下",
        "有人",
        "新鲜",
        "便宜",
        "好吃",
        "物流",
        "售后",
        "退款",
        "订单",
        "活动",
        "推荐",
        "东东",
        "点",
        "批",
        "箱",
        "斤",
        "份",
        "求团",
        "团点",
        "拼单",
        "团购",
        "接龙",
        "跟团",
    }
)

# The goods group buys sell, as single words (jieba splits or mis-tags these), tagged as nouns.
GOODS_WORDS = (
    "阳光玫瑰",
    "车厘子",
    "土鸡蛋",
    "散养鸡蛋",
    "五常大米",
    "大米",
    "抽纸",
    "卷纸",
    "纸巾",
    "洗衣液",
    "脐橙",
    "赣南脐橙",
    "沃柑",
    "砂糖橘",
    "丑橘",
    "耙耙柑",
    "猕猴桃",
    "火龙果",
    "榴莲",
    "芒果",
    "蓝莓",
    "草莓",
    "樱桃",
    "荔枝",
    "龙眼",
    "水蜜桃",
    "黄桃",
    "苹果",
    "香梨",
    "西瓜",
    "哈密瓜",
    "葡萄",
    "大闸蟹",
    "小龙虾",
    "基围虾",
    "海鲜",
    "带鱼",
    "鲈鱼",
    "牛排",
    "牛腩",
    "牛肉",
    "猪肉",
    "五花肉",
    "排骨",
    "鸡胸肉",
    "土鸡",
    "鸡翅",
    "鸭脖",
    "粽子",
    "月饼",
    "汤圆",
    "饺子",
    "馄饨",
    "包子",
    "馒头",
    "面包",
    "吐司",
    "牛奶",
    "酸奶",
    "鲜奶",
    "奶粉",
    "鸡蛋",
    "蜂蜜",
    "茶叶",
    "红枣",
    "核桃",
    "坚果",
    "花生油",
    "菜籽油",
    "橄榄油",
    "酱油",
    "挂面",
    "螺蛳粉",
    "西红柿",
    "土豆",
    "玉米",
    "红薯",
    "山药",
    "青菜",
    "白菜",
    "蔬菜",
    "水果",
    "零食",
    "矿泉水",
    "纸尿裤",
    "牙膏",
    "洗洁精",
)

_words_ready = threading.Lock()
_words_added = False


def _ensure_words() -> None:
    """Load jieba's dictionary and add the goods words, once per process."""
    global _words_added
    with _words_ready:
        if _words_added:
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        for word in GOODS_WORDS:
            jieba.add_word(word, freq=200000, tag="n")
        for word in ("新鲜", "便宜", "好吃"):
            jieba.add_word(word, tag="a")
        _words_added = True


def _nounish(flag: str) -> bool:
    return flag.startswith(_NOUNISH[0]) or flag == _NOUNISH[1]


def _tokens(text: str) -> list[tuple[str, str]]:
    _ensure_words()
    return [(w.word, w.flag) for w in pseg.cut(text)]


def _phrase(parts: list[str]) -> str | None:
    """The joined noun run without a leading or trailing stop word; None if nothing is left
    that could be goods."""
    while parts and parts[0] in STOP_WORDS:
        parts = parts[1:]
    while parts and parts[-1] in STOP_WORDS:
        parts = parts[:-1]
    phrase = "".join(parts)
    if len(_CJK.findall(phrase)) < 2 or len(phrase) > MAX_PHRASE_CHARS or phrase in STOP_WORDS:
        return None
    return phrase


def _noun_runs(tokens: Iterable[tuple[str, str]]) -> list[str]:
    """Every run of adjacent nouns, joined, as a phrase."""
    runs: list[str] = []
    current: list[str] = []
    for word, flag in [*tokens, ("", "x")]:
        if _nounish(flag) and word not in STOP_WORDS:
            current.append(word)
            continue
        if current and (phrase := _phrase(current)):
            runs.append(phrase)
        current = []
    return runs


def _wished(tail: str) -> str | None:
    """The goods named right after a trigger: the first noun run of the clause, skipping
    counts and measure words, and dropping a modifier closed by 的."""
    clause = _CLAUSE_END.split(tail, maxsplit=1)[0][:20]
    current: list[str] = []
    for word, flag in _tokens(clause):
        if _nounish(flag) and word not in STOP_WORDS:
            current.append(word)
        elif flag == "uj":  # 的: what came before described the goods
            current = []
        elif current:
            break
        elif flag in _SKIPPABLE or flag == "a" or word in STOP_WORDS:
            continue
        else:
            break
    return _phrase(current)


@dataclass(frozen=True)
class Analysis:
    """What one text says: the goods it asks for, and the noun phrases it mentions."""

    wishes: tuple[str, ...]
    mentions: tuple[str, ...]


@lru_cache(maxsize=20000)
def analyse(text: str) -> Analysis:
    """Wishes and mentions of one text (cached: a week's texts are read again on each view)."""
    wishes: list[str] = []
    for match in _TRIGGER.finditer(text):
        phrase = _wished(text[match.end() :])
        if phrase and phrase not in wishes:
            wishes.append(phrase)
    mentions = list(dict.fromkeys(_noun_runs(_tokens(text))))
    return Analysis(tuple(wishes), tuple(mentions))


def named(title: str) -> str | None:
    """The goods a proposal's title names: its first clause, when it is short enough to be
    a product's name (云南高山蓝莓, not a sentence)."""
    clause = _CLAUSE_END.split(title.strip(), maxsplit=1)[0]
    return _phrase([clause]) if clause else None


def goods_words(title: str) -> list[str]:
    """The noun phrases of a product's title, to match wishes against the catalogue."""
    return list(dict.fromkeys(_noun_runs(_tokens(title))))


# ---------------------------------------------------------------- ranking


@dataclass(frozen=True)
class Text:
    """A text to read: who wrote it, and how many more members back it (a proposal's votes)."""

    ref: str  # "post:12", "reply:40", "proposal:3"
    author_id: int
    body: str
    backers: int = 0
    explicit: bool = False  # a proposal: the whole title is the wish


@dataclass
class Wish:
    phrase: str
    askers: set[int] = field(default_factory=set)
    backers: int = 0
    mentions: set[str] = field(default_factory=set)
    mention_authors: set[int] = field(default_factory=set)
    evidence: list[tuple[str, bool]] = field(default_factory=list)  # (ref, asked)

    @property
    def asked(self) -> int:
        return len(self.askers) + self.backers

    @property
    def score(self) -> int:
        return WISH_WEIGHT * self.asked + len(self.mentions)


def rank(texts: Iterable[Text], *, top: int = TOP_N) -> list[Wish]:
    """The week's wishes, best first (see the module's rule)."""
    found: dict[str, Wish] = {}

    def wish(phrase: str) -> Wish:
        return found.setdefault(phrase, Wish(phrase))

    for text in texts:
        analysis = analyse(text.body)
        asked = list(analysis.wishes)
        if text.explicit:
            asked = asked or [p for p in [named(text.body)] if p] or list(analysis.mentions[:1])
        for phrase in asked:
            w = wish(phrase)
            if text.author_id not in w.askers:
                w.askers.add(text.author_id)
                w.backers += text.backers
            if len(w.evidence) < EVIDENCE_PER_WISH:
                w.evidence.append((text.ref, True))
        for phrase in analysis.mentions:
            w = wish(phrase)
            w.mentions.add(text.ref)
            w.mention_authors.add(text.author_id)
            if phrase not in asked and len(w.evidence) < EVIDENCE_PER_WISH:
                w.evidence.append((text.ref, False))
    kept = [w for w in found.values() if w.askers or len(w.mention_authors) >= MIN_MENTION_AUTHORS]
    kept.sort(key=lambda w: (-w.score, -w.asked, w.phrase))
    return kept[:top]


# ---------------------------------------------------------------- weeks


class BadWeek(ValueError):
    pass


def week_start(day: date) -> date:
    """The Monday of ``day``'s week (weeks start on Monday, as the tasks' weeks do)."""
    return day - timedelta(days=day.weekday())


def parse_week(text: str) -> date:
    """``2026-W49`` → the Monday it starts on; BadWeek if it is not an ISO week."""
    match = re.fullmatch(r"(\d{4})-W(\d{1,2})", text.strip())
    if not match:
        raise BadWeek(text)
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise BadWeek(text) from exc


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def matches(phrase: str, title_words: Iterable[str], title: str) -> bool:
    """Whether a catalogue goods of ``title`` answers the wish ``phrase``: the phrase is in
    the title, or one of the title's noun phrases is in the phrase."""
    return phrase in title or any(len(w) >= 2 and w in phrase for w in title_words)
