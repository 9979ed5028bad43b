"""Sending one-time codes. The default sender writes them to the server log."""

from __future__ import annotations

import logging
from typing import ClassVar, Protocol

from tuangou.accounts.rules import mask_phone
from tuangou.core.config import get_settings

log = logging.getLogger("tuangou.sms")


class SmsSender(Protocol):
    def send_code(self, phone: str, code: str) -> None: ...


class LogSmsSender:
    """Writes the code to the log: for development, demos and tests."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def send_code(self, phone: str, code: str) -> None:
        log.warning("one-time code for %s: %s", mask_phone(phone), code)
        LogSmsSender.sent.append((phone, code))
        del LogSmsSender.sent[:-100]


def get_sender() -> SmsSender:
    name = get_settings().sms_sender
    if name == "log":
        return LogSmsSender()
    raise RuntimeError(f"unknown SMS sender {name!r}")
