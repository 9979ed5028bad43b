"""Logs: plain text for development, one JSON object a line for production
(``TUANGOU_LOG_FORMAT=json``), each with the request id of the request it belongs to.

The request id comes from the caller's ``X-Request-ID`` header when it is a sane token (a
proxy's or a client's id, so that one id follows a request through every system), else it is
made here; it is sent back in the same header on every reply, errors included, so that a
reported error leads to its log lines. (Not in the error's body: an idempotent replay's body
is the first reply's, byte for byte.)
"""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import secrets
from datetime import UTC, datetime

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tuangou_request_id", default=None
)
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_HANDLER = "tuangou"
# New ids: a random prefix per process and a counter (unique without a system call each; a
# forked process makes its own prefix).
_prefix = (os.getpid(), secrets.token_hex(8))
_next = itertools.count(1)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s"


def accept_or_make(given: str | None) -> str:
    """The caller's request id when it is 1–64 characters of ``A-Z a-z 0-9 . _ : -``
    (nothing that could forge a log line), else a new one."""
    if given and _SANE.match(given):
        return given
    global _prefix
    if _prefix[0] != os.getpid():
        _prefix = (os.getpid(), secrets.token_hex(8))
    return f"{_prefix[1]}{next(_next):016x}"


class _WithRequest(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        rid = request_id.get()
        record.request_id = rid
        record.request = f" [{rid}]" if rid else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request id,
    and the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            body["request_id"] = rid
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """Set up the root logger once for a command: ``text`` or ``json``."""
    handler = logging.StreamHandler()
    handler.addFilter(_WithRequest())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.set_name(_HANDLER)
    root = logging.getLogger()
    for old in list(root.handlers):  # ours from an earlier call; others' handlers stay
        if old.get_name() == _HANDLER:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
