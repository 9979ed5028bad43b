"""Text messages through one provider interface: the log sender (the default), Aliyun
(dysmsapi ``SendSms``, signed with ACS3-HMAC-SHA256, the V3 signature) and Tencent Cloud
(SMS ``SendSms``, API 2021-01-11, signed with TC3-HMAC-SHA256). Both are plain HTTPS requests
made with httpx and signed with the standard library, as each provider documents them; no
vendor SDK. The transport is injected (:func:`set_transport`): tests never reach the network.

A provider sends one approved template with its parameters and answers the provider's
message id, or raises :class:`SmsFailed` (``retry``: whether trying again may help).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Protocol
from urllib.parse import quote

import httpx

from tuangou.core import clock
from tuangou.notifications import rules
from tuangou.notifications.config import ChannelSettings, channel_settings

log = logging.getLogger("tuangou.sms")

LOGIN_CODE = "login_code"  # the template key of the log-in code

_transport: httpx.BaseTransport | None = None


def set_transport(transport: httpx.BaseTransport | None) -> None:
    """Send through ``transport`` (tests: an ``httpx.MockTransport``); None: the network."""
    global _transport
    _transport = transport


class SmsFailed(Exception):
    """The provider did not take the message. ``retry``: a network error or a provider's
    passing trouble (rate, busy), not a refusal that would come again."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Template:
    """A provider's approved template and the names of its parameters, in order."""

    code: str
    params: tuple[str, ...]


def template_for(key: str, settings: ChannelSettings | None = None) -> Template | None:
    """The configured template of a kind of message (or of ``login_code``); None: none."""
    found = (settings or channel_settings()).sms_templates.get(key)
    if isinstance(found, str) and found:
        return Template(found, ("code",) if key == LOGIN_CODE else ("subject",))
    if isinstance(found, dict) and isinstance(found.get("code"), str):
        params = found.get("params") or []
        return Template(found["code"], tuple(str(p) for p in params))
    return None


class SmsProvider(Protocol):
    name: str

    def send(self, phone: str, template: Template, params: Mapping[str, str]) -> str: ...


class LogSms:
    """Writes the message to the server log, the phone masked: development, demos, tests."""

    name = "log"
    sent: ClassVar[list[tuple[str, str, dict[str, str]]]] = []

    def send(self, phone: str, template: Template, params: Mapping[str, str]) -> str:
        shown = {k: v for k, v in params.items() if k != "code"}  # a code is a secret
        log.info("SMS %s to %s: %s", template.code, rules.mask_phone(phone), shown)
        LogSms.sent.append((phone, template.code, dict(params)))
        del LogSms.sent[:-100]
        return f"log-{secrets.token_hex(6)}"


def _client(settings: ChannelSettings) -> httpx.Client:
    return httpx.Client(
        transport=_transport,
        timeout=settings.channel_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
    )


def _mainland(phone: str) -> str:
    """A mainland number as Tencent wants it (E.164)."""
    return phone if phone.startswith("+") else f"+86{phone}"


# ---------------------------------------------------------------- Aliyun (ACS3-HMAC-SHA256)


def _rfc3986(value: str) -> str:
    """Aliyun's percent-encoding: everything but A-Z a-z 0-9 - _ . ~, in upper-case hex."""
    return quote(value, safe="-_.~")


def acs3_canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{_rfc3986(k)}={_rfc3986(v)}" for k, v in sorted(params.items()))


def acs3_sign(
    *,
    method: str,
    host: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    key_id: str,
    key_secret: str,
) -> str:
    """The ``Authorization`` header of an Aliyun V3 request (ACS3-HMAC-SHA256): the
    canonical request (method, "/", the sorted encoded query, the ``host`` and ``x-acs-*``
    headers lower-cased and sorted, their names, the payload's SHA-256), hashed into the
    string to sign, signed with HMAC-SHA256 under the AccessKey secret."""
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    signed = {
        k: v
        for k, v in signed.items()
        if k == "host" or k.startswith("x-acs-") or k == "content-type"
    }
    names = sorted(signed)
    canonical_headers = "".join(f"{n}:{signed[n]}\n" for n in names)
    signed_headers = ";".join(names)
    canonical = "\n".join(
        [
            method.upper(),
            "/",
            acs3_canonical_query(query),
            canonical_headers,
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={signed_headers},Signature={signature}"
    )


class AliyunSms:
    name = "aliyun"
    ACTION, VERSION = "SendSms", "2017-05-25"

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    def request(
        self, phone: str, template: Template, params: Mapping[str, str], *, nonce: str, at: datetime
    ) -> httpx.Request:
        """The signed request. The parameters go in a form body (an RPC API takes them
        there as well as in the query), so the phone number is in no URL and no log line."""
        s = self.settings
        form = {
            "PhoneNumbers": phone,
            "SignName": s.sms_sign_name,
            "TemplateCode": template.code,
            "TemplateParam": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
        }
        body = acs3_canonical_query(form).encode()
        headers = {
            "host": s.aliyun_sms_endpoint,
            "content-type": "application/x-www-form-urlencoded",
            "x-acs-action": self.ACTION,
            "x-acs-version": self.VERSION,
            "x-acs-date": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": nonce,
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        }
        headers["Authorization"] = acs3_sign(
            method="POST",
            host=s.aliyun_sms_endpoint,
            query={},
            headers=headers,
            body=body,
            key_id=s.aliyun_access_key_id,
            key_secret=s.aliyun_access_key_secret.get_secret_value(),
        )
        return httpx.Request(
            "POST", f"https://{s.aliyun_sms_endpoint}/", headers=headers, content=body
        )

    def send(self, phone: str, template: Template, params: Mapping[str, str]) -> str:
        at = clock.as_utc(clock.now())
        req = self.request(phone, template, params, nonce=secrets.token_hex(16), at=at)
        with _client(self.settings) as client:
            try:
                reply = client.send(req)
            except httpx.HTTPError as exc:
                raise SmsFailed(f"aliyun: {type(exc).__name__}") from None
        try:
            data = reply.json()
        except ValueError:
            raise SmsFailed(f"aliyun: HTTP {reply.status_code}") from None
        code = str(data.get("Code", ""))
        if code == "OK":
            return str(data.get("BizId", ""))
        # Flow control and the provider's own trouble pass; a refusal (a bad template, a
        # blocked number, a signature) comes again.
        retry = reply.status_code >= 500 or "LIMIT_CONTROL" in code or code.startswith("isp.SYSTEM")
        raise SmsFailed(f"aliyun: {code} {str(data.get('Message', ''))[:200]}", retry=retry)


# ---------------------------------------------------------------- Tencent Cloud (TC3-HMAC-SHA256)


def tc3_sign(
    *,
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    action: str,
    payload: bytes,
    timestamp: int,
    content_type: str = "application/json; charset=utf-8",
) -> str:
    """The ``Authorization`` header of a Tencent Cloud API 3.0 request (TC3-HMAC-SHA256):
    the canonical request over content-type, host and x-tc-action, its SHA-256 in the string
    to sign with the timestamp and credential scope, signed by the key derived from the
    SecretKey through the date, the service and "tc3_request"."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_headers = f"content-type:{content_type}\nhost:{host}\nx-tc-action:{action.lower()}\n"
    signed_headers = "content-type;host;x-tc-action"
    canonical = "\n".join(
        ["POST", "/", "", canonical_headers, signed_headers, hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{day}/{service}/tc3_request"
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(("TC3" + secret_key).encode(), day), service), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )


class TencentSms:
    name = "tencent"
    ACTION, VERSION, SERVICE = "SendSms", "2021-01-11", "sms"

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    def request(
        self, phone: str, template: Template, params: Mapping[str, str], *, timestamp: int
    ) -> httpx.Request:
        s = self.settings
        values: Sequence[str] = [str(params.get(name, "")) for name in template.params]
        payload = json.dumps(
            {
                "PhoneNumberSet": [_mainland(phone)],
                "SmsSdkAppId": s.tencent_sms_app_id,
                "SignName": s.sms_sign_name,
                "TemplateId": template.code,
                "TemplateParamSet": list(values),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        host = s.tencent_sms_endpoint
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Host": host,
            "X-TC-Action": self.ACTION,
            "X-TC-Version": self.VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": s.tencent_sms_region,
            "Authorization": tc3_sign(
                secret_id=s.tencent_secret_id,
                secret_key=s.tencent_secret_key.get_secret_value(),
                service=self.SERVICE,
                host=host,
                action=self.ACTION,
                payload=payload,
                timestamp=timestamp,
            ),
        }
        return httpx.Request("POST", f"https://{host}/", headers=headers, content=payload)

    def send(self, phone: str, template: Template, params: Mapping[str, str]) -> str:
        timestamp = int(clock.as_utc(clock.now()).timestamp())
        req = self.request(phone, template, params, timestamp=timestamp)
        with _client(self.settings) as client:
            try:
                reply = client.send(req)
            except httpx.HTTPError as exc:
                raise SmsFailed(f"tencent: {type(exc).__name__}") from None
        try:
            response = reply.json().get("Response", {})
        except (ValueError, AttributeError):
            raise SmsFailed(f"tencent: HTTP {reply.status_code}") from None
        error = response.get("Error")
        if error:
            code = str(error.get("Code", ""))
            retry = code.startswith(("InternalError", "RequestLimitExceeded", "LimitExceeded"))
            raise SmsFailed(f"tencent: {code} {str(error.get('Message', ''))[:200]}", retry=retry)
        status = (response.get("SendStatusSet") or [{}])[0]
        if str(status.get("Code", "")).lower() != "ok":
            code = str(status.get("Code", ""))
            raise SmsFailed(
                f"tencent: {code} {str(status.get('Message', ''))[:200]}",
                retry=code.startswith("LimitExceeded"),
            )
        return str(status.get("SerialNo", ""))


def provider(settings: ChannelSettings | None = None) -> SmsProvider:
    """The configured provider (``TUANGOU_SMS_SENDER``)."""
    settings = settings or channel_settings()
    if settings.sms_sender == "aliyun":
        return AliyunSms(settings)
    if settings.sms_sender == "tencent":
        return TencentSms(settings)
    return LogSms()


def send_login_code(phone: str, code: str) -> None:
    """A log-in code through the configured provider and its ``login_code`` template."""
    settings = channel_settings()
    chosen = provider(settings)
    template = template_for(LOGIN_CODE, settings) or Template("login_code", ("code",))
    if chosen.name != "log" and template_for(LOGIN_CODE, settings) is None:
        raise SmsFailed("no SMS template is configured for login_code", retry=False)
    message_id = chosen.send(phone, template, {"code": code})
    log.info("log-in code sent to %s by %s (%s)", rules.mask_phone(phone), chosen.name, message_id)
