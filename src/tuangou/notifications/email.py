"""E-mail for the staff (operators, suppliers' staff): a small sender over ``smtplib`` (TLS
implicit or by STARTTLS), or the log sender, the default. The password is read from the
settings when logging in and written nowhere. Tests inject the SMTP connection
(:func:`set_connector`)."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from typing import ClassVar, Protocol

from tuangou.notifications.config import ChannelSettings, channel_settings

log = logging.getLogger("tuangou.email")

Connector = Callable[[ChannelSettings], smtplib.SMTP]
_connector: Connector | None = None


def set_connector(connector: Connector | None) -> None:
    """Open SMTP connections with ``connector`` (tests); None: the configured server."""
    global _connector
    _connector = connector


class EmailFailed(Exception):
    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class EmailSender(Protocol):
    name: str

    def send(self, to: str, subject: str, body: str) -> str: ...


class LogEmail:
    name = "log"
    sent: ClassVar[list[tuple[str, str, str]]] = []

    def send(self, to: str, subject: str, body: str) -> str:
        local, _, domain = to.partition("@")
        log.info("e-mail to %s***@%s: %s", local[:1], domain, subject)
        LogEmail.sent.append((to, subject, body))
        del LogEmail.sent[:-100]
        return make_msgid(domain="tuangou.local")


def _connect(settings: ChannelSettings) -> smtplib.SMTP:
    timeout = settings.channel_timeout_seconds
    if settings.smtp_tls == "ssl":
        return smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    if settings.smtp_tls == "starttls":
        server.starttls(context=ssl.create_default_context())
    return server


class SmtpEmail:
    name = "smtp"

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    def send(self, to: str, subject: str, body: str) -> str:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.email_from or s.smtp_user
        message["To"] = to
        message["Subject"] = subject
        message_id = make_msgid(domain=(s.email_from or s.smtp_user).rpartition("@")[2] or None)
        message["Message-ID"] = message_id
        message.set_content(body)
        try:
            server = (_connector or _connect)(s)
            try:
                if s.smtp_user:
                    server.login(s.smtp_user, s.smtp_password.get_secret_value())
                server.send_message(message)
            finally:
                with contextlib.suppress(smtplib.SMTPException):
                    server.quit()
        except smtplib.SMTPAuthenticationError as exc:
            # The server's words, never the password: the reply holds no credentials.
            raise EmailFailed(f"smtp: authentication refused ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused:
            raise EmailFailed("smtp: the recipient was refused", retry=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise EmailFailed(f"smtp: {type(exc).__name__}") from None
        return message_id


def sender(settings: ChannelSettings | None = None) -> EmailSender:
    settings = settings or channel_settings()
    return SmtpEmail(settings) if settings.email_sender == "smtp" else LogEmail()
