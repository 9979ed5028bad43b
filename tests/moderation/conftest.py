"""A fake kind of content ("note") registered as a moderation target, and a small world: an
operator, two leaders with a community each, members of the first community."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.communities import auth, join, make_community, make_leader
from tests.conftest import Api
from tuangou.communities import service as communities
from tuangou.moderation import service as moderation


@dataclass
class Note:
    community_id: int | None
    author_id: int
    text: str
    hidden: bool = False


@dataclass
class Notes:
    """The fake target kind: notes kept in memory; every ``set_hidden`` call is recorded."""

    items: dict[int, Note] = field(default_factory=dict)
    calls: list[tuple[int, bool]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, community_id: int | None, author_id: int, text: str = "便宜出闲置") -> int:
        with self._lock:
            nid = next(self._ids)
            self.items[nid] = Note(community_id, int(author_id), text)
            return nid

    def locate(self, session: Session, target_id: int) -> moderation.TargetInfo | None:
        note = self.items.get(target_id)
        if note is None:
            return None
        return moderation.TargetInfo(
            community_id=note.community_id,
            author_id=note.author_id,
            excerpt=note.text,
            hidden=note.hidden,
            link=f"/notes/{target_id}",
        )

    def set_hidden(self, session: Session, target_id: int, hidden: bool) -> None:
        with self._lock:
            self.items[target_id].hidden = hidden
            self.calls.append((target_id, hidden))

    def leader_of(self, session: Session, target_id: int) -> int | None:
        note = self.items[target_id]
        if note.community_id is None:
            return None
        community = communities.get_community(session, note.community_id)
        return communities.get_leader(session, community.leader_id).user_id


@pytest.fixture
def notes() -> Iterator[Notes]:
    kind = Notes()
    moderation.register_target(
        "note", moderation.TargetHooks(kind.locate, kind.set_hidden, kind.leader_of)
    )
    yield kind
    moderation.unregister_target("note")


@dataclass
class World:
    api: Api
    op: dict[str, str]
    leader: dict[str, Any]
    leader2: dict[str, Any]
    community: dict[str, Any]
    community2: dict[str, Any]
    members: list[dict[str, Any]]
    outsider: dict[str, Any]

    def post(self, path: str, who: dict[str, Any], body: Any = None) -> Any:
        return self.api.c.post(path, json=body, headers=auth(who))

    def delete(self, path: str, who: dict[str, Any]) -> Any:
        return self.api.c.delete(path, headers=auth(who))

    def get(self, path: str, who: dict[str, Any], **params: Any) -> Any:
        return self.api.c.get(path, params=params, headers=auth(who))


def make_world(api: Api, members: int = 4) -> World:
    op = api.operator()
    leader = make_leader(api, op, "王团长")
    leader2 = make_leader(api, op, "赵团长")
    community = make_community(api, leader, "幸福里业主群", rules="")
    community2 = make_community(api, leader2, "阳光花园群", rules="")
    people = []
    for i in range(members):
        who: dict[str, Any] = dict(api.signup(f"邻居{i}"))
        who["user_id"] = int(who["user_id"])
        join(api, who, community["invite_code"])
        people.append(who)
    outsider: dict[str, Any] = dict(api.signup("路人"))
    outsider["user_id"] = int(outsider["user_id"])
    join(api, outsider, community2["invite_code"])
    return World(api, op, leader, leader2, community, community2, people, outsider)


@pytest.fixture
def world(api: Api) -> World:
    return make_world(api)
