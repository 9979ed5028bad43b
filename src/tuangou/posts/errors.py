"""The refusals of posts, replies, likes, pins and the posting rhythm."""

from enum import StrEnum

from tuangou.core.errors import Conflict, DomainError, NotFound


class PostErrorCode(StrEnum):
    DEAL_NOT_VISIBLE = "deal_not_visible"
    NOT_POST_MANAGER = "not_post_manager"
    NOT_YOUR_POST = "not_your_post"
    PIN_LIMIT = "pin_limit"
    POST_NOT_FOUND = "post_not_found"
    POST_NOT_PUBLISHED = "post_not_published"
    REPLY_NOT_FOUND = "reply_not_found"
    RHYTHM_LIMITED = "rhythm_limited"
    NOT_A_DEAL_POST = "not_a_deal_post"


class PostNotFound(NotFound):
    code = PostErrorCode.POST_NOT_FOUND
    title = "No such post"


class ReplyNotFound(NotFound):
    code = PostErrorCode.REPLY_NOT_FOUND
    title = "No such reply on this post"


class NotYourPost(DomainError):
    code = PostErrorCode.NOT_YOUR_POST
    status = 403
    title = "Only the author may do this to the post"


class NotPostManager(DomainError):
    code = PostErrorCode.NOT_POST_MANAGER
    status = 403
    title = "Only the community's leader, its admins or an operator may do this"


class PostNotPublished(Conflict):
    code = PostErrorCode.POST_NOT_PUBLISHED
    title = "This post is not published (held for review, hidden or deleted)"


class DealNotVisible(Conflict):
    code = PostErrorCode.DEAL_NOT_VISIBLE
    title = "The linked deal does not exist or is not open to this community"


class NotADealPost(Conflict):
    code = PostErrorCode.NOT_A_DEAL_POST
    title = "Only a deal post can be the day's deal"


class PinLimit(Conflict):
    code = PostErrorCode.PIN_LIMIT
    title = "A community has at most 3 pinned posts; unpin one first"


class RhythmLimited(DomainError):
    """A rhythm refusal; ``retry_after`` (seconds) goes in the body and the Retry-After
    header, ``retry_at`` (ISO 8601) and ``reason`` in the body."""

    code = PostErrorCode.RHYTHM_LIMITED
    status = 429
    title = "Not now: this community's posting rhythm"
