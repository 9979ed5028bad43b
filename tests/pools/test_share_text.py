"""The 接龙 text a leader pastes into the group chat (分享团期): a pure function of the wave."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from tuangou.pools import rules

NOW = datetime(2026, 12, 7, 10, 0)  # a Monday morning, local time
APPLES = rules.ShareItem("烟台红富士", 2590, (50, 2390))
EGGS = rules.ShareItem("土鸡蛋 30枚", 3200)
LINK = "https://tuan.example.org/w/5?share=abc_DEF-123"


def _text(**changes: object) -> str:
    fields: dict[str, object] = {
        "community": "幸福里邻里团",
        "title": "明日达",
        "cutoff": datetime(2026, 12, 7, 23, 0),
        "now": NOW,
        "items": [APPLES, EGGS],
        "link": LINK,
        "pickup": "3栋便利店",
        "delivery": date(2026, 12, 8),
    }
    fields.update(changes)
    return rules.chain_text(**fields)  # type: ignore[arg-type]


def test_the_text_reads_as_a_group_chat_expects_it() -> None:
    assert _text().split("\n") == [
        "【幸福里邻里团】明日达 · 今晚23:00截单",
        "1. 烟台红富士 ¥25.90（满50份 ¥23.90）",
        "2. 土鸡蛋 30枚 ¥32.00",
        "自提：3栋便利店 · 明日到货",
        f"跟团：{LINK}",
    ]


def test_english_says_the_same() -> None:
    assert _text(lang="en").split("\n") == [
        "[幸福里邻里团] 明日达 · order by tonight 23:00",
        "1. 烟台红富士 ¥25.90 (¥23.90 at 50)",
        "2. 土鸡蛋 30枚 ¥32.00",
        "Pickup: 3栋便利店 · arrives tomorrow",
        f"Order here: {LINK}",
    ]


def test_the_cut_off_is_said_from_the_day_it_is_read() -> None:
    def said(cutoff: datetime, lang: str = "zh") -> str:
        return rules.cutoff_phrase(cutoff, NOW, lang)

    assert said(datetime(2026, 12, 7, 12, 0)) == "今天12:00截单"
    assert said(datetime(2026, 12, 8, 11, 30)) == "明天11:30截单"
    assert said(datetime(2026, 12, 8, 20, 0)) == "明晚20:00截单"
    assert said(datetime(2026, 12, 10, 23, 0)) == "12月10日 23:00截单"
    assert said(datetime(2026, 12, 7, 9, 59)) == "已截单"
    assert said(datetime(2026, 12, 10, 23, 0), "en") == "order by Dec 10 23:00"
    assert said(datetime(2026, 12, 7, 9, 0), "en") == "closed"


def test_names_stay_on_their_line_and_long_waves_are_counted() -> None:
    broken = rules.ShareItem("苹果\n2. 假的一行", 100)
    text = _text(title="明日\n达", items=[broken], pickup="  ")
    assert text.split("\n")[:2] == [
        "【幸福里邻里团】明日 达 · 今晚23:00截单",
        "1. 苹果 2. 假的一行 ¥1.00",
    ]
    assert "自提" not in text  # no pickup point named: only the delivery
    many = [rules.ShareItem(f"第{n}件", 100) for n in range(rules.CHAIN_TEXT_ITEMS + 3)]
    lines = _text(items=many).split("\n")
    assert (
        lines[rules.CHAIN_TEXT_ITEMS]
        == f"{rules.CHAIN_TEXT_ITEMS}. 第{rules.CHAIN_TEXT_ITEMS - 1}件 ¥1.00"
    )
    assert lines[rules.CHAIN_TEXT_ITEMS + 1] == "…等3件"


@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=12), st.integers(1, 10**8)), max_size=24),
    st.sampled_from(["zh", "en"]),
)
def test_every_item_has_one_numbered_line_and_the_link_comes_last(
    raw: list[tuple[str, int]], lang: str
) -> None:
    items = [rules.ShareItem(title, price) for title, price in raw]
    lines = _text(items=items, lang=lang).split("\n")
    assert lines[-1].endswith(LINK)
    numbered = [line for line in lines[1:-2] if not line.startswith("…")]
    assert len(numbered) == min(len(items), rules.CHAIN_TEXT_ITEMS)
    for n, (line, item) in enumerate(zip(numbered, items, strict=False), start=1):
        assert line.startswith(f"{n}. ")
        assert f"¥{item.price // 100:,}.{item.price % 100:02d}" in line
