"""Message channels on both backends: routing by the member's preferences, quiet hours on
the controlled clock, the pickup-day exception, WeChat authorisations consumed exactly once
under concurrent sends, retries with backoff, the log-in code through the provider, and
secrets and phone numbers kept out of the logs."""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import rows, scalar
from tuangou.accounts import service as accounts
from tuangou.accounts.sms import LogSmsSender
from tuangou.core import clock, outbox
from tuangou.core.config import reset_settings
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.notifications import channels, sms, wechat_subscribe
from tuangou.notifications import email as email_channel
from tuangou.notifications import service as notifications
from tuangou.notifications.models import ChannelDelivery

TEMPLATE = "tmpl-pickup"
WECHAT_TEMPLATES = json.dumps(
    {
        "pickup.arrived": {
            "id": TEMPLATE,
            "fields": {"thing1": "subject", "character_string2": "code"},
        },
        "order.shipped": {"id": "tmpl-shipped", "fields": {"thing1": "title"}},
    }
)
_phones = iter(range(10**6))


def _user(role: str = "member") -> tuple[int, str]:
    phone = f"139{next(_phones):08d}"
    uid = run_in_transaction(
        lambda s: accounts.create_user(s, phone=phone, password=None, nickname="邻居", role=role).id
    )
    return uid, phone


def _prefs(uid: int, routes: dict[str, list[str]], **kw: Any) -> None:
    run_in_transaction(
        lambda s: notifications.set_preferences(
            s,
            uid,
            routes=routes,
            quiet_start=kw.pop("quiet_start", "22:00"),
            quiet_end=kw.pop("quiet_end", "08:00"),
            pickup_at_night=kw.pop("pickup_at_night", False),
            **kw,
        )
    )


ORDER_IDS = iter(range(900_000, 10**7))


def _event(topic: str, *uids: int, order_id: int | None = None) -> int:
    """An event for ``uids`` through the outbox, as the domains emit it; its order id."""
    order = order_id if order_id is not None else next(ORDER_IDS)
    payload = {
        "user_ids": list(uids),
        "order_id": order,
        "code": "A1B2",
        "pickup_point": "幸福里",
        "address": "1 号",
        "carrier": "顺丰",
        "tracking_no": "SF1",
    }
    with unit_of_work() as session:
        outbox.emit(session, topic, payload)
    outbox.deliver_pending()
    return order


def _deliveries(uid: int) -> list[tuple[str, str, str, int]]:
    """(kind, channel, status, attempts) of a member's deliveries, oldest first."""
    return [
        (str(k), str(c), str(s), int(a))
        for k, c, s, a in rows(
            "SELECT kind, channel, status, attempts FROM channel_deliveries"
            " WHERE user_id = :u ORDER BY id",
            u=uid,
        )
    ]


def _at_local(hour: int, minute: int = 0) -> None:
    """Move the controlled clock to today's ``hour:minute`` in the deployment's zone."""
    today = clock.to_local(clock.now()).date()
    local = clock.to_local(clock.now()).replace(
        year=today.year, month=today.month, day=today.day, hour=hour, minute=minute, second=0
    )
    target = local.astimezone(UTC).replace(tzinfo=None)
    clock.set_offset(clock.offset() + (target - clock.now()))


@pytest.fixture
def env(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("TUANGOU_WECHAT_TEMPLATES", WECHAT_TEMPLATES)
    yield monkeypatch
    sms.set_transport(None)
    wechat_subscribe.set_transport(None)
    email_channel.set_connector(None)
    reset_settings()


@pytest.fixture
def nodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("TUANGOU_WECHAT_TEMPLATES", WECHAT_TEMPLATES)
    yield monkeypatch
    wechat_subscribe.set_transport(None)


def test_routes_choose_the_channels_and_one_delivery_per_notification(env: Any) -> None:
    _at_local(12)
    a, _ = _user()
    b, _ = _user()  # no preferences: the inbox alone
    _prefs(a, {"pickup.arrived": ["sms", "wechat"], "order.cancelled": ["wechat"]})
    order = _event("pickup.arrived", a, b)
    _event("order.shipped", a, b)  # routed nowhere
    assert _deliveries(a) == [
        ("pickup.arrived", "sms", "queued", 0),
        ("pickup.arrived", "wechat", "queued", 0),
    ]
    assert _deliveries(b) == []
    # The same event again (a second path, a replay): no second delivery.
    _event("pickup.arrived", a, b, order_id=order)
    assert len(_deliveries(a)) == 2
    assert scalar("SELECT COUNT(*) FROM notifications WHERE user_id = :u", u=b) == 2
    # Authorisations for a template this platform does not send are refused whole.
    with pytest.raises(channels.PreferencesInvalid):
        run_in_transaction(
            lambda s: notifications.record_subscriptions(
                s, b, openid="oX", results={TEMPLATE: "accept", "someone-else": "accept"}
            )
        )
    assert scalar("SELECT COUNT(*) FROM wechat_subscriptions") == 0
    assert scalar("SELECT COUNT(*) FROM notify_preferences WHERE user_id = :u", u=b) == 0


def test_a_text_message_waits_for_the_end_of_quiet_hours_but_the_pickup_day_one(
    env: Any,
) -> None:
    a, phone = _user()
    _prefs(a, {"order.shipped": ["sms"], "pickup.arrived": ["sms"]})
    _at_local(23)
    _event("order.shipped", a)
    _event("pickup.arrived", a)  # not allowed at night by this member
    morning = clock.to_local(clock.now()).replace(hour=8, minute=0, second=0, microsecond=0)
    morning += timedelta(days=1)
    with unit_of_work(readonly=True) as session:
        due = list(
            session.scalars(select(ChannelDelivery.next_at).where(ChannelDelivery.user_id == a))
        )
    assert due == [morning.astimezone(UTC).replace(tzinfo=None)] * 2
    sent_before = len(sms.LogSms.sent)
    assert channels.send_due() == 0  # nothing due at night
    clock.set_offset(clock.offset() + (due[0] - clock.now()) - timedelta(seconds=1))
    assert channels.send_due() == 0  # a second before the end
    clock.advance(timedelta(seconds=1))
    assert channels.send_due() == 2
    assert [s for _, _, s, _ in _deliveries(a)] == ["sent", "sent"]
    assert [p for p, _, _ in sms.LogSms.sent[sent_before:]] == [phone, phone]
    # A member who lets the pickup-day reminder through at night gets it at once; nothing else.
    b, _ = _user()
    _prefs(b, {"order.shipped": ["sms"], "pickup.arrived": ["sms"]}, pickup_at_night=True)
    _at_local(23, 30)
    _event("pickup.arrived", b)
    _event("order.shipped", b)
    assert channels.send_due() == 1
    assert _deliveries(b) == [
        ("pickup.arrived", "sms", "sent", 1),
        ("order.shipped", "sms", "queued", 0),
    ]


def test_the_last_authorisation_is_consumed_once_by_two_concurrent_sends(env: Any) -> None:
    _at_local(12)
    a, _ = _user()
    _prefs(a, {"pickup.arrived": ["wechat"]})
    left = run_in_transaction(
        lambda s: notifications.record_subscriptions(
            s, a, openid="oMember0002", results={TEMPLATE: "accept", "tmpl-shipped": "reject"}
        )
    )
    assert left == {TEMPLATE: 1}  # one accepted: one message; a refusal: none
    _event("pickup.arrived", a)
    _event("pickup.arrived", a)
    before = len(wechat_subscribe.LogWechat.sent)
    _together(lambda: channels.send_due(limit=1), lambda: channels.send_due(limit=1))
    channels.send_due()
    assert sorted(s for _, _, s, _ in _deliveries(a)) == ["sent", "skipped"]
    assert len(wechat_subscribe.LogWechat.sent) - before == 1
    openid, template, data = wechat_subscribe.LogWechat.sent[before]
    assert (openid, template) == ("oMember0002", TEMPLATE)
    assert data == {"thing1": {"value": "幸福里"}, "character_string2": {"value": "A1B2"}}
    assert scalar("SELECT error FROM channel_deliveries WHERE status = 'skipped'") == (
        "no subscription authorisation left"
    )
    assert scalar("SELECT remaining FROM wechat_subscriptions WHERE user_id = :u", u=a) == 0
    # ... and the guarded decrement alone: two takers, one authorisation, one winner.
    run_in_transaction(
        lambda s: notifications.record_subscriptions(
            s, a, openid="oMember0002", results={TEMPLATE: "accept"}
        )
    )
    won: list[bool] = []
    _together(
        *[
            lambda: won.append(
                run_in_transaction(lambda s: channels.consume_subscription(s, a, TEMPLATE))
            )
        ]
        * 2
    )
    assert sorted(won) == [False, True]
    assert scalar("SELECT remaining FROM wechat_subscriptions WHERE user_id = :u", u=a) == 0


def _together(*calls: Callable[[], Any]) -> None:
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        start.wait()
        try:
            call()
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


class Provider:
    """An SMS provider's HTTP API in the test process: each request gets the next reply."""

    def __init__(self, *replies: httpx.Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        return reply


def _aliyun(env: pytest.MonkeyPatch, provider: Provider) -> None:
    env.setenv("TUANGOU_SMS_SENDER", "aliyun")
    env.setenv("TUANGOU_SMS_SIGN_NAME", "邻里团")
    env.setenv("TUANGOU_ALIYUN_ACCESS_KEY_ID", "LTAI-id")
    env.setenv("TUANGOU_ALIYUN_ACCESS_KEY_SECRET", "very-secret-key")
    env.setenv(
        "TUANGOU_SMS_TEMPLATES",
        json.dumps(
            {
                "login_code": "SMS_LOGIN",
                "pickup.arrived": {"code": "SMS_PICKUP", "params": ["subject", "code"]},
            }
        ),
    )
    reset_settings()
    sms.set_transport(httpx.MockTransport(provider))


OK = httpx.Response(200, json={"Code": "OK", "BizId": "biz-1", "Message": "OK"})


def test_failures_are_retried_with_backoff_until_sent_or_out_of_attempts(
    env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _at_local(12)
    provider = Provider(
        httpx.ConnectError("down"),
        httpx.Response(200, json={"Code": "isp.SYSTEM_ERROR", "Message": "busy"}),
        OK,
    )
    _aliyun(env, provider)
    a, phone = _user()
    _prefs(a, {"pickup.arrived": ["sms"]})
    caplog.set_level(logging.DEBUG)
    _event("pickup.arrived", a)
    assert channels.send_due() == 1
    assert _deliveries(a) == [("pickup.arrived", "sms", "queued", 1)]
    assert channels.send_due() == 0  # not due before its backoff
    clock.advance(timedelta(minutes=1))
    assert channels.send_due() == 1
    assert _deliveries(a) == [("pickup.arrived", "sms", "queued", 2)]
    clock.advance(timedelta(minutes=4))
    assert channels.send_due() == 1
    assert _deliveries(a) == [("pickup.arrived", "sms", "sent", 3)]
    assert scalar("SELECT provider_id FROM channel_deliveries") == "biz-1"
    sent = dict(httpx.QueryParams(provider.requests[-1].content.decode()))
    assert sent["TemplateCode"] == "SMS_PICKUP"
    assert json.loads(sent["TemplateParam"]) == {"subject": "幸福里", "code": "A1B2"}
    assert phone not in caplog.text and "very-secret-key" not in caplog.text
    assert phone[:3] + "****" + phone[-4:] in caplog.text
    # A refusal that would come again fails at once; a passing trouble, at the last attempt.
    refusal = httpx.Response(200, json={"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "bad"})
    _aliyun(env, Provider(refusal))
    a, _ = _user()
    _prefs(a, {"pickup.arrived": ["sms"]})
    _event("pickup.arrived", a)
    channels.send_due()
    assert _deliveries(a) == [("pickup.arrived", "sms", "failed", 1)]
    env.setenv("TUANGOU_CHANNEL_MAX_ATTEMPTS", "2")
    _aliyun(env, Provider(httpx.Response(503, text="busy")))
    b, _ = _user()
    _prefs(b, {"pickup.arrived": ["sms"]})
    _event("pickup.arrived", b)
    channels.send_due()
    clock.advance(timedelta(minutes=1))
    channels.send_due()
    assert _deliveries(b) == [("pickup.arrived", "sms", "failed", 2)]


def test_a_wechat_message_that_finally_fails_gives_its_authorisation_back(env: Any) -> None:
    _at_local(12)
    env.setenv("TUANGOU_WECHAT_SENDER", "wechat")
    env.setenv("TUANGOU_WECHAT_APP_ID", "wx-app")
    env.setenv("TUANGOU_WECHAT_APP_SECRET", "wx-secret")
    env.setenv("TUANGOU_CHANNEL_MAX_ATTEMPTS", "1")
    calls: list[str] = []

    def wechat(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/cgi-bin/stable_token":
            return httpx.Response(200, json={"access_token": "T1", "expires_in": 7200})
        return httpx.Response(200, json={"errcode": -1, "errmsg": "system busy"})

    wechat_subscribe.set_transport(httpx.MockTransport(wechat))
    a, _ = _user()
    _prefs(a, {"pickup.arrived": ["wechat"]})
    run_in_transaction(
        lambda s: notifications.record_subscriptions(
            s, a, openid="oMember0003", results={TEMPLATE: "accept"}
        )
    )
    _event("pickup.arrived", a)
    channels.send_due()
    assert _deliveries(a) == [("pickup.arrived", "wechat", "failed", 1)]
    assert scalar("SELECT remaining FROM wechat_subscriptions WHERE user_id = :u", u=a) == 1
    assert calls == ["/cgi-bin/stable_token", "/cgi-bin/message/subscribe/send"]


def test_wechat_sends_with_a_cached_token_and_refreshes_a_stale_one(
    nodb: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    env = nodb
    caplog.set_level(logging.DEBUG)
    env.setenv("TUANGOU_WECHAT_SENDER", "wechat")
    env.setenv("TUANGOU_WECHAT_APP_ID", "wx-app")
    env.setenv("TUANGOU_WECHAT_APP_SECRET", "wx-secret")
    tokens = iter(["T1", "T2"])
    sent: list[dict[str, Any]] = []

    def wechat(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/stable_token":
            assert json.loads(request.content)["secret"] == "wx-secret"
            return httpx.Response(200, json={"access_token": next(tokens), "expires_in": 7200})
        token = request.url.params["access_token"]
        if token == "T1" and len(sent) == 1:
            return httpx.Response(200, json={"errcode": 42001, "errmsg": "expired"})
        sent.append({"token": token, **json.loads(request.content)})
        return httpx.Response(200, json={"errcode": 0, "msgid": len(sent)})

    wechat_subscribe.set_transport(httpx.MockTransport(wechat))
    template = wechat_subscribe.template_for("pickup.arrived")
    assert template is not None
    sender = wechat_subscribe.sender()
    assert sender.send("oA", template, {"thing1": {"value": "x"}}) == "1"
    assert sender.send("oA", template, {"thing1": {"value": "y"}}) == "2"
    assert [s["token"] for s in sent] == ["T1", "T2"]
    assert sent[0]["touser"] == "oA" and sent[0]["template_id"] == TEMPLATE
    assert "access_token=***" in caplog.text
    for secret in ("wx-secret", "access_token=T1", "access_token=T2"):
        assert secret not in caplog.text


def test_the_log_in_code_goes_through_the_provider(env: Any) -> None:
    provider = Provider(OK)
    _aliyun(env, provider)
    _, phone = _user()
    before = len(LogSmsSender.sent)
    run_in_transaction(lambda s: accounts.request_code(s, phone=phone))
    assert len(LogSmsSender.sent) == before  # not the log sender
    (request,) = provider.requests
    sent = dict(httpx.QueryParams(request.content.decode()))
    assert (sent["PhoneNumbers"], sent["TemplateCode"]) == (phone, "SMS_LOGIN")
    code = json.loads(sent["TemplateParam"])["code"]
    user = run_in_transaction(lambda s: accounts.login_with_code(s, phone=phone, code=code).id)
    assert user
    # The provider refuses: the member is told, and no code is kept.
    clock.advance(timedelta(minutes=2))
    _aliyun(env, Provider(httpx.Response(200, json={"Code": "isv.BUSINESS_LIMIT_CONTROL"})))
    count = scalar("SELECT COUNT(*) FROM one_time_codes")
    with pytest.raises(channels.SmsNotSent):
        run_in_transaction(lambda s: accounts.request_code(s, phone=phone))
    assert scalar("SELECT COUNT(*) FROM one_time_codes") == count


class FakeSmtp:
    """What an SMTP server was told."""

    def __init__(self, refuse_login: bool = False) -> None:
        self.logins: list[tuple[str, str]] = []
        self.messages: list[Any] = []
        self.refuse_login = refuse_login

    def login(self, user: str, password: str) -> None:
        self.logins.append((user, password))
        if self.refuse_login:
            raise smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials")

    def send_message(self, message: Any) -> None:
        self.messages.append(message)

    def quit(self) -> None:
        pass


def test_staff_get_e_mail_and_the_password_is_never_logged(
    env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _at_local(12)
    env.setenv("TUANGOU_EMAIL_SENDER", "smtp")
    env.setenv("TUANGOU_SMTP_HOST", "smtp.example.org")
    env.setenv("TUANGOU_SMTP_USER", "ops@example.org")
    env.setenv("TUANGOU_SMTP_PASSWORD", "smtp-password-1")
    servers: list[FakeSmtp] = []
    refuse = [False]

    def connect(settings: Any) -> Any:
        servers.append(FakeSmtp(refuse_login=refuse[0]))
        return servers[-1]

    email_channel.set_connector(connect)
    caplog.set_level(logging.DEBUG)
    op, _ = _user("operator")
    _prefs(op, {"order.shipped": ["email"]}, email="boss@example.org")
    member, _ = _user()
    with pytest.raises(channels.ChannelNotAvailable):
        _prefs(member, {"order.shipped": ["email"]}, email="me@example.org")
    assert scalar("SELECT COUNT(*) FROM notify_preferences WHERE user_id = :u", u=member) == 0
    _event("order.shipped", op)
    channels.send_due()
    assert _deliveries(op) == [("order.shipped", "email", "sent", 1)]
    (message,) = servers[0].messages
    assert message["To"] == "boss@example.org" and "已发货" in message["Subject"]
    assert servers[0].logins == [("ops@example.org", "smtp-password-1")]
    refuse[0] = True
    _event("order.shipped", op)
    channels.send_due()
    error = scalar("SELECT error FROM channel_deliveries ORDER BY id DESC")
    assert "authentication refused" in error
    for text in (caplog.text, error):
        assert "smtp-password-1" not in text
