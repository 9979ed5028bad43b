"""Team openings and joins refused from memory when a campaign has nothing free
(``core.soldout``, the gate flash sales share): no statement for a refusal from the mark, a
unit given back is on sale again (at once in the process that gave it back, within the
recheck in any other), and a join into a team that still holds a reservation is never
refused by the gate. Over the HTTP app, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from tests.api import execute
from tests.conftest import Api, _auth, audit_violations, run_worker
from tuangou.core import clock, soldout
from tuangou.core.db import get_engine
from tuangou.teams.service import gate

PAST_HOLD = timedelta(minutes=16)


@contextmanager
def statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _open(api: Api, who: dict[str, str], campaign_id: int, **body: Any) -> Any:
    return api.c.post(f"/api/campaigns/{campaign_id}/teams", json=body, headers=_auth(who))


def _join(api: Api, who: dict[str, str], team_id: int, **body: Any) -> Any:
    return api.c.post(f"/api/teams/{team_id}/join", json=body, headers=_auth(who))


def _code(r: Any) -> str:
    assert r.status_code == 409, r.text
    return str(r.json()["code"])


def test_refusals_from_memory_run_no_statement(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, stock=3, min_size=2, max_size=3, max_quantity_per_order=2)["id"]
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    t = api.open(a, c)["team"]["id"]  # 1 sold, 1 reserved, 1 free
    assert _code(_open(api, b, c)) == "too_few_to_open"  # the database says so: remembered
    with statements() as seen:
        assert _code(_open(api, b, c)) == "too_few_to_open"
        assert _code(_open(api, d, c, quantity=2)) == "sold_out"  # 4 needed, 1 free
        r = _open(api, d, c, quantity=99)  # not the gate's to answer: the route's 422
        assert r.status_code == 422, r.text
        seen.clear()
        assert _code(_open(api, d, c)) == "too_few_to_open"
        assert seen == []
        # Nobody but a member is answered by the gate.
        assert api.c.post(f"/api/campaigns/{c}/teams", json={}).status_code == 401
        r = api.c.post(f"/api/campaigns/{c}/teams", json={}, headers=op)
        assert r.status_code == 403
    api.join(b, t)  # from the team's reservation; then one more seat takes the free unit
    api.join(d, t)  # full: the team settles
    e = api.signup("丁")
    assert _code(_open(api, e, c)) == "sold_out"
    assert _code(_join(api, e, t)) == "team_closed"  # settled, full
    assert audit_violations() == []


def test_a_join_into_a_team_with_a_reservation_is_never_refused(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, stock=2, min_size=2, max_size=3)["id"]
    a, b, d, e = (api.signup(n) for n in ("甲", "乙", "丙", "丁"))
    t = api.open(a, c)["team"]["id"]  # nothing free, one unit reserved for the team
    assert _code(_open(api, b, c)) == "sold_out"
    assert soldout.known(gate.campaign_key(c))
    with statements() as seen:
        joined = _join(api, d, t)  # the campaign is marked, the team holds a reservation
        assert joined.status_code == 201, joined.text
        assert seen != []
    # Now the team has nothing reserved and the campaign nothing free: the database refuses
    # once, then memory does.
    assert _code(_join(api, e, t)) == "sold_out"
    assert soldout.known(gate.team_key(t))
    with statements() as seen:
        assert _code(_join(api, e, t)) == "sold_out"
        assert seen == []
    # The joiner never pays: the hold runs out, the unit is the team's again, and this
    # process forgets its marks at once.
    clock.advance(PAST_HOLD)
    run_worker()
    assert not soldout.known(gate.team_key(t))
    r = _join(api, e, t)
    assert r.status_code == 201, r.text
    assert audit_violations() == []


def test_units_given_back_elsewhere_are_on_sale_within_the_recheck(api: Api) -> None:
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, stock=2, min_size=2, max_size=2)["id"]
    a, b = api.signup("甲"), api.signup("乙")
    api.open(a, c)
    assert _code(_open(api, b, c)) == "sold_out"
    # Two units come back behind this process's back (as another process would give them).
    execute("UPDATE team_campaigns SET stock = stock + 2 WHERE id = :c", c=c)
    assert _code(_open(api, b, c)) == "sold_out"  # still the mark
    soldout.age(gate.campaign_key(c), 60)  # the mark is old: the next request reads the row
    with statements() as seen:
        r = _open(api, b, c)
        assert seen[0].split()[0].upper() in ("SELECT", "BEGIN")
    assert r.status_code == 201, r.text


def test_a_retry_of_a_join_that_succeeded_is_replayed_not_refused(api: Api) -> None:
    """A member whose join went through but whose reply was lost retries with the same
    Idempotency-Key after the campaign sold out: they get their join back (replayed), never
    "sold out"; the gate leaves every keyed request to the route."""
    op = api.operator()
    sid, _ = api.supplier(op)
    c = api.campaign(op, sid, stock=2, min_size=2, max_size=2)["id"]
    a, b, d = api.signup("甲"), api.signup("乙"), api.signup("丙")
    t = api.open(a, c)["team"]["id"]
    keyed = {**_auth(b), "Idempotency-Key": "join-once"}
    first = api.c.post(f"/api/teams/{t}/join", json={}, headers=keyed)
    assert first.status_code == 201, first.text
    assert _code(_open(api, d, c)) == "sold_out"  # nothing left: the campaign is marked
    again = api.c.post(f"/api/teams/{t}/join", json={}, headers=keyed)
    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
