"""Helpers of the after-sales tests: a confirmed wave order, brought to the pickup point and
picked up directly through the order service, and tiny generated photos."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api, _auth, run_worker
from tests.pools.conftest import Waves
from tuangou.core import clock


def png(shade: int = 0) -> bytes:
    """A valid 1×1 PNG (a grey of ``shade``)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(bytes([0, shade % 256]))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def _photos_in_the_tests_directory(photo_dir: Path) -> Path:
    return photo_dir


def arrive(order_id: int) -> None:
    """The leader confirmed receipt: confirmed → arrived (what fulfilment does)."""
    from tuangou.core.db import run_in_transaction
    from tuangou.orders import service as orders

    assert run_in_transaction(lambda s: orders.move(s, order_id, "confirmed", "arrived"))


def pick_up(order_id: int) -> None:
    """The pickup was verified: the order completes and its escrow is released."""
    from tuangou.core.db import run_in_transaction
    from tuangou.orders import service as orders

    def work(session: Any) -> bool:
        return orders.complete(session, orders.get(session, order_id, lock=True), how="pickup")

    assert run_in_transaction(work)
    run_worker()


class Flow:
    """A leader's wave of apples (10.00) and pears (8.00), settled at cut-off."""

    def __init__(self, waves: Waves) -> None:
        self.waves = waves
        self.api: Api = waves.api
        self.c = waves.c
        self.op = waves.op
        self.apples = waves.sku(title="苹果")
        self.pears = waves.sku(title="梨")

    def leader(self, name: str = "王团长") -> dict[str, Any]:
        return self.waves.leader(name)

    def wave(self, leader: dict[str, Any]) -> dict[str, Any]:
        page = self.waves.publish(
            leader,
            [
                {"sku_id": self.apples, "price": 1000, "moq": 1, "stock": 100},
                {"sku_id": self.pears, "price": 800, "moq": 1, "stock": 100},
            ],
        )
        apple, pear = (i["item_id"] for i in page["items"])
        return {"listing": page["listing"]["id"], "apple": apple, "pear": pear}

    def order(
        self,
        leader: dict[str, Any],
        wave: dict[str, Any],
        name: str = "李阿姨",
        apples: int = 3,
        pears: int = 2,
    ) -> tuple[dict[str, str], int]:
        member = self.waves.member(leader, name)
        items = {wave["apple"]: apples}
        if pears:
            items[wave["pear"]] = pears
        placed = self.waves.order(member, wave["listing"], items)
        return member, int(placed["order"]["id"])

    def settle(self) -> None:
        clock.advance(timedelta(hours=4))
        run_worker()

    def upload(
        self, who: dict[str, str], data: bytes | None = None, content_type: str = "image/png"
    ) -> Any:
        return self.c.post(
            "/api/uploads",
            content=png() if data is None else data,
            headers={**_auth(who), "Content-Type": content_type},
        )

    def photo_ids(self, who: dict[str, str], n: int = 1) -> list[str]:
        ids = []
        for i in range(n):
            r = self.upload(who, png(i))
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        return ids

    def report(
        self,
        who: dict[str, str],
        order_id: int,
        lines: list[dict[str, Any]],
        photos: list[str] | None = None,
        **extra: Any,
    ) -> Any:
        body = {
            "order_id": order_id,
            "kind": "damaged",
            "description": "到货时苹果压坏了",
            "lines": lines,
            "photo_ids": self.photo_ids(who) if photos is None else photos,
            **extra,
        }
        return self.c.post("/api/aftersales", json=body, headers=_auth(who))

    def order_view(self, who: dict[str, str], order_id: int) -> dict[str, Any]:
        r = self.c.get(f"/api/wave-orders/{order_id}", headers=_auth(who))
        assert r.status_code == 200, r.text
        return dict(r.json()["order"])

    def inbox_kinds(self, who: dict[str, str]) -> list[str]:
        r = self.c.get("/api/notifications", headers=_auth(who))
        assert r.status_code == 200, r.text
        return [n["kind"] for n in r.json()["items"]]


@pytest.fixture
def flow(api: Api) -> Flow:
    return Flow(Waves(api))
