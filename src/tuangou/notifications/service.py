"""The member's inbox, fed from the outbox (invariant 7): one message per event and recipient,
naming what it is about and linking to it (``rules``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tuangou.bargains import service as bargains
from tuangou.core import clock, money, paging
from tuangou.core.db import upsert_insert
from tuangou.core.errors import DomainError
from tuangou.core.models import OutboxEvent
from tuangou.events import service as events
from tuangou.flashsales import service as flash
from tuangou.notifications import channels, rules
from tuangou.notifications.models import (
    ChannelDelivery,
    Notification,
    NotifyPreference,
    WechatSubscription,
)
from tuangou.orders import service as orders
from tuangou.pools import service as pools
from tuangou.teams import service as teams

# kind -> (zh-CN title, en title, zh body, en body); bodies are str.format templates over data.
TEXTS: dict[str, tuple[str, str, str, str]] = {
    "wave.confirmed": (
        "已成团",
        "Formed",
        "{items_zh}已成团, 预计 {delivery_date} 送达自提点。{refund_note}",
        "Confirmed{items_en}; expected at your pickup point on {delivery_date}. {refund_note_en}",
    ),
    "wave.refunded": (
        "已退款",
        "Refunded",
        "未达成团门槛, 没有成团的商品。{refund_note}",
        "Below the minimum: nothing in this order was confirmed. {refund_note_en}",
    ),
    "pickup.arrived": (
        "待提货",
        "Ready for pickup",
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
    # Referral (分销): an invitee joined, commission became withdrawable, a refund took some back.
    "referral.joined": (
        "新邀请",
        "New invitee",
        "一位邻居通过您的邀请注册了。",
        "A neighbour signed up with your invite.",
    ),
    "referral.available": (
        "推广佣金可提现",
        "Referral commission available",
        "订单 {order_id} 的推广佣金 {amount} 已可提现。",
        "The referral commission of {amount} on order {order_id} can now be withdrawn.",
    ),
    "referral.reversed": (
        "推广佣金已退回",
        "Referral commission reversed",
        "订单 {order_id} 售后退款, 推广佣金退回 {amount}。",
        "Order {order_id} was refunded after sale: {amount} of referral commission went back.",
    ),
    "team.formed": (
        "已成团",
        "Formed",
        "您参加的拼团已成团 ({paid_count}人)。",
        "Your team has formed ({paid_count} members).",
    ),
    "team.settled": (
        "拼团成功",
        "Team settled",
        "成交价 {final_price}/件。{refund_note}",
        "Final price {final_price} per unit. {refund_note_en}",
    ),
    "team.failed": (
        "未成团",
        "Did not form",
        "未在截止时间前成团。{refund_note}",
        "The team did not form in time. {refund_note_en}",
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
        "已取消",
        "Cancelled",
        "订单 {order_id} 未支付, 已取消。",
        "Order {order_id} was not paid and is cancelled.",
    ),
    "order.shipped": (
        "已发货",
        "Shipped",
        "订单 {order_id} 已发货: {carrier} {tracking_no}。",
        "Order {order_id} shipped: {carrier} {tracking_no}.",
    ),
    "order.completed": (
        "已完成",
        "Completed",
        "订单 {order_id} 已完成, 感谢支持!",
        "Order {order_id} is complete. Thank you!",
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
        "已同意",
        "Accepted",
        "订单 {order_id} 的售后申请已同意, {amount} 将原路退回。",
        "Your after-sale case on order {order_id} was accepted; {amount} will be refunded.",
    ),
    "aftersale.rejected": (
        "已驳回",
        "Rejected",
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
    "leader.invited": (
        "子团长邀请",
        "Sub-leader invitation",
        "团长 {recruiter} 邀请您成为其子团长: 接受后, 您每笔销售的一部分 (团长奖励) 归对方。"
        "请在 {days} 天内到「我的社群」接受或拒绝。",
        "Leader {recruiter} invites you to become their sub-leader: if you accept, they earn an"
        " override on your sales. Accept or decline within {days} days under My communities.",
    ),
    "leader.invitation_accepted": (
        "子团长邀请已接受",
        "Invitation accepted",
        "{sub_leader} 已接受邀请, 成为您的子团长。",
        "{sub_leader} accepted your invitation and is now your sub-leader.",
    ),
    "leader.invitation_declined": (
        "子团长邀请被拒绝",
        "Invitation declined",
        "{sub_leader} 拒绝了您的子团长邀请。",
        "{sub_leader} declined your sub-leader invitation.",
    ),
    "leader.sub_leader_left": (
        "子团长已退出",
        "A sub-leader left",
        "{sub_leader} 已退出您的团队; 此后的销售不再有团长奖励。",
        "{sub_leader} left your team; their sales from now on earn you no override.",
    ),
    "leader.link_ended": (
        "子团长关系已解除",
        "Sub-leader link ended",
        "平台已解除子团长关系: {reason}。此后的销售不再有团长奖励。",
        "The platform ended a sub-leader link: {reason}. Sales from now on earn no override.",
    ),
    # Community events (活动报名).
    "event.signed_up": (
        "报名成功",
        "Signed up",
        "「{title}」报名成功, 签到码在活动页。",
        "You are signed up for “{title}”; your check-in code is on the event page.",
    ),
    "event.promoted": (
        "候补转正",
        "Off the waitlist",
        "「{title}」有空位了, 您已从候补转为报名。{pay_note}",
        "A seat of “{title}” came free and is yours now. {pay_note_en}",
    ),
    "event.reminder": (
        "活动提醒",
        "Event reminder",
        "「{title}」将于 {starts_local} 开始, 地点: {place}。请带好签到码。",
        "“{title}” starts at {starts_local}, at {place}. Bring your check-in code.",
    ),
    "event.cancelled": (
        "活动已取消",
        "Event cancelled",
        "「{title}」已被团长取消。已付费的报名将全额退款。",
        "“{title}” was cancelled by the leader. Paid sign-ups are refunded in full.",
    ),
    # Moderation (the moderation domain emits these; the reason is the moderator's words).
    "moderation.hidden": (
        "你的内容已被隐藏",
        "Your content was hidden",
        "你发布的内容已被隐藏: {reason}",
        "Your content was hidden: {reason}",
    ),
    "moderation.restored": (
        "你的内容已恢复",
        "Your content was restored",
        "你发布的内容已恢复显示: {reason}",
        "Your content is shown again: {reason}",
    ),
    "moderation.muted": (
        "你已被禁言",
        "You are muted",
        "你在本群被禁言至 {until_local}: {reason}",
        "You are muted in this community until {until_local}: {reason}",
    ),
    # Posts.
    "post.replied": (
        "有人回复了您的帖子",
        "New reply to your post",
        "{replier}: {excerpt}",
        "{replier}: {excerpt}",
    ),
    "review.replied": (
        "评价有回复",
        "Your review was answered",
        "您对「{item}」的评价收到了公开回复, 点开订单即可查看。",
        "Your review of {item} was answered publicly; open the order to read it.",
    ),
    # Points (积分): a month before year end, what of a member's points expires at it.
    "points.expiring": (
        "积分即将过期",
        "Points expiring",
        "您有 {points} 积分将于 {on} 后过期, 请尽快使用。",
        "{points} of your points expire after {on}; use them before then.",
    ),
    # Tasks and achievements: a weekly task completed, an achievement reached.
    "achievement.task_done": (
        "任务完成",
        "Task completed",
        "本周任务「{title}」已完成, 获得 {points} 积分{badge_note}。",
        "You completed this week's task “{title_en}”: {points} points{badge_note_en}.",
    ),
    "achievement.earned": (
        "获得成就",
        "Achievement reached",
        "恭喜达成成就「{title}」, 获得 {points} 积分和徽章「{badge}」。",
        "You reached “{title_en}”: {points} points and the badge “{badge_en}”.",
    ),
    # Co-creation (共创): a proposal reached its threshold (to the leader); it became a
    # wave (to its voters, first).
    "proposal.ready": (
        "共创提案已达标",
        "Proposal ready",
        "「{title}」已有 {votes} 票、认购 {units} 份, 可以转为预售团期。",
        "“{title}” has {votes} votes and {units} units pledged: it can become a pre-sale wave.",
    ),
    # Leaderboards: the leader awarded the month's most helpful neighbours.
    "leaderboard.awarded": (
        "您获得了团长的月度奖励",
        "The leader's monthly award",
        "您是「{community}」{month} 月最热心的邻居之一, 团长奖励您 {points} 积分。",
        "You are one of {community}'s most helpful neighbours of {month}: the leader "
        "awards you {points} points.",
    ),
    "proposal.converted": (
        "您支持的提案开团了",
        "Your proposal is on sale",
        "「{title}」已开团。{early_until} 前仅投票的邻居可以下单, 之后向全社群开放。",
        "“{title}” is now a pre-sale wave. Until {early_until} only its voters may order; "
        "then it opens to the whole community.",
    ),
    # ... to its proposer and its community's leader, when someone else (the leader, or a
    # supplier the operator linked) turned it into a wave.
    "proposal.published": (
        "共创提案已开团",
        "A proposal became a wave",
        "「{title}」已转为预售团期, 投票的邻居可优先购买。",
        "“{title}” is now a pre-sale wave; its voters may order first.",
    ),
}

REASONS_ZH = {
    "price_protection": "价格保护, 退差价",
    "team_failed": "拼团失败",
    "left_team": "退出拼团",
    "cancelled_by_member": "截单前取消订单",
    "opener_free": "团长免单",
    "not_shipped": "供应商未按时发货",
    "late_payment": "订单关闭后到账",
    "manual": "人工退款",
    "moq_not_met": "未达成团门槛",
    "not_delivered": "商品未送达自提点",
    "not_picked_up": "超时未提货",
    "after_sale": "售后退款",
    "event_cancelled": "活动已取消",
}


TOPICS = tuple(TEXTS)  # the events that reach the inbox

# Message channels beside the inbox (``channels``): what the API, the pages, the CLI and the
# log-in code sender use.
Preferences = channels.Preferences
PreferencesInvalid = channels.PreferencesInvalid
ChannelNotAvailable = channels.ChannelNotAvailable
SmsNotSent = channels.SmsNotSent
get_preferences = channels.get_preferences
set_preferences = channels.set_preferences
record_subscriptions = channels.record_subscriptions
recent_deliveries = channels.recent_deliveries
send_login_code = channels.send_login_code
send_test = channels.send_test
send_channels_due = channels.send_due


def deliver(session: Session, event: OutboxEvent) -> None:
    """An outbox event into its recipients' inboxes: one message per event and recipient
    (``rules.event_key``), however often and by whichever path the event comes; nothing
    for an event that another message of the same moment tells."""
    payload = dict(event.payload)
    user_ids = payload.pop("user_ids", [])
    key = rules.event_key(event.topic, payload, event.id)
    if not user_ids or key is None:
        return
    subject, extra = _about(session, payload)
    data = {**payload, **extra}
    rows = [
        {
            "user_id": uid,
            "event_id": event.id,
            "event_key": key,
            "kind": event.topic,
            "title": TEXTS[event.topic][0],
            "body": render(event.topic, data, "zh-CN")[1],
            "subject": subject[:200],
            "data": data,
            "created_at": event.created_at,
        }
        for uid in dict.fromkeys(user_ids)
    ]
    # Either unique constraint (the event for its recipient, the outbox event redelivered)
    # drops the row: ON CONFLICT DO NOTHING without a target, on both backends.
    session.execute(upsert_insert(session)(Notification).values(rows).on_conflict_do_nothing())
    # ... and to the channels each recipient chose for this kind (SMS, WeChat, e-mail).
    channels.enqueue(session, key, user_ids, event.topic)


def _about(session: Session, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What an event is about, in words (the product's campaign, the wave), and the ids a
    message links with that its payload lacks (a team order's team)."""
    extra: dict[str, Any] = {}
    order_id, team_id, wave_id = (
        payload.get("order_id"),
        payload.get("team_id"),
        payload.get("wave_id"),
    )
    try:
        if isinstance(order_id, int):
            found = orders.get_many(session, [order_id])
            if found:
                order = found[0]
                if order.kind == "wave":  # the kind the composition root registers
                    return pools.get_wave(session, order.campaign_id).title, extra
                if order.kind == flash.KIND_NAME:
                    return flash.get_slot(session, order.campaign_id).title, extra
                if order.kind == bargains.KIND_NAME:
                    return bargains.get_campaign(session, order.campaign_id).title, extra
                if order.kind == events.KIND_NAME:
                    extra["event_id"] = order.campaign_id
                    return events.get_event(session, order.campaign_id).title, extra
                facts = orders.facts(session, [order]).get(order.id, {})
                if isinstance(facts.get("team_id"), int) and "team_id" not in payload:
                    extra["team_id"] = facts["team_id"]
                return teams.get_campaign(session, order.campaign_id).title, extra
        if isinstance(team_id, int):
            team = teams.get_team(session, team_id)
            return teams.get_campaign(session, team.campaign_id).title, extra
        if isinstance(wave_id, int):
            return pools.get_wave(session, wave_id).title, extra
        if isinstance(payload.get("event_id"), int):
            return events.get_event(session, payload["event_id"]).title, extra
    except DomainError:  # gone since (never in practice: nothing is deleted)
        return "", extra
    point = payload.get("pickup_point")
    return (point if isinstance(point, str) else ""), extra


def _items(data: dict[str, Any], sep: str) -> str:
    items = data.get("items")
    if not isinstance(items, list):
        return ""
    names = [
        f"{item[0]}×{item[1]}"
        for item in items
        if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str)
    ]
    return sep.join(names)


def render(kind: str, data: dict[str, Any], lang: str) -> tuple[str, str]:
    zh_title, en_title, zh_body, en_body = TEXTS.get(kind, (kind, kind, "", ""))
    values: dict[str, Any] = {k: v for k, v in data.items()}
    for key in ("refund", "amount"):
        if isinstance(values.get(key), int):
            values[key] = money.fmt(values[key])
    if isinstance(values.get("final_unit_price"), int):
        values["final_price"] = money.fmt(values["final_unit_price"])
    values.setdefault("final_price", "")
    # A refund of nothing says nothing ("退还差价 ¥0.00" is never sent).
    refund = data.get("refund")
    told = rules.says_amount(refund)
    said = money.fmt(refund) if isinstance(refund, int) and told else ""
    values["refund_note"] = f"已退还 {said}。" if told else ""
    values["refund_note_en"] = f"{said} refunded." if told else ""
    items = _items(data, ", ")
    values["items_zh"] = f"{_items(data, '、')} " if items else ""
    values["items_en"] = f" ({items})" if items else ""
    note = str(data.get("note") or "")  # an operator's words to the member
    values["note_zh"] = f"说明: {note}" if note else ""
    values["note_en"] = f" Note: {note}" if note else ""
    _event_values(data, values)
    values["reason_zh"] = REASONS_ZH.get(str(values.get("reason", "")), values.get("reason", ""))
    try:
        if lang.startswith("en"):
            return en_title, en_body.format(**values).strip()
        return zh_title, zh_body.format(**values).strip()
    except (KeyError, IndexError):
        return (en_title if lang.startswith("en") else zh_title), ""


def _event_values(data: dict[str, Any], values: dict[str, Any]) -> None:
    """The words of an event's messages: its start in the deployment's zone, what to pay."""
    starts = data.get("starts_at")
    values["starts_local"] = ""
    if isinstance(starts, str):
        try:
            when = clock.to_local(clock.as_utc(datetime.fromisoformat(starts)))
            values["starts_local"] = when.strftime("%m-%d %H:%M")
        except ValueError:
            pass
    fee = data.get("amount") if "pay_by" in data else None
    told = rules.says_amount(fee)
    said = money.fmt(fee) if isinstance(fee, int) and told else ""
    values["pay_note"] = f"请在活动页支付 {said}, 逾期名额顺延。" if told else ""
    values["pay_note_en"] = (
        f"Pay {said} on the event page before the hold runs out." if told else ""
    )


def target(notification: Notification) -> tuple[str, int] | None:
    """What a message links to (``rules.target``): ("order", id), ("team", id)…"""
    return rules.target(notification.kind, notification.data or {})


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


def inbox_page(
    session: Session,
    user_id: int,
    *,
    unread_only: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Notification], str | None]:
    """A member's inbox, newest first, one keyset page (index ``ix_notifications_user_page``)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return paging.page(session, query, [Notification.created_at, Notification.id], cursor, limit)


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


def erase_member(session: Session, user_id: int) -> int:
    """An account being deleted: its channel preferences (with its e-mail address and WeChat
    openid), its WeChat authorisations and its message deliveries go; its inbox is kept with
    the orders it is about. Returns the rows removed."""
    removed = 0
    for model in (ChannelDelivery, WechatSubscription, NotifyPreference):
        result = session.execute(delete(model).where(model.user_id == user_id))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
