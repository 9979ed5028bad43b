"""Password hashes: the production cost, the cost kept in each stored hash, the older
three-part form, and the hash run for an unknown phone at the current cost."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from tuangou.accounts import service as accounts
from tuangou.accounts.errors import AccountErrorCode
from tuangou.accounts.models import User
from tuangou.core.config import Settings, get_settings, reset_settings
from tuangou.core.db import run_in_transaction, unit_of_work
from tuangou.core.errors import DomainError


@pytest.fixture
def cost(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set the hash cost of this test (the suite runs at the lowest one)."""

    def set_cost(n: int | None) -> None:
        if n is None:
            monkeypatch.delenv("TUANGOU_PASSWORD_HASH_N", raising=False)
        else:
            monkeypatch.setenv("TUANGOU_PASSWORD_HASH_N", str(n))
        reset_settings()

    yield set_cost
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def used_n(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The n of every scrypt run from now on."""
    seen: list[int] = []
    real = hashlib.scrypt

    def recorded(*args: Any, **kwargs: Any) -> bytes:
        seen.append(kwargs["n"])
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", recorded)
    return seen


def _legacy_hash(password: str) -> str:
    """A hash as the first releases stored it: scrypt$salt$digest, at n = 2**14."""
    salt = bytes(range(16))
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def test_the_production_cost_is_2_to_the_14(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUANGOU_PASSWORD_HASH_N", raising=False)
    assert Settings().password_hash_n == 2**14


def test_a_new_hash_carries_its_cost(cost: Any) -> None:
    cost(None)
    stored = accounts._hash_password("secret123")
    kind, n, r, p, salt, digest = stored.split("$")
    assert (kind, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(bytes.fromhex(salt)) == 16
    assert hashlib.scrypt(b"secret123", salt=bytes.fromhex(salt), n=2**14, r=8, p=1).hex() == (
        digest
    )
    assert accounts._check_password("secret123", stored)
    assert not accounts._check_password("secret124", stored)


def test_a_hash_verifies_at_its_own_cost_after_the_setting_changes(
    cost: Any, used_n: list[int]
) -> None:
    cost(4)
    stored = accounts._hash_password("secret123")
    assert stored.startswith("scrypt$4$8$1$")
    cost(64)
    used_n.clear()
    assert accounts._check_password("secret123", stored)
    assert not accounts._check_password("wrong", stored)
    assert used_n == [4, 4]
    assert accounts._hash_password("secret123").startswith("scrypt$64$8$1$")


def test_an_old_three_part_hash_still_verifies(cost: Any, used_n: list[int]) -> None:
    cost(2)
    stored = _legacy_hash("secret123")
    used_n.clear()
    assert accounts._check_password("secret123", stored)
    assert not accounts._check_password("secret124", stored)
    assert used_n == [2**14, 2**14]


@pytest.mark.parametrize(
    "stored",
    [None, "", "bcrypt$abc", "scrypt$zz$00", "scrypt$3$8$1$00$00", "scrypt$x$8$1$00$00"],
)
def test_no_usable_hash_is_refused_after_a_hash_at_the_current_cost(
    cost: Any, used_n: list[int], stored: str | None
) -> None:
    """An unknown phone (or an account without a password) costs one hash, as a wrong
    password does, so the time of a refusal tells nothing."""
    cost(32)
    assert not accounts._check_password("secret123", stored)
    assert used_n == [32]


@pytest.mark.parametrize("n", ["3", "1", "0", "100", str(2**21)])
def test_the_cost_is_a_power_of_two_in_range(monkeypatch: pytest.MonkeyPatch, n: str) -> None:
    monkeypatch.setenv("TUANGOU_PASSWORD_HASH_N", n)
    with pytest.raises(ValidationError):
        Settings()


def test_an_account_with_an_old_hash_logs_in(db: str) -> None:
    user_id = run_in_transaction(
        lambda s: (
            accounts.create_user(s, phone="13700000001", password="new-pass-1", nickname="甲").id
        )
    )
    assert get_settings().password_hash_n == 2  # the suite's cost: the hash of "new-pass-1"
    run_in_transaction(
        lambda s: s.execute(
            update(User).where(User.id == user_id).values(password_hash=_legacy_hash("old-pass-1"))
        )
    )
    with unit_of_work(readonly=True) as session:  # as the log-in route does
        found = accounts.login(session, phone="13700000001", password="old-pass-1").id
    assert found == user_id
    with pytest.raises(DomainError) as refused, unit_of_work(readonly=True) as session:
        accounts.login(session, phone="13700000001", password="new-pass-1")
    assert refused.value.code == AccountErrorCode.BAD_CREDENTIALS
