from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, Forbidden, NotFound


class ReviewErrorCode(StrEnum):
    NOT_A_VERIFIED_BUYER = "not_a_verified_buyer"
    ALREADY_REVIEWED = "already_reviewed"
    INVALID_RATING = "invalid_rating"
    REVIEW_NOT_FOUND = "review_not_found"
    ALREADY_REPLIED = "already_replied"
    NOT_YOURS_TO_REPLY = "not_yours_to_reply"
    OWN_REVIEW_LIKE = "cannot_like_own_review"


class NotAVerifiedBuyer(Forbidden):
    code = ReviewErrorCode.NOT_A_VERIFIED_BUYER
    title = "Only the buyer of a completed order may review it"


class AlreadyReviewed(Conflict):
    code = ReviewErrorCode.ALREADY_REVIEWED
    title = "You have already reviewed this item of the order"


class InvalidRating(DomainError):
    code = ReviewErrorCode.INVALID_RATING
    status = 422
    title = "A rating is 1 to 5 stars"


class ReviewNotFound(NotFound):
    code = ReviewErrorCode.REVIEW_NOT_FOUND
    title = "No such review"


class AlreadyReplied(Conflict):
    code = ReviewErrorCode.ALREADY_REPLIED
    title = "This review has already been answered"


class NotYoursToReply(Forbidden):
    code = ReviewErrorCode.NOT_YOURS_TO_REPLY
    title = "Only the leader of the wave or the supplier of the goods may answer this review"


class CannotLikeOwnReview(Forbidden):
    code = ReviewErrorCode.OWN_REVIEW_LIKE
    title = "You cannot mark your own review helpful"
