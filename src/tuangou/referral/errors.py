"""The referral domain's refusals, and their codes."""

from __future__ import annotations

from enum import StrEnum

from tuangou.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class ReferralErrorCode(StrEnum):
    BINDING_ALREADY_SET = "binding_already_set"
    INVALID_REFERRAL_SETTINGS = "invalid_referral_settings"
    INVITE_CODE_UNKNOWN = "invite_code_unknown"
    NOT_ELIGIBLE_FOR_REFERRAL = "not_eligible_for_referral"
    REFERRAL_MEMBER_NOT_FOUND = "referral_member_not_found"
    SELF_INVITE = "self_invite"


class InviteCodeUnknown(InvalidInput):
    code = ReferralErrorCode.INVITE_CODE_UNKNOWN
    title = "No member has this invite code"


class SelfInvite(InvalidInput):
    code = ReferralErrorCode.SELF_INVITE
    title = "A member cannot invite themselves"


class BindingAlreadySet(Conflict):
    code = ReferralErrorCode.BINDING_ALREADY_SET
    title = "This member is already bound to an inviter"


class NotEligible(Forbidden):
    code = ReferralErrorCode.NOT_ELIGIBLE_FOR_REFERRAL
    title = "Not eligible to earn referral commission"


class InvalidSettings(InvalidInput):
    code = ReferralErrorCode.INVALID_REFERRAL_SETTINGS
    title = "These referral settings are not valid"


class MemberNotFound(NotFound):
    code = ReferralErrorCode.REFERRAL_MEMBER_NOT_FOUND
    title = "No such member"
