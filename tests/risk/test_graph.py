"""The graph work, finding by finding: what it flags, and the honest look-alikes it does not."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from tuangou.risk import graph
from tuangou.risk.graph import History
from tuangou.risk.rules import Event, EventType

T0 = datetime(2026, 11, 5, 10, 0, 0)


def add(h: History, type_: str, actor: int, at: datetime = T0, **kw: object) -> None:
    h.add(Event(type_, at, actor, **kw))  # type: ignore[arg-type]


def kinds(found: list[graph.Finding]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for f in found:
        out.setdefault(f.kind, set()).update(f.members)
    return out


def honest_background(h: History, rng: random.Random, n: int = 400) -> None:
    """Members who help a few random others' bargains now and then."""
    for m in range(1000, 1000 + n):
        add(h, EventType.SIGNUP, m, device=f"own{m}", phone=f"13{m:09d}")
        for _ in range(rng.randint(0, 3)):
            starter = rng.randrange(1000, 1000 + n)
            if starter != m:
                at = T0 + timedelta(hours=rng.randint(0, 500))
                add(h, EventType.HELP, m, at, target=f"bargain:{starter}", other=starter)


def test_accounts_linked_by_devices_are_one_person_a_family_tablet_is_not() -> None:
    h = History()
    for m in range(1, 11):  # a farm: ten accounts made on two devices, used on the first
        add(h, EventType.SIGNUP, m, device=f"farm{m % 2}", phone=f"1300000{m:04d}")
        add(h, EventType.LOGIN, m, device="farm0")
    for m in range(20, 25):  # a family of five on a tablet, each with a phone too
        add(h, EventType.SIGNUP, m, device="tablet", phone=f"1390000{m:04d}")
        add(h, EventType.LOGIN, m, device=f"phone{m}")
    found = graph.same_person(h, graph.DEFAULT_GRAPH_POLICY)
    assert [set(f.members) for f in found] == [set(range(1, 11))]
    assert found[0].reasons[0].text() == (
        "10 accounts linked as one person by 12 shared devices, phones or payout accounts"
    )


def test_a_shared_payout_account_links_accounts_too() -> None:
    h = History()
    for m in range(1, 9):
        add(h, EventType.ORDER, m, device=f"d{m}", payout="bank-42")
    assert kinds(graph.same_person(h, graph.DEFAULT_GRAPH_POLICY)) == {
        "same_person": set(range(1, 9))
    }


def ring(h: History, members: range, rng: random.Random) -> None:
    for s in members:
        for m in members:
            if m != s and rng.random() < 0.9:
                at = T0 + timedelta(hours=rng.randint(0, 48))
                add(h, EventType.HELP, m, at, target=f"bargain:{s}", other=s)


def test_a_ring_that_helps_itself_is_found_among_honest_helpers() -> None:
    rng = random.Random(1)
    h = History()
    honest_background(h, rng)
    ring(h, range(1, 9), rng)
    found = kinds(graph.dense_rings(h, graph.DEFAULT_GRAPH_POLICY))
    assert found == {"dense_ring": set(range(1, 9))}


def test_camouflage_on_popular_honest_bargains_hides_neither_the_ring_nor_flags_the_popular() -> (
    None
):
    rng = random.Random(2)
    h = History()
    honest_background(h, rng)
    popular = [1000, 1001, 1002]
    for star in popular:  # popular honest bargains: many helpers each
        for m in rng.sample(range(1003, 1400), 40):
            add(h, EventType.HELP, m, T0, target=f"bargain:{star}", other=star)
    ring(h, range(1, 11), rng)
    for m in range(1, 11):  # the ring's members also help every popular bargain
        for star in popular:
            add(h, EventType.HELP, m, T0, target=f"bargain:{star}", other=star)
    found = kinds(graph.analyse(h, T0 + timedelta(days=30)))
    assert found.get("dense_ring") == set(range(1, 11))
    assert not set(popular) & set().union(*found.values())


def test_an_honest_neighbourhood_yields_no_finding() -> None:
    h = History()
    honest_background(h, random.Random(3), n=800)
    assert graph.analyse(h, T0 + timedelta(days=30)) == []


def test_accounts_acting_in_lockstep_on_several_targets_are_a_group() -> None:
    h = History()
    for target in range(3):  # six accounts help three bargains, each within a minute
        at = T0 + timedelta(days=target)
        for m in range(1, 7):
            add(
                h,
                EventType.HELP,
                m,
                at + timedelta(seconds=10 * m),
                target=f"bargain:{target}",
                other=50,
            )
    # Six others help one bargain together once: a chat group's evening, not a pattern.
    for m in range(11, 17):
        add(h, EventType.HELP, m, T0 + timedelta(seconds=10 * m), target="bargain:9", other=60)
    found = graph.lockstep(h, graph.DEFAULT_GRAPH_POLICY)
    assert [set(f.members) for f in found] == [set(range(1, 7))]
    assert found[0].reasons[0].code == "lockstep"
    # Their owner is the beneficiary.
    helped = graph.beneficiaries(h, graph.DEFAULT_GRAPH_POLICY, set(range(1, 7)))
    assert [f.members for f in helped] == [(50,)]


def test_invitees_who_place_one_minimal_order_and_go_quiet_make_an_invite_farm() -> None:
    h = History()
    for m in range(10, 18):  # the farm's invitees
        add(h, EventType.INVITE, m, T0, other=1)
        add(h, EventType.ORDER, m, T0 + timedelta(minutes=5), amount_fen=100)
    for m in range(30, 50):  # an honest leader: invitees who keep buying
        add(h, EventType.INVITE, m, T0, other=2)
        for d in range(3):
            add(h, EventType.ORDER, m, T0 + timedelta(days=d), amount_fen=2590)
    for m in range(50, 53):  # and a few who tried once
        add(h, EventType.INVITE, m, T0, other=2)
        add(h, EventType.ORDER, m, T0, amount_fen=500)
    early = graph.invite_farms(h, graph.DEFAULT_GRAPH_POLICY, T0 + timedelta(days=1))
    assert early == []  # not quiet long enough yet
    found = graph.invite_farms(h, graph.DEFAULT_GRAPH_POLICY, T0 + timedelta(days=4))
    assert [set(f.members) for f in found] == [{1, *range(10, 18)}]
    assert found[0].reasons[0].text() == (
        "8 invitees placed one minimal order and went quiet (of 8 invited)"
    )


def test_a_fingerprint_names_the_evidence_not_its_order() -> None:
    a = graph.Finding("dense_ring", (3, 1, 2), ())
    b = graph.Finding("dense_ring", (1, 2, 3), ())
    c = graph.Finding("dense_ring", (1, 2, 3, 4), ())
    assert a.fingerprint == b.fingerprint != c.fingerprint
