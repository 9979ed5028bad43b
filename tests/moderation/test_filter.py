"""The text filter: normalised matching, the shipped list and an operator's own (no database
but the settings)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tuangou.core.config import reset_settings
from tuangou.moderation import rules
from tuangou.moderation import service as moderation


@pytest.mark.parametrize(
    "text",
    ["微信", "微 信", "微-信", "微\u3000信", "微·信!", "加我微.信", "微\t信"],
)
def test_spaces_and_punctuation_between_characters_are_ignored(text: str) -> None:
    assert rules.match_terms(text, ["微信"]) == ["微信"]


def test_full_width_and_case_fold_to_the_same_text() -> None:
    assert rules.normalise("ＷｅＣｈａｔ　１２３") == "wechat123"
    assert rules.match_terms("add my W-E-C-H-A-T", ["WeChat"]) == ["WeChat"]
    assert rules.match_terms("今天的苹果很甜", ["微信", "WeChat"]) == []
    assert rules.match_terms("", ["微信"]) == []


def test_a_word_list_keeps_terms_once_and_skips_comments() -> None:
    lines = ["# comment", "", "微信", "微 信  # the same term", "刷单"]
    assert rules.parse_word_list(lines) == ["微信", "刷单"]


@pytest.fixture
def own_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "words.txt"
    path.write_text("团购群外交易\n# 注释\n", encoding="utf-8")
    monkeypatch.setenv("TUANGOU_MODERATION_WORD_LIST", str(path))
    reset_settings()
    yield path
    monkeypatch.delenv("TUANGOU_MODERATION_WORD_LIST")
    reset_settings()


def test_the_shipped_list_holds_and_ordinary_text_passes() -> None:
    assert moderation.screen_text("想要的 加-微-信 私聊") == ["加微信"]
    assert moderation.screen_text("今天的草莓到了, 6 点后来提货") == []


def test_an_operators_own_list_is_added(own_list: Path) -> None:
    assert moderation.screen_text("来 团购群 外 交易 更便宜") == ["团购群外交易"]
    assert moderation.screen_text("加微信") == ["加微信"]  # the shipped list still applies


class Nothing:
    def match(self, text: str) -> list[str]:
        return []


def test_the_filter_is_pluggable() -> None:
    moderation.register_text_filter(Nothing())
    try:
        assert moderation.screen_text("加微信") == []
    finally:
        moderation.register_text_filter(None)
    assert moderation.screen_text("加微信") == ["加微信"]
