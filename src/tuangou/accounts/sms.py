"""Sending one-time codes. The default sender writes them to the server log; with a provider
configured (``TUANGOU_SMS_SENDER`` aliyun or tencent) the codes go through the SMS provider
interface of the message channels, which the composition root registers here
(:func:`register_code_provider`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ClassVar, Protocol

from tuangou.accounts.rules import mask_phone
from tuangou.core.config import get_settings

log = logging.getLogger("tuangou.sms")

_provider: Callable[[str, str], None] | None = None


def register_code_provider(send: Callable[[str, str], None]) -> None:
    """``send(phone, code)``: the SMS provider the codes go through (wiring)."""
    global _provider
    _provider = send


class SmsSender(Protocol):
    def send_code(self, phone: str, code: str) -> None: ...


class LogSmsSender:
    """Writes the code to the log: for development, demos and tests."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def send_code(self, phone: str, code: str) -> None:
        log.warning("one-time code for %s: %s", mask_phone(phone), code)
        LogSmsSender.sent.append((phone, code))
        del LogSmsSender.sent[:-100]


class ProviderSmsSender:
    """Through the registered provider (Aliyun, Tencent Cloud)."""

    def __init__(self, send: Callable[[str, str], None]) -> None:
        self._send = send

    def send_code(self, phone: str, code: str) -> None:
        self._send(phone, code)


def get_sender() -> SmsSender:
    name = get_settings().sms_sender
    if name == "log":
        return LogSmsSender()
    if _provider is None:
        raise RuntimeError(f"no SMS provider is registered for {name!r}")
    return ProviderSmsSender(_provider)
