"""The member's inbox, fed from the outbox (invariant 7: duplicates dropped by event id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tuangou.core import clock, money
from tuangou.core.db import upsert_insert
from tuangou.core.models import OutboxEvent
from tuangou.notifications.models import Notification

# kind -> (zh-CN title, en title, zh body, en body); bodies are str.format templates over data.
TEXTS: dict[str, tuple[str, str, str, str]] = {
    "wave.confirmed": (
        "已成团",
        "Wave confirmed",
        "已成团, 预计 {delivery_date} 送达自提点。{refund_note}",
        "Confirmed; expected at your pickup point on {delivery_date}. {refund_note_en}",
    ),
    "pickup.arrived": (
        "已到货",
        "Arrived",
        "已到货, 提货码 {code}。请到自提点「{pickup_point}」({address}) 提货。",
        "Arrived; pickup code {code}. Collect at “{pickup_point}”, {address}.",
    ),
    "pickup.completed": (
        "已提货",
        "Picked up",
        "订单 {order_id} 已提货, 感谢支持!",
        "Order {order_id} was picked up. Thank you!",
    ),
    "commission.available": (
        "佣金可提现",
        "Commission available",
        "订单 {order_id} 的佣金 {amount} 已可提现。",
        "The commission of {amount} on order {order_id} can now be withdrawn.",
    ),
    "withdrawal.approved": (
        "提现已通过",
        "Withdrawal approved",
        "提现 {amount} 已通过, 将打款到您的账户。",
        "Your withdrawal of {amount} was approved and will be paid out.",
    ),
    "withdrawal.rejected": (
        "提现被拒绝",
        "Withdrawal rejected",
        "提现 {amount} 被拒绝: {reason}。金额已退回可提现余额。",
        "Your withdrawal of {amount} was rejected: {reason}. It is back in your balance.",
    ),
    "team.formed": (
        "已成团",
        "Team formed",
        "您参加的拼团已成团 ({paid_count}人)。",
        "Your team has formed ({paid_count} members).",
    ),
    "team.settled": (
        "拼团成功",
        "Team settled",
        "成交价 {final_price}/件, 退还差价 {refund}。",
        "Final price {final_price} per unit; {refund} refunded.",
    ),
    "team.failed": (
        "拼团失败",
        "Team failed",
        "未在截止时间前成团, 已全额退款 {refund}。",
        "The team did not form in time; {refund} refunded in full.",
    ),
    "team.opener_changed": (
        "您已成为团长",
        "You are now the opener",
        "原开团人已退出, 您成为本团的开团人。",
        "The opener left; you now lead this team.",
    ),
    "refund.created": (
        "退款已发起",
        "Refund issued",
        "订单 {order_id} 退款 {amount} ({reason_zh})。{note_zh}",
        "Order {order_id}: {amount} refunded ({reason}).{note_en}",
    ),
    "order.cancelled": (
        "订单已取消",
        "Order cancelled",
        "订单 {order_id} 未在时限内支付, 已取消。",
        "Order {order_id} was not paid in time and is cancelled.",
    ),
    "order.shipped": (
        "已发货",
        "Shipped",
        "订单 {order_id} 已发货: {carrier} {tracking_no}。",
        "Order {order_id} shipped: {carrier} {tracking_no}.",
    ),
    "order.completed": (
        "订单已完成",
        "Order completed",
        "订单 {order_id} 已完成, 货款已结算给供应商。",
        "Order {order_id} is complete; the supplier has been paid.",
    ),
    "payment.declined": (
        "支付失败",
        "Payment declined",
        "订单 {order_id} 支付未成功, 请重新支付。",
        "The payment for order {order_id} was declined; please pay again.",
    ),
    "leader.approved": (
        "团长申请已通过",
        "Leader application approved",
        "恭喜成为团长! 自提点「{pickup_point}」已开通, 现在可以创建社群了。",
        "You are now a leader. Pickup point “{pickup_point}” is open; create a community next.",
    ),
    "leader.rejected": (
        "团长申请未通过",
        "Leader application declined",
        "原因: {reason}。修改后可以重新申请。",
        "Reason: {reason}. You may change your application and apply again.",
    ),
    "leader.paused": (
        "团长资格已暂停",
        "Leader account paused",
        "原因: {reason}。暂停期间不能发布新的团购。",
        "Reason: {reason}. You cannot publish new waves while paused.",
    ),
    "leader.resumed": (
        "团长资格已恢复",
        "Leader account resumed",
        "您可以继续发布团购了。",
        "You can publish waves again.",
    ),
    "aftersale.opened": (
        "新的售后申请",
        "New after-sale case",
        "订单 {order_id} 的团员申请售后 ({kind_zh}), 金额 {amount}, 请尽快处理。",
        "A member reported a problem ({kind}) on order {order_id}, asking {amount}; decide soon.",
    ),
    "aftersale.accepted": (
        "售后已同意",
        "After-sale accepted",
        "订单 {order_id} 的售后申请已同意, {amount} 将原路退回。",
        "Your after-sale case on order {order_id} was accepted; {amount} will be refunded.",
    ),
    "aftersale.rejected": (
        "售后未通过",
        "After-sale rejected",
        "订单 {order_id} 的售后申请未通过: {reason}。如有疑问请联系团长或平台。",
        "Your after-sale case on order {order_id} was rejected: {reason}. Contact your leader"
        " or the platform if you disagree.",
    ),
    "leader.recruited": (
        "已成为子团长",
        "You are now a sub-leader",
        "团长 {recruiter} 已将您加入其团队。",
        "Leader {recruiter} has added you to their team.",
    ),
}

REASONS_ZH = {
    "price_protection": "价格保护, 退差价",
    "team_failed": "拼团失败",
    "left_team": "退出拼团",
    "opener_free": "团长免单",
    "not_shipped": "供应商未按时发货",
    "late_payment": "订单关闭后到账",
    "manual": "人工退款",
    "moq_not_met": "未达成团门槛",
    "not_delivered": "商品未送达自提点",
    "not_picked_up": "超时未提货",
    "after_sale": "售后退款",
}


_insert = upsert_insert  # the dialect's INSERT, for ON CONFLICT


TOPICS = tuple(TEXTS)  # the events that reach the inbox


def deliver(session: Session, event: OutboxEvent) -> None:
    payload = dict(event.payload)
    user_ids = payload.pop("user_ids", [])
    if not user_ids:
        return
    title = TEXTS[event.topic][0]
    rows = [
        {
            "user_id": uid,
            "event_id": event.id,
            "kind": event.topic,
            "title": title,
            "body": render(event.topic, payload, "zh-CN")[1],
            "data": payload,
            "created_at": event.created_at,
        }
        for uid in user_ids
    ]
    session.execute(
        _insert(session)(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["event_id", "user_id"])
    )


def render(kind: str, data: dict[str, Any], lang: str) -> tuple[str, str]:
    zh_title, en_title, zh_body, en_body = TEXTS.get(kind, (kind, kind, "", ""))
    values: dict[str, Any] = {k: v for k, v in data.items()}
    for key in ("refund", "amount"):
        if isinstance(values.get(key), int):
            values[key] = money.fmt(values[key])
    if isinstance(values.get("final_unit_price"), int):
        values["final_price"] = money.fmt(values["final_unit_price"])
    values.setdefault("final_price", "")
    refund = data.get("refund")
    values["refund_note"] = (
        f"退还 {money.fmt(refund)}。" if isinstance(refund, int) and refund else ""
    )
    values["refund_note_en"] = (
        f"{money.fmt(refund)} refunded." if isinstance(refund, int) and refund else ""
    )
    note = str(data.get("note") or "")  # an operator's words to the member
    values["note_zh"] = f"说明: {note}" if note else ""
    values["note_en"] = f" Note: {note}" if note else ""
    values["reason_zh"] = REASONS_ZH.get(str(values.get("reason", "")), values.get("reason", ""))
    try:
        if lang.startswith("en"):
            return en_title, en_body.format(**values)
        return zh_title, zh_body.format(**values)
    except (KeyError, IndexError):
        return (en_title if lang.startswith("en") else zh_title), ""


def inbox(
    session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50
) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query))


def unread_count(session: Session, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_read(session: Session, user_id: int, notification_id: int | None = None) -> int:
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return int(session.execute(query.values(read_at=clock.now())).rowcount)  # type: ignore[attr-defined]
