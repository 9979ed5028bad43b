"""The inbox's pure rules: which event a message tells of (one message per event and
recipient), what it links to, and that a refund of nothing says nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tuangou.notifications import rules
from tuangou.notifications.service import TEXTS, render


def test_two_emissions_of_one_event_have_one_key() -> None:
    formed = {"team_id": 7, "campaign_id": 3, "paid_count": 2}
    assert rules.event_key("team.formed", formed, "e1") == "team:7:formed"
    assert rules.event_key("team.formed", formed, "e2") == "team:7:formed"
    # A team's forming and another team's are two events.
    assert rules.event_key("team.formed", {**formed, "team_id": 8}, "e1") == "team:8:formed"


def test_an_order_settles_once_whatever_its_outcome() -> None:
    keys = {
        rules.event_key(topic, {"order_id": 5, "team_id": 1, "wave_id": 2}, topic)
        for topic in ("team.settled", "team.failed", "wave.confirmed", "wave.refunded")
    }
    assert keys == {"order:5:settled"}


def test_a_refund_told_by_its_settlement_is_no_message_of_its_own() -> None:
    for reason in ("price_protection", "opener_free", "team_failed", "moq_not_met", "after_sale"):
        payload = {"refund_id": 1, "order_id": 5, "amount": 200, "reason": reason}
        assert rules.event_key("refund.created", payload, "e") is None
    for reason in ("left_team", "manual", "not_shipped", "not_delivered", "not_picked_up"):
        payload = {"refund_id": 1, "order_id": 5, "amount": 200, "reason": reason}
        assert rules.event_key("refund.created", payload, "e") == "refund:1"


def test_a_refund_of_nothing_is_no_message() -> None:
    payload = {"refund_id": 1, "order_id": 5, "amount": 0, "reason": "manual"}
    assert rules.event_key("refund.created", payload, "e") is None


def test_a_pickup_completes_its_order_in_one_message() -> None:
    payload = {"order_id": 4, "how": "pickup"}
    assert rules.event_key("order.completed", payload, "e") is None
    assert rules.event_key("pickup.completed", {"order_id": 4}, "e") == "order:4:completed"
    # Confirmed by the member (a shipped order): the completion is the message.
    member = {"order_id": 4, "how": "member"}
    assert rules.event_key("order.completed", member, "e") == "order:4:completed"


def test_a_state_that_comes_and_goes_is_told_each_time() -> None:
    paused = {"leader_id": 3, "reason": "low credit"}
    assert rules.event_key("leader.paused", paused, "e1") != rules.event_key(
        "leader.paused", paused, "e2"
    )
    # A payload without the id its key needs is keyed by its event.
    assert rules.event_key("order.shipped", {}, "e9") == "order.shipped:e9"


def test_every_topic_of_the_inbox_has_a_key() -> None:
    for topic in TEXTS:
        payload = {
            "order_id": 1,
            "team_id": 1,
            "wave_id": 1,
            "case_id": 1,
            "refund_id": 1,
            "payment_id": 1,
            "commission_id": 1,
            "withdrawal_id": 1,
            "application_id": 1,
            "leader_id": 1,
            "amount": 100,
            "reason": "manual",
        }
        assert rules.event_key(topic, payload, "e") is not None, topic


def test_what_a_message_links_to() -> None:
    assert rules.target("team.formed", {"team_id": 7}) == ("team", 7)
    assert rules.target("team.settled", {"team_id": 7, "order_id": 9}) == ("order", 9)
    assert rules.target("wave.confirmed", {"order_id": 9, "wave_id": 2}) == ("order", 9)
    assert rules.target("aftersale.rejected", {"case_id": 3, "order_id": 9}) == ("case", 3)
    # The leader's commission is on someone else's order: not a link to that order.
    assert rules.target("commission.available", {"commission_id": 2, "order_id": 9}) == (
        "commission",
        2,
    )
    assert rules.target("leader.rejected", {"application_id": 4}) == ("application", 4)
    assert rules.target("leader.resumed", {}) == ("leader", 0)
    assert rules.target("order.shipped", {}) is None


@given(st.integers(min_value=-1000, max_value=0))
def test_no_message_says_a_refund_of_nothing(refund: int) -> None:
    assert not rules.says_amount(refund)
    for kind in ("team.settled", "team.failed", "wave.confirmed", "wave.refunded"):
        data = {"refund": refund, "final_unit_price": 1790, "delivery_date": "2026-12-08"}
        for lang in ("zh-CN", "en"):
            _, body = render(kind, data, lang)
            assert "¥0.00" not in body and "退还" not in body and "refunded" not in body, body


def test_a_refund_is_said_with_its_amount() -> None:
    _, body = render("team.settled", {"refund": 200, "final_unit_price": 1790}, "zh-CN")
    assert body == "成交价 ¥17.90/件。已退还 ¥2.00。"
    _, body = render("team.settled", {"refund": 0, "final_unit_price": 1790}, "zh-CN")
    assert body == "成交价 ¥17.90/件。"
    assert not rules.says_amount(True)  # a flag is not an amount
