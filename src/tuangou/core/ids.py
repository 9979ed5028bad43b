"""Identifiers that are not database keys."""

from __future__ import annotations

import secrets
import uuid


def event_id() -> str:
    return str(uuid.uuid4())


def token(nbytes: int = 16) -> str:
    return secrets.token_urlsafe(nbytes)


def gateway_ref(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"
