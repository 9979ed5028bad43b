"""Messages beyond the inbox: a member's preferences (which kinds of message reach which
channel, quiet hours), the WeChat subscription authorisations they granted, and one
delivery per notification and channel, sent by the worker with retries.

* :func:`enqueue` runs in the inbox's outbox handler (``service.deliver``): for each new
  notification whose kind the member routed to a channel, one ``channel_deliveries`` row
  (unique per notification and channel: a redelivered event adds nothing). A text message
  inside the member's quiet hours is due when they end, unless it is the pickup-day
  reminder and the member lets it through at night.
* :func:`send_due` (the worker) claims due deliveries with a lease, reads the address then
  (the phone, the openid, the e-mail; never stored on the delivery), sends through the
  configured provider, and records sent, skipped (no address, template or authorisation),
  a retry after a backoff, or failed after the last attempt.
* A WeChat message takes one of the member's authorisations for its template when it is
  claimed: a guarded decrement that never goes below zero, so two sends racing for the
  last one send one message; a delivery that finally fails gives its authorisation back.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tuangou.accounts import service as accounts
from tuangou.core import clock
from tuangou.core.db import is_sqlite, unit_of_work, upsert_insert
from tuangou.core.errors import DomainError, InvalidInput
from tuangou.notifications import email as email_channel
from tuangou.notifications import rules, sms, wechat_subscribe
from tuangou.notifications.config import channel_settings
from tuangou.notifications.errors import NotificationErrorCode
from tuangou.notifications.models import (
    ChannelDelivery,
    Notification,
    NotifyPreference,
    WechatSubscription,
)

log = logging.getLogger("tuangou.channels")


class PreferencesInvalid(InvalidInput):
    code: ClassVar[str] = NotificationErrorCode.PREFERENCES_INVALID
    title = "These notification settings are not valid"


class ChannelNotAvailable(InvalidInput):
    code: ClassVar[str] = NotificationErrorCode.CHANNEL_NOT_AVAILABLE
    title = "This channel is not available to this account"


class SmsNotSent(DomainError):
    code: ClassVar[str] = NotificationErrorCode.SMS_NOT_SENT
    status = 502
    title = "The text message could not be sent; try again shortly"


def kinds() -> tuple[str, ...]:
    """The kinds of message a member may route (every kind the inbox has)."""
    from tuangou.notifications import service

    return service.TOPICS


# ---------------------------------------------------------------- preferences


@dataclass(frozen=True)
class Preferences:
    user_id: int
    routes: dict[str, list[str]]
    quiet_start: str
    quiet_end: str
    pickup_at_night: bool
    email: str | None
    wechat_bound: bool
    phone_masked: str
    channels: tuple[str, ...]  # the channels this account may choose
    subscriptions: dict[str, int] = field(default_factory=dict)  # template -> remaining


def available_channels(role: str) -> tuple[str, ...]:
    if role in rules.EMAIL_ROLES:
        return rules.CHANNELS
    return (rules.SMS, rules.WECHAT)


def get_preferences(session: Session, user_id: int) -> Preferences:
    user = accounts.get_user(session, user_id)
    row = session.get(NotifyPreference, user_id)
    start, end = rules.DEFAULT_QUIET
    return Preferences(
        user_id=user_id,
        routes={k: list(v) for k, v in (row.routes if row else {}).items()},
        quiet_start=row.quiet_start if row else start,
        quiet_end=row.quiet_end if row else end,
        pickup_at_night=bool(row and row.pickup_at_night),
        email=row.email if row else None,
        wechat_bound=bool(row and row.wechat_openid),
        phone_masked=rules.mask_phone(user.phone),
        channels=available_channels(user.role),
        subscriptions=remaining_subscriptions(session, user_id),
    )


def _checked_time(value: str, name: str) -> str:
    try:
        parsed = rules.parse_hhmm(value)
    except ValueError:
        raise PreferencesInvalid("Write the time as HH:MM, like 22:00", field=name) from None
    return parsed.strftime("%H:%M")


def set_preferences(
    session: Session,
    user_id: int,
    *,
    routes: Mapping[str, Iterable[str]],
    quiet_start: str,
    quiet_end: str,
    pickup_at_night: bool,
    email: str | None = None,
) -> Preferences:
    """Replace the member's preferences; a refusal changes nothing."""
    user = accounts.get_user(session, user_id)
    clean = {k: sorted(set(v), key=rules.CHANNELS.index) for k, v in routes.items() if v}
    problems = rules.routes_valid({k: list(v) for k, v in routes.items()}, kinds())
    if problems:
        detail = "; ".join(problems)
        raise PreferencesInvalid(detail, field="routes")
    allowed = available_channels(user.role)
    for channels in clean.values():
        for channel in channels:
            if channel not in allowed:
                raise ChannelNotAvailable(
                    f"{channel} is not available to this account", field="routes"
                )
    start = _checked_time(quiet_start, "quiet_start")
    end = _checked_time(quiet_end, "quiet_end")
    address = (email or "").strip() or None
    if address is not None:
        if rules.EMAIL not in allowed:
            raise ChannelNotAvailable("e-mail is for operators and suppliers", field="email")
        local, at, domain = address.partition("@")
        if not local or not at or "." not in domain or len(address) > 200 or " " in address:
            raise PreferencesInvalid("This is not an e-mail address", field="email")
    if any(rules.EMAIL in c for c in clean.values()) and address is None:
        raise PreferencesInvalid("Give the address e-mails go to", field="email")
    now = clock.now()
    values = {
        "routes": clean,
        "quiet_start": start,
        "quiet_end": end,
        "pickup_at_night": bool(pickup_at_night),
        "email": address,
        "updated_at": now,
    }
    session.execute(
        upsert_insert(session)(NotifyPreference)
        .values(user_id=user_id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )
    session.expire_all()
    return get_preferences(session, user_id)


# ---------------------------------------------------------------- WeChat authorisations


def record_subscriptions(
    session: Session, user_id: int, *, openid: str, results: Mapping[str, str]
) -> dict[str, int]:
    """What ``wx.requestSubscribeMessage`` answered the member's mini-program: each template
    "accept"ed adds one authorisation (one message); "reject", "ban" and "filter" add none.
    Only the configured templates count. Returns the member's remaining authorisations."""
    openid = openid.strip()
    if not openid or len(openid) > 64:
        raise PreferencesInvalid("The mini-program's openid is missing", field="openid")
    known = {
        t.id
        for kind in channel_settings().wechat_templates
        if (t := wechat_subscribe.template_for(kind)) is not None
    }
    unknown = sorted(t for t in results if t not in known)
    if unknown:
        raise PreferencesInvalid(
            f"not a template of this platform: {', '.join(unknown)[:200]}", field="results"
        )
    now = clock.now()
    insert = upsert_insert(session)
    session.execute(
        insert(NotifyPreference)
        .values(
            user_id=user_id,
            routes={},
            quiet_start=rules.DEFAULT_QUIET[0],
            quiet_end=rules.DEFAULT_QUIET[1],
            pickup_at_night=False,
            wechat_openid=openid,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["user_id"], set_={"wechat_openid": openid, "updated_at": now}
        )
    )
    for template_id, answer in sorted(results.items()):
        if answer != "accept":
            continue
        statement = insert(WechatSubscription).values(
            user_id=user_id, template_id=template_id, remaining=1, updated_at=now
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "template_id"],
                set_={"remaining": WechatSubscription.remaining + 1, "updated_at": now},
            )
        )
    return remaining_subscriptions(session, user_id)


def remaining_subscriptions(session: Session, user_id: int) -> dict[str, int]:
    return {
        t: int(n)
        for t, n in session.execute(
            select(WechatSubscription.template_id, WechatSubscription.remaining)
            .where(WechatSubscription.user_id == user_id)
            .order_by(WechatSubscription.template_id)
        )
    }


def consume_subscription(session: Session, user_id: int, template_id: str) -> bool:
    """Take one authorisation, if one is left: a guarded decrement (``remaining > 0`` in
    the UPDATE's own WHERE), so two senders never both take the last one."""
    taken = session.execute(
        update(WechatSubscription)
        .where(
            WechatSubscription.user_id == user_id,
            WechatSubscription.template_id == template_id,
            WechatSubscription.remaining > 0,
        )
        .values(remaining=WechatSubscription.remaining - 1, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(taken.rowcount) == 1  # type: ignore[attr-defined]


def _give_back(session: Session, user_id: int, template_id: str) -> None:
    session.execute(
        update(WechatSubscription)
        .where(WechatSubscription.user_id == user_id, WechatSubscription.template_id == template_id)
        .values(remaining=WechatSubscription.remaining + 1, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- deliveries


def _sms_due(pref: NotifyPreference, kind: str, at: datetime) -> datetime:
    """When a text message may go at ``at`` (naive UTC): then, or the end of quiet hours."""
    try:
        start, end = rules.parse_hhmm(pref.quiet_start), rules.parse_hhmm(pref.quiet_end)
    except ValueError:
        start, end = (rules.parse_hhmm(t) for t in rules.DEFAULT_QUIET)
    later = rules.sms_not_before(
        clock.to_local(at),
        kind=kind,
        quiet_start=start,
        quiet_end_at=end,
        pickup_at_night=pref.pickup_at_night,
    )
    if later is None:
        return at
    return clock.as_utc(later).replace(tzinfo=None)


def enqueue(session: Session, event_key: str, user_ids: Iterable[int], kind: str) -> int:
    """The channel deliveries of the notifications of ``event_key`` for ``user_ids``, by each
    member's routes; one per notification and channel, whatever runs it again."""
    users = list(dict.fromkeys(user_ids))
    if not users:
        return 0
    prefs = {
        p.user_id: p
        for p in session.scalars(
            select(NotifyPreference).where(NotifyPreference.user_id.in_(users))
        )
    }
    wanted = {
        uid: [c for c in (p.routes or {}).get(kind, []) if c in rules.CHANNELS]
        for uid, p in prefs.items()
    }
    wanted = {uid: chans for uid, chans in wanted.items() if chans}
    if not wanted:
        return 0
    now = clock.now()
    rows = []
    for notification_id, uid in session.execute(
        select(Notification.id, Notification.user_id).where(
            Notification.event_key == event_key, Notification.user_id.in_(list(wanted))
        )
    ):
        for channel in wanted[uid]:
            due = _sms_due(prefs[uid], kind, now) if channel == rules.SMS else now
            rows.append(
                {
                    "notification_id": notification_id,
                    "user_id": uid,
                    "channel": channel,
                    "kind": kind,
                    "status": rules.QUEUED,
                    "attempts": 0,
                    "next_at": due,
                    "consumed": False,
                    "created_at": now,
                }
            )
    if not rows:
        return 0
    session.execute(
        upsert_insert(session)(ChannelDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["notification_id", "channel"])
    )
    return len(rows)


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    channel: str
    kind: str
    address: str
    number: int
    values: dict[str, Any]
    template: Any  # sms.Template | wechat_subscribe.WechatTemplate | None (e-mail)


def _values(session: Session, notification_id: int) -> dict[str, Any]:
    from tuangou.notifications import service

    note = session.get(Notification, notification_id)
    if note is None:
        return {}
    title, body = service.render(note.kind, note.data or {}, "zh-CN")
    values: dict[str, Any] = {
        k: v for k, v in (note.data or {}).items() if isinstance(v, str | int | float)
    }
    values.update(title=title, body=body, subject=note.subject or title)
    return values


def _skip(delivery: ChannelDelivery, reason: str) -> None:
    delivery.status = rules.SKIPPED
    delivery.error = reason
    delivery.next_at = None
    delivery.lease_until = None
    delivery.lease_token = None
    delivery.sent_at = None
    log.info("%s message %s skipped: %s", delivery.channel, delivery.id, reason)


def _prepare(session: Session, d: ChannelDelivery) -> _Job | None:
    """What sending ``d`` needs, read now; None when it is skipped instead."""
    settings = channel_settings()
    pref = session.get(NotifyPreference, d.user_id)
    user = accounts.get_user(session, d.user_id)
    template: Any = None
    if d.channel == rules.SMS:
        address = user.phone
        template = sms.template_for(d.kind, settings)
        if template is None and settings.sms_sender != "log":
            _skip(d, "no SMS template for this kind of message")
            return None
        template = template or sms.Template(d.kind, ("subject",))
    elif d.channel == rules.WECHAT:
        address = (pref.wechat_openid if pref else None) or ""
        template = wechat_subscribe.template_for(d.kind, settings)
        if template is None:
            _skip(d, "no WeChat template for this kind of message")
            return None
        if not address:
            _skip(d, "the member's mini-program is not bound")
            return None
        if not d.consumed:
            if not consume_subscription(session, d.user_id, template.id):
                _skip(d, "no subscription authorisation left")
                return None
            d.consumed = True
    else:
        address = (pref.email if pref else None) or ""
        if not address or user.role not in rules.EMAIL_ROLES:
            _skip(d, "no e-mail address")
            return None
    return _Job(
        delivery_id=d.id,
        channel=d.channel,
        kind=d.kind,
        address=address,
        number=d.attempts + 1,
        values=_values(session, d.notification_id),
        template=template,
    )


def _claim(limit: int, token: str) -> list[_Job]:
    now = clock.now()
    free = or_(ChannelDelivery.lease_until.is_(None), ChannelDelivery.lease_until < now)
    query = (
        select(ChannelDelivery.id)
        .where(ChannelDelivery.status == rules.QUEUED, ChannelDelivery.next_at <= now, free)
        .order_by(ChannelDelivery.next_at, ChannelDelivery.id)
        .limit(limit)
    )
    with unit_of_work(readonly=True) as session:  # most rounds find nothing: no write lock
        if session.scalar(query.limit(1)) is None:
            return []
    jobs: list[_Job] = []
    with unit_of_work() as session:
        if not is_sqlite():
            query = query.with_for_update(skip_locked=True)
        for delivery_id in list(session.scalars(query)):
            won = session.execute(
                update(ChannelDelivery)
                .where(
                    ChannelDelivery.id == delivery_id,
                    ChannelDelivery.status == rules.QUEUED,
                    free,
                )
                .values(lease_until=now + rules.LEASE, lease_token=token)
                .execution_options(synchronize_session=False)
            )
            if int(won.rowcount) != 1:  # type: ignore[attr-defined]
                continue
            d = session.get(ChannelDelivery, delivery_id, populate_existing=True)
            assert d is not None
            job = _prepare(session, d)
            if job is not None:
                jobs.append(job)
    return jobs


@dataclass(frozen=True)
class _Outcome:
    provider_id: str | None = None
    error: str | None = None
    retry: bool = False
    unauthorised: bool = False


def _send(job: _Job) -> _Outcome:
    settings = channel_settings()
    shown = rules.mask_address(job.channel, job.address)
    try:
        if job.channel == rules.SMS:
            params = {name: str(job.values.get(name, "")) for name in job.template.params}
            message_id = sms.provider(settings).send(job.address, job.template, params)
        elif job.channel == rules.WECHAT:
            data = wechat_subscribe.message_data(job.template, job.values)
            message_id = wechat_subscribe.sender(settings).send(job.address, job.template, data)
        else:
            subject = str(job.values.get("title", ""))
            about = str(job.values.get("subject", ""))
            if about and about != subject:
                subject = f"{subject} · {about}"
            message_id = email_channel.sender(settings).send(
                job.address, subject, str(job.values.get("body", ""))
            )
    except (sms.SmsFailed, email_channel.EmailFailed) as exc:
        log.warning("%s to %s failed: %s", job.channel, shown, exc)
        return _Outcome(error=str(exc)[:500], retry=exc.retry)
    except wechat_subscribe.WechatFailed as exc:
        log.warning("wechat to %s failed: %s", shown, exc)
        return _Outcome(error=str(exc)[:500], retry=exc.retry, unauthorised=exc.unauthorised)
    except Exception as exc:  # a provider's surprise must not stop the others
        log.exception("%s to %s failed", job.channel, shown)
        return _Outcome(error=f"{type(exc).__name__}"[:500], retry=True)
    log.info("%s %s sent to %s", job.channel, job.kind, shown)
    return _Outcome(provider_id=message_id[:100])


def _record(job: _Job, token: str, outcome: _Outcome) -> None:
    now = clock.now()
    max_attempts = channel_settings().channel_max_attempts
    with unit_of_work() as session:
        d = session.get(ChannelDelivery, job.delivery_id, populate_existing=True)
        if d is None or d.lease_token != token:
            return  # another worker took it over after the lease ran out
        d.attempts = job.number
        d.lease_until = None
        d.lease_token = None
        d.error = outcome.error
        if outcome.error is None:
            d.status, d.sent_at, d.next_at, d.provider_id = (
                rules.SENT,
                now,
                None,
                outcome.provider_id,
            )
            return
        if outcome.unauthorised:
            # WeChat knows of no authorisation: the count here was ahead of it.
            d.status, d.next_at = rules.SKIPPED, None
            if isinstance(job.template, wechat_subscribe.WechatTemplate):
                session.execute(
                    update(WechatSubscription)
                    .where(
                        WechatSubscription.user_id == d.user_id,
                        WechatSubscription.template_id == job.template.id,
                    )
                    .values(remaining=0, updated_at=now)
                )
            return
        if outcome.retry and job.number < max_attempts:
            due = now + rules.retry_delay(job.number)
            if d.channel == rules.SMS:
                pref = session.get(NotifyPreference, d.user_id)
                if pref is not None:
                    due = _sms_due(pref, d.kind, due)
            d.status, d.next_at = rules.QUEUED, due
            return
        d.status, d.next_at = rules.FAILED, None
        if d.consumed and isinstance(job.template, wechat_subscribe.WechatTemplate):
            _give_back(session, d.user_id, job.template.id)
            d.consumed = False


def send_due(limit: int = 20) -> int:
    """Send the due deliveries this worker can claim; returns how many it handled."""
    token = secrets.token_hex(16)
    jobs = _claim(limit, token)
    for job in jobs:
        _record(job, token, _send(job))
    return len(jobs)


@dataclass(frozen=True)
class DeliveryView:
    id: int
    channel: str
    kind: str
    status: str
    attempts: int
    next_at: datetime | None
    sent_at: datetime | None
    error: str | None


def recent_deliveries(session: Session, user_id: int, limit: int = 20) -> list[DeliveryView]:
    return [
        DeliveryView(d.id, d.channel, d.kind, d.status, d.attempts, d.next_at, d.sent_at, d.error)
        for d in session.scalars(
            select(ChannelDelivery)
            .where(ChannelDelivery.user_id == user_id)
            .order_by(ChannelDelivery.id.desc())
            .limit(limit)
        )
    ]


def send_login_code(phone: str, code: str) -> None:
    """A log-in code through the SMS provider (``accounts.sms`` calls it, by wiring)."""
    try:
        sms.send_login_code(phone, code)
    except sms.SmsFailed as exc:
        log.warning("log-in code to %s not sent: %s", rules.mask_phone(phone), exc)
        raise SmsNotSent() from None


def send_test(channel: str, to: str) -> str:
    """One test message on ``channel`` to ``to`` (the CLI); returns the provider's id."""
    settings = channel_settings()
    if channel == rules.SMS:
        template = sms.template_for("test", settings) or sms.template_for(sms.LOGIN_CODE, settings)
        template = template or sms.Template("test", ("code",))
        return sms.provider(settings).send(to, template, {"code": "123456"})
    if channel == rules.EMAIL:
        return email_channel.sender(settings).send(to, "tuangou test", "A test message.")
    if channel == rules.WECHAT:
        found = next(
            (t for k in settings.wechat_templates if (t := wechat_subscribe.template_for(k))),
            None,
        )
        if found is None:
            raise ValueError("no WeChat template is configured")
        data = wechat_subscribe.message_data(found, {"title": "test", "subject": "test"})
        return wechat_subscribe.sender(settings).send(to, found, data)
    raise ValueError(f"unknown channel {channel!r}")
