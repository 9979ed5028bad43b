"""The set-based cut-off: a mixed wave's money to the fen (amounts computed by hand), the same
ledger and journal rows a refund always writes, a chunk's statements that do not grow with
its orders, a crash inside a chunk that leaves nothing half-done, and a re-run that settles
nothing. On both backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import audit_violations
from tests.pools.conftest import Waves
from tests.pools.support import changed_tables, rows, scalar, snapshot
from tuangou.core import clock, outbox
from tuangou.core.db import get_engine
from tuangou.pools import service as pools


def _wave(waves: Waves, baskets: list[dict[str, int]]) -> tuple[int, list[int], dict[str, int]]:
    """Apples (10.00, MOQ 3, 9.00 from 4), pears (8.00, MOQ 100: cancelled), eggs (5.00,
    MOQ 1: confirmed at their price); ``baskets`` name them by "apple", "pear", "egg"."""
    prices = {"apple": 1000, "pear": 800, "egg": 500}
    skus = {n: waves.sku(title=n, price=p) for n, p in prices.items()}
    leader = waves.leader(f"团长{len(baskets)}")
    page = waves.publish(
        leader,
        [
            {"sku_id": skus["apple"], "price": 1000, "moq": 3, "stock": 500, "tiers": [[4, 900]]},
            {"sku_id": skus["pear"], "price": 800, "moq": 100, "stock": 500},
            {"sku_id": skus["egg"], "price": 500, "moq": 1, "stock": 500},
        ],
    )
    item = dict(zip(("apple", "pear", "egg"), (i["item_id"] for i in page["items"]), strict=True))
    listing = page["listing"]["id"]
    ids = [
        waves.order(
            waves.member(leader, f"邻居{len(baskets)}-{n}"),
            listing,
            {item[k]: q for k, q in basket.items()},
        )["order"]["id"]
        for n, basket in enumerate(baskets)
    ]
    return page["wave"]["id"], ids, item


def _refunds(order_id: int) -> list[tuple[str, int]]:
    return [
        (str(r), int(a))
        for r, a in rows(
            "SELECT reason, amount FROM refunds WHERE order_id = :o ORDER BY reason", o=order_id
        )
    ]


def _escrow(order_id: int) -> int:
    return int(
        scalar(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger_entries"
            " WHERE account = 'escrow' AND order_id = :o",
            o=order_id,
        )
    )


MIXED = [
    {"apple": 2, "pear": 1},  # apples confirmed at 9.00 (2.00 back), the pear refunded (8.00)
    {"apple": 2},  # 2.00 of price protection
    {"pear": 2},  # nothing confirmed: 16.00 back in full, the order refunded
    {"egg": 3},  # confirmed at its price: nothing back
]


def test_a_mixed_wave_settles_to_the_fen_and_only_once(waves: Waves) -> None:
    wave_id, ids, _ = _wave(waves, MIXED)
    clock.advance(timedelta(hours=3, seconds=1))
    assert pools.settle_wave(wave_id) == "settled"

    expected = {
        ids[0]: ("confirmed", [("moq_not_met", 800), ("price_protection", 200)], 2800 - 1000),
        ids[1]: ("confirmed", [("price_protection", 200)], 2000 - 200),
        ids[2]: ("refunded", [("moq_not_met", 1600)], 0),
        ids[3]: ("confirmed", [], 1500),
    }
    for order_id, (status, refunds, kept) in expected.items():
        paid, refunded, got = rows(
            "SELECT paid_amount, refunded_amount, status FROM orders WHERE id = :o", o=order_id
        )[0]
        assert (got, _refunds(order_id)) == (status, refunds)
        assert refunded == sum(a for _, a in refunds) and paid - refunded == kept
        assert _escrow(order_id) == kept  # escrow = paid - refunded
    # Each refund is one balanced transfer ``refund:<id>`` (escrow → refunds), journaled once.
    for refund_id, _order, amount in rows(
        "SELECT id, order_id, amount FROM refunds WHERE order_id IN (:a, :b, :c)",
        a=ids[0],
        b=ids[1],
        c=ids[2],
    ):
        legs = rows(
            "SELECT account, amount FROM ledger_entries WHERE transfer_id = :t ORDER BY amount",
            t=f"refund:{refund_id}",
        )
        assert [(str(a), int(n)) for a, n in legs] == [("escrow", -amount), ("refunds", amount)]
        assert (
            scalar(
                "SELECT COUNT(*) FROM journal_entries WHERE source = 'ledger' AND ref = :t",
                t=f"refund:{refund_id}",
            )
            == 1
        )
    topics = rows(
        "SELECT topic, COUNT(*) FROM outbox_events WHERE topic IN"
        " ('wave.confirmed', 'wave.refunded', 'refund.created') GROUP BY topic ORDER BY topic"
    )
    assert [(str(t), int(n)) for t, n in topics] == [
        ("refund.created", 4),
        ("wave.confirmed", 3),
        ("wave.refunded", 1),
    ]
    before = snapshot()
    assert pools.settle_wave(wave_id) is None  # settles nothing again
    assert changed_tables(before, snapshot()) == []
    assert audit_violations() == []


def _statements(wave_id: int) -> int:
    seen = 0

    def note(*_: Any) -> None:
        nonlocal seen
        seen += 1

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert pools.settle_wave(wave_id) == "settled"
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_a_chunks_statements_do_not_grow_with_its_orders(waves: Waves) -> None:
    few, _, _ = _wave(waves, MIXED)
    many, _, _ = _wave(waves, MIXED * 4)
    clock.advance(timedelta(hours=3, seconds=1))
    assert _statements(many) <= _statements(few) + 2
    assert audit_violations() == []


def test_a_crash_inside_a_chunk_leaves_nothing_half_done(
    waves: Waves, monkeypatch: pytest.MonkeyPatch
) -> None:
    wave_id, ids, _ = _wave(waves, MIXED)
    clock.advance(timedelta(hours=3, seconds=1))
    real = outbox.emit_many

    def crash(session: Any, topic: str, payloads: list[dict[str, Any]]) -> list[str]:
        if topic == "wave.confirmed":
            raise RuntimeError("killed in the middle of the chunk")
        return real(session, topic, payloads)

    monkeypatch.setattr(outbox, "emit_many", crash)
    with pytest.raises(RuntimeError):
        pools.settle_wave(wave_id)
    # The chunk rolled back whole: no refund, no transfer, every order still paid.
    marks = ",".join(str(i) for i in ids)
    assert scalar(f"SELECT COUNT(*) FROM refunds WHERE order_id IN ({marks})") == 0
    assert (
        scalar(
            "SELECT COUNT(*) FROM ledger_entries"
            f" WHERE order_id IN ({marks}) AND account = 'refunds'"
        )
        == 0
    )
    statuses = {str(s) for (s,) in rows(f"SELECT status FROM orders WHERE id IN ({marks})")}
    assert statuses == {"paid"}
    monkeypatch.setattr(outbox, "emit_many", real)
    assert pools.settle_wave(wave_id) == "settled"  # the next round finishes it
    assert _refunds(ids[2]) == [("moq_not_met", 1600)]
    assert audit_violations() == []
