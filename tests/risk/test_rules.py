"""The per-event rules, one by one, in memory (the same rules the request path runs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tuangou.risk import rules
from tuangou.risk.engine import MemoryStore
from tuangou.risk.rules import Action, Event, EventType, Flag, FlagStatus, Reason

T0 = datetime(2026, 11, 5, 10, 0, 0)


def judge(store: MemoryStore, e: Event) -> rules.Verdict:
    verdict = rules.judge(e, store)
    store.record(e)
    return verdict


def signup(
    member: int, at: datetime, device: str, ip: str = "100.64.1.9", phone: str = ""
) -> Event:
    return Event(
        EventType.SIGNUP, at, member, device=device, ip=ip, phone=phone or f"139{member:08d}7"
    )


def test_a_quiet_signup_is_allowed() -> None:
    store = MemoryStore()
    assert judge(store, signup(1, T0, "tablet")).action == Action.ALLOW


def test_a_family_tablet_is_allowed_a_burst_of_accounts_on_one_device_held_then_blocked() -> None:
    store = MemoryStore()
    family = [judge(store, signup(m, T0 + timedelta(minutes=m), "tablet")) for m in range(1, 6)]
    assert {v.action for v in family} == {Action.ALLOW}
    farm = [judge(store, signup(m, T0 + timedelta(minutes=m), "farm")) for m in range(10, 26)]
    actions = [v.action for v in farm]
    assert actions[:6] == [Action.ALLOW] * 6
    assert actions[6] == Action.HOLD  # the 7th account within an hour
    assert actions[14] == Action.BLOCK  # the 15th
    assert farm[6].reasons[0].text() == "7 accounts signed up on one device within 1 h"


def test_accounts_on_one_device_spread_over_days_are_held_at_the_ninth() -> None:
    store = MemoryStore()
    verdicts = [judge(store, signup(m, T0 + timedelta(days=m), "phone")) for m in range(1, 10)]
    assert [v.action for v in verdicts[:8]] == [Action.ALLOW] * 8
    assert verdicts[8].action == Action.HOLD
    assert verdicts[8].reasons[0].code == "device_many"


def test_a_burst_of_new_accounts_from_one_subnet_is_challenged() -> None:
    store = MemoryStore()
    verdicts = [
        judge(store, signup(m, T0 + timedelta(seconds=20 * m), f"d{m}", ip=f"10.1.2.{m}"))
        for m in range(1, 13)
    ]
    assert [v.action for v in verdicts[:11]] == [Action.ALLOW] * 11
    assert verdicts[11].action == Action.CHALLENGE
    assert verdicts[11].reasons[0].text() == "12 new accounts from one /24 subnet within 10 min"
    # The same number spread over a day is a compound's Wi-Fi: allowed.
    calm = MemoryStore()
    spread = [
        judge(calm, signup(m, T0 + timedelta(hours=m), f"d{m}", ip=f"10.1.2.{m}"))
        for m in range(1, 13)
    ]
    assert {v.action for v in spread} == {Action.ALLOW}


def test_sequential_phone_numbers_are_a_signal_only_with_a_shared_network() -> None:
    store = MemoryStore()
    seq = [
        judge(
            store,
            signup(m, T0 + timedelta(minutes=m), f"d{m}", ip="10.9.9.1", phone=f"1300000000{m}"),
        )
        for m in range(1, 5)
    ]
    assert seq[3].action == Action.CHALLENGE
    assert seq[3].reasons[-1].code == "phone_sequence"
    # A family contract's numbers, from different networks: allowed.
    other = MemoryStore()
    apart = [
        judge(
            other,
            signup(m, T0 + timedelta(minutes=m), f"d{m}", ip=f"10.{m}.0.1", phone=f"1300000000{m}"),
        )
        for m in range(1, 5)
    ]
    assert {v.action for v in apart} == {Action.ALLOW}


def help_(helper: int, at: datetime, device: str, bargain: int = 1) -> Event:
    return Event(EventType.HELP, at, helper, target=f"bargain:{bargain}", other=99, device=device)


def test_many_helpers_within_90_s_sharing_few_devices_are_held_with_words_an_operator_reads() -> (
    None
):
    store = MemoryStore()
    verdicts = [
        judge(store, help_(m, T0 + timedelta(seconds=6 * m), f"dev{m % 2}")) for m in range(1, 15)
    ]
    assert [v.action for v in verdicts[:5]] == [Action.ALLOW] * 5
    last = verdicts[-1]
    assert last.action == Action.HOLD
    assert "14 helpers within 90 s sharing 2 devices" in last.text()
    assert set(last.members) == set(range(1, 15))  # the whole burst is under review


def test_helpers_spread_over_hours_or_on_their_own_phones_are_allowed() -> None:
    store = MemoryStore()
    slow = [judge(store, help_(m, T0 + timedelta(minutes=20 * m), "dev0")) for m in range(1, 6)]
    assert {v.action for v in slow} == {Action.ALLOW}
    own = MemoryStore()
    fast = [judge(own, help_(m, T0 + timedelta(seconds=5 * m), f"own{m}")) for m in range(1, 15)]
    assert {v.action for v in fast} == {Action.ALLOW}


def test_a_family_tablet_passed_round_is_allowed_six_helps_from_one_device_are_held() -> None:
    store = MemoryStore()
    at = T0
    verdicts = []
    for m in range(1, 7):
        at += timedelta(minutes=3)
        verdicts.append(judge(store, help_(m, at, "tablet")))
    assert [v.action for v in verdicts[:5]] == [Action.ALLOW] * 5
    assert verdicts[5].action == Action.HOLD
    assert verdicts[5].reasons[0].code == "help_device_shared"


def test_velocity_a_member_helping_25_bargains_within_an_hour_is_held() -> None:
    store = MemoryStore()
    verdicts = [
        judge(store, help_(7, T0 + timedelta(minutes=2 * b), f"own{b}", bargain=b))
        for b in range(25)
    ]
    assert verdicts[23].action == Action.ALLOW
    assert verdicts[24].action == Action.HOLD
    assert verdicts[24].reasons[0].text() == "25 help actions within 60 min"


def test_what_a_flagged_member_may_do_and_a_blocked_one_may_not() -> None:
    store = MemoryStore()
    store.flags[5] = Flag(FlagStatus.FLAGGED, "in a ring")
    act = {
        t: judge(store, Event(t, T0, 5, target="x:1", other=6)).action
        for t in (EventType.HELP, EventType.INVITE, EventType.LOGIN, EventType.ORDER)
    }
    assert act == {
        EventType.HELP: Action.BLOCK,
        EventType.INVITE: Action.BLOCK,
        EventType.LOGIN: Action.CHALLENGE,
        EventType.ORDER: Action.HOLD,
    }
    store.flags[5] = Flag(FlagStatus.BLOCKED)
    assert judge(store, Event(EventType.ORDER, T0, 5)).action == Action.BLOCK


def test_account_age_is_kept_among_the_reasons_of_a_new_account() -> None:
    store = MemoryStore()
    judge(store, signup(5, T0, "d"))
    store.flags[5] = Flag(FlagStatus.FLAGGED, "x")
    verdict = judge(store, Event(EventType.ORDER, T0 + timedelta(minutes=4), 5))
    assert Reason("new_account", within_s=240) in verdict.reasons
    assert "account only 4 min old" in verdict.text()


def test_subnets_and_the_words_in_chinese() -> None:
    assert rules.subnet_of("100.64.7.200") == "100.64.7.0/24"
    assert rules.subnet_of("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert rules.subnet_of("127.0.0.1") is None  # a proxy that forwards nothing
    assert rules.subnet_of("testclient") is None
    reason = Reason("help_burst", 14, 90, 2)
    assert reason.text("zh") == "90 秒内 14 人助力，共用 2 台设备"
