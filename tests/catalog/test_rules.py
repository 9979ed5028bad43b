"""The catalogue's pure rules."""

from __future__ import annotations

from tuangou.catalog.rules import goods_name


def test_a_sku_is_named_once() -> None:
    assert goods_name("烟台红富士苹果 5斤装", "5斤装") == "烟台红富士苹果 5斤装"
    assert goods_name("烟台红富士苹果", "5斤装") == "烟台红富士苹果 5斤装"
    assert goods_name(" 砀山酥梨 ", "") == "砀山酥梨"
    assert goods_name("土鸡蛋", " 30枚 ") == "土鸡蛋 30枚"
