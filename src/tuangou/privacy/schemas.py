"""Request and reply shapes of privacy."""

from __future__ import annotations

from pydantic import Field

from tuangou.core.schemas import In, Out


class BlockerOut(Out):
    kind: str = Field(
        description="open_orders, open_aftersales, pending_withdrawals, balance or leading"
    )
    count: int
    ids: list[int] = Field(description="the open orders, claims, withdrawals… by id")
    amount: int = Field(description="fen, where it is money (a balance, withdrawals)")


class DeletionPreviewOut(Out):
    """What deleting the account would do now."""

    deleted: bool = Field(description="the account was already deleted")
    may_delete: bool
    blockers: list[BlockerOut]
    kept: dict[str, str] = Field(description="what is kept after the deletion, and why")
    erased: list[str] = Field(description="what the deletion erases")
    confirm_phrase: str = Field(description="the phrase to type to confirm")


class DeletionIn(In):
    confirm: str = Field(max_length=32, description="the confirmation phrase: 注销账号")


class DeletionOut(Out):
    deleted: bool = Field(description="true: deleted now; false: it already was (no change)")


class PurgeOut(Out):
    codes: int
    sessions: int
    risk: int
