"""Community events: the world the tests of this package share (a leader, a community, its
members), built through the API; the database is read directly as an independent witness."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tests.communities import auth, join, make_community, make_leader
from tests.conftest import Api, rows
from tuangou.core import clock


@dataclass
class World:
    api: Api
    op: dict[str, str]
    leader: dict[str, Any]
    community: dict[str, Any]
    members: list[dict[str, Any]] = field(default_factory=list)

    def member(self, nickname: str = "团员") -> dict[str, Any]:
        who: dict[str, Any] = dict(self.api.signup(nickname))
        who["user_id"] = int(who["user_id"])
        join(self.api, who, self.community["invite_code"])
        self.members.append(who)
        return who

    def create(self, *, publish: bool = True, **kw: Any) -> dict[str, Any]:
        start = clock.now() + kw.pop("start_in", timedelta(days=1))
        body: dict[str, Any] = {
            "title": "草莓品鉴会",
            "description": "新到的丹东草莓, 先尝后买",
            "place": "幸福里 3 栋会所",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "seats": 10,
            **kw,
        }
        r = self.api.c.post(
            f"/api/leader/communities/{self.community['id']}/events",
            json=body,
            headers=auth(self.leader),
        )
        assert r.status_code == 201, r.text
        event = dict(r.json())
        if publish:
            r = self.api.c.post(
                f"/api/leader/events/{event['id']}/publish", headers=auth(self.leader)
            )
            assert r.status_code == 200, r.text
            event = dict(r.json())
        return event

    def sign_up(self, who: dict[str, Any], event_id: int) -> Any:
        return self.api.c.post(f"/api/events/{event_id}/signup", headers=auth(who))

    def cancel(self, who: dict[str, Any], event_id: int) -> Any:
        return self.api.c.delete(f"/api/events/{event_id}/signup", headers=auth(who))

    def get(self, who: dict[str, Any], event_id: int) -> dict[str, Any]:
        r = self.api.c.get(f"/api/events/{event_id}", headers=auth(who))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def check_in(self, event_id: int, code: str, who: dict[str, Any] | None = None) -> Any:
        return self.api.c.post(
            f"/api/leader/events/{event_id}/checkin",
            json={"code": code},
            headers=auth(who or self.leader),
        )


def make_world(api: Api) -> World:
    op = api.operator()
    leader = make_leader(api, op)
    community = make_community(api, leader)
    return World(api, op, leader, community)


def seats_row(event_id: int) -> tuple[int, int]:
    (row,) = rows("SELECT seats, taken FROM events WHERE id = :id", id=event_id)
    return int(row[0]), int(row[1])


def holding(event_id: int) -> int:
    return int(
        rows(
            "SELECT COUNT(*) FROM event_signups WHERE event_id = :id"
            " AND status IN ('held', 'signed_up')",
            id=event_id,
        )[0][0]
    )
