"""A community's world for posts: a leader with a community and a wave listed in it, members
who joined over a day ago (past the new members' slow-down), and helpers over the posts API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from tests.conftest import Api
from tests.fulfilment.conftest import World, auth
from tuangou import wiring
from tuangou.core import clock
from tuangou.posts import service as posts


def at_local(hour: int, minute: int = 0, second: int = 0, *, days: int = 1) -> None:
    """Move the clock to hh:mm:ss local time, ``days`` days after today (forward only)."""
    local_now = clock.to_local(clock.now())
    target_day = local_now.date() + timedelta(days=days)
    target = datetime.combine(target_day, time(hour, minute, second), tzinfo=local_now.tzinfo)
    target_utc = target.astimezone(UTC).replace(tzinfo=None)
    clock.advance(target_utc - clock.now())


class Posts:
    def __init__(self, api: Api) -> None:
        self.w = World(api)
        self.c = api.c
        self.op = self.w.op
        apples = self.w.sku("烟台苹果")
        self.wave = self.w.catalogue_wave(
            [{"sku_id": apples, "price": 1000, "moq": 1, "stock": 100}]
        )
        self.leader = self.w.leader("王团长", "幸福里 3 栋便利店")
        self.other = self.w.leader("赵团长", "阳光花园快递站")
        self.listing = self.w.adopt(self.leader, self.wave["id"])["listing"]["id"]
        self.other_listing = self.w.adopt(self.other, self.wave["id"])["listing"]["id"]
        self.community = self.leader["community_id"]
        self.alice = self.w.member(self.leader, "李阿姨")
        self.bob = self.w.member(self.leader, "张大爷")
        self.stranger = self.w.member(self.other, "王奶奶")

    def join(self, name: str) -> dict[str, Any]:
        return self.w.member(self.leader, name)

    def post(self, who: dict[str, Any], text: str = "我买了，很好，你们也试试", **kw: Any) -> Any:
        community = kw.pop("community", self.community)
        key = kw.pop("key", None)
        headers = {**auth(who), **({"Idempotency-Key": key} if key else {})}
        return self.c.post(
            f"/api/communities/{community}/posts", json={"text": text, **kw}, headers=headers
        )

    def made(self, who: dict[str, Any], text: str = "好吃", **kw: Any) -> dict[str, Any]:
        r = self.post(who, text, **kw)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def feed(
        self, who: dict[str, Any], cursor: str | None = None, community: int | None = None
    ) -> Any:
        params = {"cursor": cursor} if cursor else {}
        return self.c.get(
            f"/api/communities/{community or self.community}/posts",
            params=params,
            headers=auth(who) if "Authorization" in who else who,
        )

    def reply(self, who: dict[str, Any], post_id: int, text: str = "谢谢分享", **kw: Any) -> Any:
        return self.c.post(
            f"/api/posts/{post_id}/replies", json={"text": text, **kw}, headers=auth(who)
        )


@pytest.fixture
def world(api: Api) -> Iterator[Posts]:
    posts.clear_registries()
    w = Posts(api)
    # Everyone joined more than a day ago (past the new members' slow-down); 10:00 local.
    at_local(10, days=2)
    yield w
    # Back to the application's checks (the moderation's), for the tests that follow.
    posts.clear_registries()
    wiring._register_posts()


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clock stands still but where a test moves it (``clock.advance``, :func:`at_local`):
    the rhythm's edges are exact to the second however slowly the machine runs."""
    state = {"now": clock.now().replace(microsecond=0)}

    def advance(delta: timedelta) -> None:
        state["now"] += delta

    monkeypatch.setattr(clock, "now", lambda: state["now"])
    monkeypatch.setattr(clock, "advance", advance)
