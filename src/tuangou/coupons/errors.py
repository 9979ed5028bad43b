from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, NotFound


class CouponErrorCode(StrEnum):
    COUPON_NOT_FOUND = "coupon_not_found"
    COUPON_SOLD_OUT = "coupon_sold_out"
    COUPON_NOT_APPLICABLE = "coupon_not_applicable"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_USED = "coupon_used"
    COUPON_LIMIT_REACHED = "coupon_limit_reached"
    COUPON_PAUSED = "coupon_paused"
    INVALID_COUPON = "invalid_coupon"


class CouponNotFound(NotFound):
    code = CouponErrorCode.COUPON_NOT_FOUND
    title = "Coupon not found"


class SoldOut(Conflict):
    code = CouponErrorCode.COUPON_SOLD_OUT
    title = "This coupon is sold out"


class NotApplicable(Conflict):
    code = CouponErrorCode.COUPON_NOT_APPLICABLE
    title = "This coupon does not apply to this order"


class Expired(Conflict):
    code = CouponErrorCode.COUPON_EXPIRED
    title = "This coupon has expired"


class Used(Conflict):
    code = CouponErrorCode.COUPON_USED
    title = "This coupon has already been used"


class LimitReached(Conflict):
    code = CouponErrorCode.COUPON_LIMIT_REACHED
    title = "You hold as many of this coupon as a member may"


class Paused(Conflict):
    code = CouponErrorCode.COUPON_PAUSED
    title = "This coupon is not on offer"


class InvalidCoupon(DomainError):
    code = CouponErrorCode.INVALID_COUPON
    status = 422
    title = "Invalid coupon"
