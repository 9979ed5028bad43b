"""The instance's secret key: from ``TUANGOU_SECRET_KEY``, or made once and kept in the database."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tuangou.core.config import get_settings
from tuangou.core.db import get_engine, unit_of_work
from tuangou.core.models import InstanceSetting

_cached: str | None = None


def secret_key() -> str:
    global _cached
    if _cached:
        return _cached
    configured = get_settings().secret_key
    if configured:
        _cached = configured
        return configured
    ins = pg_insert if get_engine().dialect.name == "postgresql" else sqlite_insert
    with unit_of_work() as session:
        session.execute(
            ins(InstanceSetting)
            .values(name="secret_key", value=secrets.token_hex(32))
            .on_conflict_do_nothing(index_elements=["name"])
        )
        value = session.scalar(
            select(InstanceSetting.value).where(InstanceSetting.name == "secret_key")
        )
    assert value
    _cached = value
    return value


def reset() -> None:
    global _cached
    _cached = None


def sign(message: str, purpose: str) -> str:
    key = hashlib.sha256(f"{purpose}:{secret_key()}".encode()).digest()
    return hmac.new(key, message.encode(errors="surrogatepass"), hashlib.sha256).hexdigest()


def verify(message: str, signature: str, purpose: str) -> bool:
    # compare_digest refuses text beyond ASCII (a TypeError): a signature is hex
    return signature.isascii() and hmac.compare_digest(sign(message, purpose), signature)
