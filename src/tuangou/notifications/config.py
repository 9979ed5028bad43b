"""The message channels' settings, read from the environment (prefix ``TUANGOU_``), like the
core's. Every secret is a ``SecretStr``: its repr, its ``str`` and the settings' dump show
stars, never the value (docs/DEPLOY.md, "Message channels" lists them all).

Templates map our kinds of message (the topics of ``service.TEXTS``, and ``login_code`` for
the log-in code) to the provider's approved templates, as JSON:

* ``TUANGOU_SMS_TEMPLATES``: ``{"login_code": {"code": "SMS_123", "params": ["code"]},
  "pickup.arrived": {"code": "SMS_456", "params": ["subject", "code"]}}``, or a kind to a bare
  template code (its parameters: ``code`` for the log-in code, else ``subject``).
* ``TUANGOU_WECHAT_TEMPLATES``: ``{"pickup.arrived": {"id": "tmpl-id", "page":
  "pages/orders/index", "fields": {"thing1": "subject", "character_string2": "code"}}}``:
  each field of the template and what fills it (``title``, ``body``, ``subject`` or a value
  of the message's data).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ChannelSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUANGOU_", extra="ignore", env_ignore_empty=True)

    # SMS: "log" (the server log), "aliyun" or "tencent".
    sms_sender: str = "log"
    sms_sign_name: str = ""
    sms_templates: dict[str, Any] = Field(default_factory=dict)
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: SecretStr = SecretStr("")
    aliyun_sms_endpoint: str = "dysmsapi.aliyuncs.com"
    tencent_secret_id: str = ""
    tencent_secret_key: SecretStr = SecretStr("")
    tencent_sms_app_id: str = ""
    tencent_sms_region: str = "ap-guangzhou"
    tencent_sms_endpoint: str = "sms.tencentcloudapi.com"
    # WeChat subscription messages: "log" or "wechat" (the mini-program's app id and secret).
    wechat_sender: str = "log"
    wechat_app_id: str = ""
    wechat_app_secret: SecretStr = SecretStr("")
    wechat_templates: dict[str, Any] = Field(default_factory=dict)
    # "formal", "trial" or "developer": which version of the mini-program a message opens.
    wechat_miniprogram_state: str = "formal"
    # E-mail: "log" or "smtp". TLS: "ssl" (implicit, port 465), "starttls" (587) or "none".
    email_sender: str = "log"
    smtp_host: str = ""
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_tls: str = "ssl"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    email_from: str = ""
    # Each provider request waits this long; a delivery is tried this many times.
    channel_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    channel_max_attempts: int = Field(default=5, ge=1, le=20)

    @field_validator("sms_templates", "wechat_templates", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("sms_sender")
    @classmethod
    def _sms(cls, value: str) -> str:
        if value not in ("log", "aliyun", "tencent"):
            raise ValueError("sms_sender is log, aliyun or tencent")
        return value

    @field_validator("wechat_sender", "email_sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if value not in ("log", "wechat", "smtp"):
            raise ValueError("a sender is log, wechat (WeChat) or smtp (e-mail)")
        return value

    @field_validator("smtp_tls")
    @classmethod
    def _tls(cls, value: str) -> str:
        if value not in ("ssl", "starttls", "none"):
            raise ValueError("smtp_tls is ssl, starttls or none")
        return value


def channel_settings() -> ChannelSettings:
    """Read afresh each time: cheap beside a provider's request, and a test's environment
    change applies at once."""
    return ChannelSettings()
