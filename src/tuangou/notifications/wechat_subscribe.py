"""WeChat mini-program subscription messages (订阅消息): ``subscribeMessage.send`` over httpx,
with the app's access token fetched (``cgi-bin/stable_token``) and cached until shortly before it
expires. One authorisation the member granted is one message (``channels`` keeps the count);
this module only sends. The transport is injected (:func:`set_transport`) in tests.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

import httpx

from tuangou.core import clock
from tuangou.notifications.config import ChannelSettings, channel_settings

log = logging.getLogger("tuangou.wechat")

API = "https://api.weixin.qq.com"
TOKEN_INVALID = {40001, 40014, 42001}  # the token expired or was replaced: fetch again
NOT_AUTHORISED = {43101}  # the member has no authorisation left for this template
_transport: httpx.BaseTransport | None = None
_token: tuple[str, str, datetime] | None = None  # (app id, token, good until)
_token_lock = threading.Lock()


class _HideTokens(logging.Filter):
    """``subscribeMessage.send`` takes the access token in its URL, which httpx logs: the
    token is a credential, so its value is replaced in those lines."""

    PATTERN = re.compile(r"(access_token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg, record.args = self.PATTERN.sub(r"\1***", message), ()
        return True


logging.getLogger("httpx").addFilter(_HideTokens())


def set_transport(transport: httpx.BaseTransport | None) -> None:
    """Send through ``transport`` (tests: an ``httpx.MockTransport``); None: the network.
    Forgets the cached token."""
    global _transport, _token
    _transport = transport
    _token = None


class WechatFailed(Exception):
    """WeChat did not take the message; ``retry`` whether trying again may help,
    ``unauthorised``: the member had no authorisation (nothing will change that)."""

    def __init__(self, message: str, *, retry: bool = True, unauthorised: bool = False) -> None:
        super().__init__(message)
        self.retry = retry
        self.unauthorised = unauthorised


@dataclass(frozen=True)
class WechatTemplate:
    id: str
    page: str
    fields: dict[str, str]  # the template's field -> what fills it


def template_for(kind: str, settings: ChannelSettings | None = None) -> WechatTemplate | None:
    found = (settings or channel_settings()).wechat_templates.get(kind)
    if not isinstance(found, dict) or not isinstance(found.get("id"), str):
        return None
    fields = found.get("fields") or {}
    return WechatTemplate(
        id=found["id"],
        page=str(found.get("page") or ""),
        fields={str(k): str(v) for k, v in dict(fields).items()},
    )


def message_data(template: WechatTemplate, values: Mapping[str, Any]) -> dict[str, Any]:
    """The ``data`` of a message: each field's value, cut to WeChat's 20 characters (a
    ``thing`` field's limit; the tighter ones are the template's author's to choose)."""
    return {
        name: {"value": str(values.get(source, ""))[:20]}
        for name, source in template.fields.items()
    }


class WechatSender(Protocol):
    name: str

    def send(self, openid: str, template: WechatTemplate, data: Mapping[str, Any]) -> str: ...


class LogWechat:
    name = "log"
    sent: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []

    def send(self, openid: str, template: WechatTemplate, data: Mapping[str, Any]) -> str:
        log.info("WeChat message %s to …%s", template.id, openid[-4:])
        LogWechat.sent.append((openid, template.id, dict(data)))
        del LogWechat.sent[:-100]
        return f"log-{secrets.token_hex(6)}"


class MiniProgram:
    name = "wechat"

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    def _client(self) -> httpx.Client:
        return httpx.Client(
            transport=_transport,
            timeout=self.settings.channel_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
        )

    def access_token(self, client: httpx.Client, *, fresh: bool = False) -> str:
        """The app's access token (``cgi-bin/stable_token``), cached until five minutes before
        it expires; ``fresh``: WeChat said the cached one is no longer good."""
        global _token
        app_id = self.settings.wechat_app_id
        with _token_lock:
            now = clock.now()
            if not fresh and _token is not None and _token[0] == app_id and _token[2] > now:
                return _token[1]
            try:
                # The stable token, asked for in a JSON body: the app secret is in no URL
                # (URLs are logged), and a second server's request does not void this one's.
                reply = client.post(
                    f"{API}/cgi-bin/stable_token",
                    json={
                        "grant_type": "client_credential",
                        "appid": app_id,
                        "secret": self.settings.wechat_app_secret.get_secret_value(),
                        "force_refresh": fresh,
                    },
                )
                data = reply.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise WechatFailed(f"wechat token: {type(exc).__name__}") from None
            token = data.get("access_token")
            if not isinstance(token, str) or not token:
                raise WechatFailed(f"wechat token: errcode {data.get('errcode')}")
            life = int(data.get("expires_in") or 7200)
            _token = (app_id, token, now + timedelta(seconds=max(life - 300, 60)))
            return token

    def send(self, openid: str, template: WechatTemplate, data: Mapping[str, Any]) -> str:
        body = {
            "touser": openid,
            "template_id": template.id,
            "data": dict(data),
            "miniprogram_state": self.settings.wechat_miniprogram_state,
            "lang": "zh_CN",
        }
        if template.page:
            body["page"] = template.page
        with self._client() as client:
            for fresh in (False, True):
                token = self.access_token(client, fresh=fresh)
                try:
                    reply = client.post(
                        f"{API}/cgi-bin/message/subscribe/send",
                        params={"access_token": token},
                        json=body,
                    )
                    answer = reply.json()
                except (httpx.HTTPError, ValueError) as exc:
                    raise WechatFailed(f"wechat: {type(exc).__name__}") from None
                code = int(answer.get("errcode") or 0)
                if code == 0:
                    return str(answer.get("msgid", ""))
                if code in TOKEN_INVALID and not fresh:
                    continue
                message = f"wechat: errcode {code} {str(answer.get('errmsg', ''))[:200]}"
                if code in NOT_AUTHORISED:
                    raise WechatFailed(message, retry=False, unauthorised=True)
                raise WechatFailed(message, retry=code in (-1, 45009) or code in TOKEN_INVALID)
        raise WechatFailed("wechat: the access token was refused twice")


def sender(settings: ChannelSettings | None = None) -> WechatSender:
    settings = settings or channel_settings()
    return MiniProgram(settings) if settings.wechat_sender == "wechat" else LogWechat()
