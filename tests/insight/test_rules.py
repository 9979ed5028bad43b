"""Demand insight's text mining, on posts as neighbours write them (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from tuangou.insight import rules


@pytest.mark.parametrize(
    ("text", "wish"),
    [
        ("有没有人想买阳光玫瑰葡萄？上次那批特别甜", "阳光玫瑰葡萄"),
        ("求团一箱车厘子，小孩爱吃", "车厘子"),
        ("想买土鸡蛋，最好是散养的", "土鸡蛋"),
        ("这周的草莓太好吃了，还想要草莓", "草莓"),
        ("有没有新鲜的大闸蟹", "大闸蟹"),  # the modifier closed by 的 is dropped
        ("能不能团点五常大米", "五常大米"),  # the measure word 点 is skipped
        ("家里纸巾用完了，求个抽纸", "抽纸"),
        ("想吃赣南脐橙了", "赣南脐橙"),  # place + fruit joined
        ("什么时候有小龙虾啊", "小龙虾"),
    ],
)
def test_a_trigger_and_the_goods_after_it_make_a_wish(text: str, wish: str) -> None:
    assert rules.analyse(text).wishes == (wish,)


@pytest.mark.parametrize(
    "text",
    [
        "团长要求大家准时提货",  # 要求 is not 求
        "有没有人要一起拼单的",  # nothing to buy named
        "今天的赣南脐橙很甜，邻居都说好",  # a mention, not a wish
        "谢谢团长！",
    ],
)
def test_no_wish_without_a_trigger_followed_by_goods(text: str) -> None:
    assert rules.analyse(text).wishes == ()


def test_mentions_are_noun_phrases_without_the_words_every_post_uses() -> None:
    mentions = rules.analyse("今天的赣南脐橙很甜，邻居和团长都说好").mentions
    assert "赣南脐橙" in mentions
    assert not {"邻居", "团长"} & set(mentions)


def test_ranking_counts_askers_once_and_needs_two_authors_for_a_mention() -> None:
    texts = [
        rules.Text("post:1", 1, "想买车厘子"),
        rules.Text("reply:2", 1, "求车厘子！"),  # the same member again: one asker
        rules.Text("post:3", 2, "有没有车厘子"),
        rules.Text("post:4", 3, "今天的赣南脐橙很甜"),
        rules.Text("post:5", 4, "赣南脐橙到了吗"),
        rules.Text("post:6", 5, "蓝莓真好"),  # one author only: not counted
        rules.Text("proposal:7", 6, "云南蓝莓 高山蓝莓", backers=4, explicit=True),
    ]
    ranked = {w.phrase: w for w in rules.rank(texts)}
    assert ranked["车厘子"].asked == 2
    assert ranked["车厘子"].score == rules.WISH_WEIGHT * 2 + 3
    assert ranked["赣南脐橙"].asked == 0 and ranked["赣南脐橙"].score == 2
    # A proposal is its author's wish, and each vote is one more member asking.
    assert ranked["云南蓝莓"].asked == 5
    assert rules.rank(texts)[0].phrase == "云南蓝莓"
    assert "蓝莓" not in ranked or ranked["蓝莓"].asked == 0


def test_weeks_are_iso_weeks_starting_on_monday() -> None:
    assert rules.parse_week("2026-W49") == date(2026, 11, 30)
    assert rules.week_label(date(2026, 11, 30)) == "2026-W49"
    assert rules.week_start(date(2026, 12, 6)) == date(2026, 11, 30)  # a Sunday
    for bad in ("2026-49", "2026-W54", "W49", ""):
        with pytest.raises(rules.BadWeek):
            rules.parse_week(bad)


def test_a_wish_matches_catalogue_goods_by_their_title() -> None:
    title = "丹东99草莓 2斤装"
    words = rules.goods_words(title)
    assert rules.matches("草莓", words, title)
    assert rules.matches("阳光玫瑰葡萄", rules.goods_words("阳光玫瑰 2kg"), "阳光玫瑰 2kg")
    assert not rules.matches("大闸蟹", words, title)
