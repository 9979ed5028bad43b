from enum import StrEnum

from tuangou.core.errors import DomainError, NotFound


class AchievementsErrorCode(StrEnum):
    TASK_NOT_FOUND = "task_not_found"
    INVALID_TASK = "invalid_task"


class TaskNotFound(NotFound):
    code = AchievementsErrorCode.TASK_NOT_FOUND
    title = "No such weekly task"


class InvalidTask(DomainError):
    code = AchievementsErrorCode.INVALID_TASK
    status = 422
    title = "Invalid weekly task"
