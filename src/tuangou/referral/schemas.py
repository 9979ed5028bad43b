"""The referral API's request bodies and replies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from tuangou.core import clock
from tuangou.core.schemas import In, Iso, Out
from tuangou.referral.rules import Terms

if TYPE_CHECKING:
    from tuangou.commission.models import Withdrawal
    from tuangou.referral.service import Eligibility, Invitee, Line, Overview


class SettingsIn(In):
    level1_bps: int = Field(ge=0, le=3000, description="level 1's rate, basis points")
    level2_bps: int = Field(ge=0, le=3000, description="level 2's rate; with level 1 ≤ 3000")
    mode: Literal["everyone", "min_spend", "appointed"] = "everyone"
    min_spend: int = Field(default=0, ge=0, le=100_000_000, description="fen, for min_spend")
    binding_days: int | None = Field(
        default=None, ge=1, le=3650, description="how long a binding lasts; null: forever"
    )
    self_purchase: bool = Field(default=False, description="members earn on their own orders")

    def terms(self) -> Terms:
        return Terms(
            level1_bps=self.level1_bps,
            level2_bps=self.level2_bps,
            mode=self.mode,
            min_spend=self.min_spend,
            binding_days=self.binding_days,
            self_purchase=self.self_purchase,
        )


class WithdrawalIn(In):
    amount: int = Field(gt=0, le=100_000_000, description="fen")
    account_note: str = Field(default="", max_length=200, description="where to pay it")


class SettingsOut(Out):
    level1_bps: int
    level2_bps: int
    mode: str
    min_spend: int
    binding_days: int | None
    self_purchase: bool

    @classmethod
    def of(cls, t: Terms) -> SettingsOut:
        return cls.model_construct(
            level1_bps=t.level1_bps,
            level2_bps=t.level2_bps,
            mode=str(t.mode),
            min_spend=t.min_spend,
            binding_days=t.binding_days,
            self_purchase=t.self_purchase,
        )


class EligibilityOut(Out):
    eligible: bool
    code: str | None = Field(description="not_eligible_for_referral when not eligible")
    mode: str
    appointed: bool
    spent: int = Field(description="kept on completed orders, fen (mode min_spend)")
    min_spend: int

    @classmethod
    def of(cls, e: Eligibility) -> EligibilityOut:
        return cls.model_construct(
            eligible=e.eligible,
            code=None if e.eligible else "not_eligible_for_referral",
            mode=e.mode,
            appointed=e.appointed,
            spent=e.spent,
            min_spend=e.min_spend,
        )


class ReferralWalletOut(Out):
    frozen: int
    available: int
    withdrawing: int
    withdrawn: int
    debt: int = Field(description="taken back by refunds after a withdrawal; paid off first")


class ReferralOut(Out):
    code: str
    link: str
    poster: str
    invitees: int
    bound_to_inviter: bool
    eligibility: EligibilityOut
    rates: SettingsOut
    wallet: ReferralWalletOut
    earned: int = Field(description="all commission credited, net of reversals, fen")

    @classmethod
    def of(cls, o: Overview, link: str) -> ReferralOut:
        w = o.wallet
        return cls.model_construct(
            code=o.code,
            link=link,
            poster="/me/referral/poster.png",
            invitees=o.invitees,
            bound_to_inviter=o.inviter_id is not None,
            eligibility=EligibilityOut.of(o.eligibility),
            rates=SettingsOut.of(o.terms),
            wallet=ReferralWalletOut.model_construct(
                frozen=w.frozen,
                available=w.available,
                withdrawing=w.withdrawing,
                withdrawn=w.withdrawn,
                debt=w.debt,
            ),
            earned=o.earned,
        )


class InviteeOut(Out):
    user_id: int
    masked_name: str
    masked_phone: str
    bound_at: Iso | None
    binding_holds: bool
    orders: int
    kept: int
    commission_level1: int
    commission_level2: int

    @classmethod
    def of(cls, i: Invitee) -> InviteeOut:
        return cls.model_construct(
            user_id=i.user_id,
            masked_name=i.masked_name,
            masked_phone=i.masked_phone,
            bound_at=clock.iso(i.bound_at),
            binding_holds=i.binding_holds,
            orders=i.orders,
            kept=i.kept,
            commission_level1=i.commission_level1,
            commission_level2=i.commission_level2,
        )


class CommissionLineOut(Out):
    id: int
    order_id: int
    level: int
    buyer: str
    base_amount: int
    rate_bps: int
    amount: int
    frozen: int
    available: int
    withdrawn: int
    reversed: int
    state: str
    created_at: Iso
    available_at: Iso

    @classmethod
    def of(cls, line: Line) -> CommissionLineOut:
        return cls.model_construct(
            id=line.id,
            order_id=line.order_id,
            level=line.level,
            buyer=line.buyer,
            base_amount=line.base_amount,
            rate_bps=line.rate_bps,
            amount=line.amount,
            frozen=line.frozen,
            available=line.available,
            withdrawn=line.withdrawn,
            reversed=line.reversed,
            state=line.state,
            created_at=clock.iso(line.created_at),
            available_at=clock.iso(line.available_at),
        )


class CommissionPageOut(Out):
    items: list[CommissionLineOut]
    next_cursor: int | None


class ReferralWithdrawalOut(Out):
    id: int
    amount: int
    status: str
    account_note: str
    reason: str | None
    created_at: Iso
    decided_at: Iso | None

    @classmethod
    def of(cls, w: Withdrawal) -> ReferralWithdrawalOut:
        return cls.model_construct(
            id=w.id,
            amount=w.amount,
            status=w.status,
            account_note=w.account_note,
            reason=w.reason,
            created_at=clock.iso(w.created_at),
            decided_at=clock.iso(w.decided_at),
        )


class PartnerOut(Out):
    user_id: int
    nickname: str
    masked_phone: str
    appointed: bool
