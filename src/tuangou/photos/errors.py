from enum import StrEnum

from tuangou.core.errors import DomainError, NotFound


class PhotoErrorCode(StrEnum):
    PHOTO_REFUSED = "photo_refused"
    PHOTO_UNAVAILABLE = "photo_unavailable"
    PHOTOS_NOT_ATTACHABLE = "photos_not_attachable"


class PhotoRefused(DomainError):
    code = PhotoErrorCode.PHOTO_REFUSED
    status = 422
    title = "The photo is not valid: a JPEG, PNG or WebP image of at most 10 MB"


class PhotosNotAttachable(DomainError):
    code = PhotoErrorCode.PHOTOS_NOT_ATTACHABLE
    status = 422
    title = "These photos cannot be attached: upload them yourself, once each, within the limit"


class PhotoUnavailable(NotFound):
    """A photo that does not exist, or that the viewer may not see: answered alike (404)."""

    code = PhotoErrorCode.PHOTO_UNAVAILABLE
    title = "No such photo"
