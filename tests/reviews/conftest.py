"""Helpers of the review tests: completed orders of each shape (a wave order picked up, a
solo order whose receipt the member confirmed), photos uploaded through the photos service,
and reviews written over the API."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aftersales.conftest import Flow, arrive, pick_up
from tests.conftest import Api, _auth
from tests.pools.conftest import Waves


def jpeg(shade: int = 120, size: tuple[int, int] = (24, 16)) -> bytes:
    """A small real JPEG (Pillow)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (shade % 256, 90, 60)).save(out, "JPEG", quality=80)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _clean_screens() -> Iterator[None]:
    from tuangou import wiring
    from tuangou.reviews import service as reviews

    reviews.clear_text_screens()
    yield
    # Back to the application's filter (the moderation's), for the tests that follow.
    reviews.clear_text_screens()
    wiring._register_reviews()


@pytest.fixture(autouse=True)
def _photo_storage(photo_dir: Path) -> Path:
    """Photos go to the test's own directory."""
    return photo_dir


class Shop:
    """A leader's wave of apples (10.00) and pears (8.00), and a supplier's solo campaign."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.api: Api = flow.api
        self.c = flow.c
        self.op = flow.op
        self.supplier = flow.waves.supplier
        self.supplier_id = flow.waves.supplier_id
        self.leader = flow.leader()
        self.wave = flow.wave(self.leader)

    def wave_id(self) -> int:
        r = self.flow.waves.page(self.wave["listing"])
        assert r.status_code == 200, r.text
        return int(r.json()["listing"]["wave_id"])

    def completed_wave_order(
        self, name: str = "李阿姨", apples: int = 3, pears: int = 2
    ) -> tuple[dict[str, str], int]:
        return self.completed_wave_orders([name], apples, pears)[0]

    def completed_wave_orders(
        self, names: list[str], apples: int = 3, pears: int = 2
    ) -> list[tuple[dict[str, str], int]]:
        """Orders of the wave by each of ``names``, settled at the cut-off and picked up."""
        placed = [self.flow.order(self.leader, self.wave, n, apples, pears) for n in names]
        self.flow.settle()
        for _, order_id in placed:
            arrive(order_id)
            pick_up(order_id)
        return placed

    def paid_wave_order(self, name: str = "张大爷") -> tuple[dict[str, str], int]:
        return self.flow.order(self.leader, self.wave, name, 1, 0)

    def reviewable(self, who: dict[str, str]) -> list[dict[str, Any]]:
        r = self.c.get("/api/me/reviewable", headers=_auth(who))
        assert r.status_code == 200, r.text
        return list(r.json()["lines"])

    def line(self, who: dict[str, str], order_id: int, title: str) -> int:
        for line in self.reviewable(who):
            if line["order_id"] == order_id and line["title"].startswith(title):
                return int(line["line_id"])
        raise AssertionError(f"no reviewable line {title} on order {order_id}")

    def photo_ids(self, who: dict[str, str], n: int = 1) -> list[str]:
        """``n`` photos uploaded through POST /api/photos (one per request)."""
        ids = []
        for i in range(n):
            r = self.c.post(
                "/api/photos",
                content=jpeg(i * 30),
                headers={**_auth(who), "Content-Type": "image/jpeg"},
            )
            assert r.status_code == 201, r.text
            ids.append(str(r.json()["id"]))
        return ids

    def write(
        self,
        who: dict[str, str],
        order_id: int,
        line_id: int | None = None,
        rating: int = 5,
        text: str = "很新鲜, 孩子很喜欢",
        photo_ids: list[str] | None = None,
        **kw: Any,
    ) -> Any:
        body: dict[str, Any] = {"rating": rating, "text": text, "photo_ids": photo_ids or []}
        if line_id is not None:
            body["line_id"] = line_id
        return self.c.post(
            f"/api/orders/{order_id}/reviews", json=body, headers={**_auth(who), **kw}
        )

    def solo_campaign(self) -> dict[str, Any]:
        return self.api.campaign(self.op, self.supplier_id, allow_solo=True, stock=20)

    def solo_order(self, campaign_id: int, name: str = "赵阿姨") -> tuple[dict[str, str], int]:
        member = self.api.signup(name)
        r = self.c.post(f"/api/campaigns/{campaign_id}/solo", json={}, headers=_auth(member))
        assert r.status_code == 201, r.text
        self.api.pay(r.json()["pay_url"])
        return member, int(r.json()["order"]["id"])

    def ship(self, order_id: int) -> None:
        r = self.c.post(
            f"/api/supplier/orders/{order_id}/ship",
            json={"carrier": "顺丰", "tracking_no": "SF1"},
            headers=self.supplier,
        )
        assert r.status_code == 200, r.text

    def confirm(self, who: dict[str, str], order_id: int) -> None:
        r = self.c.post(f"/api/orders/{order_id}/confirm-receipt", headers=_auth(who))
        assert r.status_code == 200, r.text


@pytest.fixture
def shop(api: Api) -> Shop:
    return Shop(Flow(Waves(api)))
