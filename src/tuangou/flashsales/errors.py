from enum import StrEnum

from tuangou.core.errors import Conflict, NotFound


class FlashErrorCode(StrEnum):
    FLASH_SLOT_NOT_FOUND = "flash_slot_not_found"
    LIMIT_REACHED = "limit_reached"
    NOT_STARTED = "not_started"
    OVER = "over"
    SOLD_OUT = "sold_out"


class SlotNotFound(NotFound):
    code = FlashErrorCode.FLASH_SLOT_NOT_FOUND
    title = "No such flash sale"


class SoldOut(Conflict):
    code = FlashErrorCode.SOLD_OUT
    title = "Sold out"


class LimitReached(Conflict):
    code = FlashErrorCode.LIMIT_REACHED
    title = "You have reached this flash sale's limit"


class NotStarted(Conflict):
    code = FlashErrorCode.NOT_STARTED
    title = "This flash sale has not started yet"


class Over(Conflict):
    code = FlashErrorCode.OVER
    title = "This flash sale is over"
