from enum import StrEnum


class AttemptTrigger(StrEnum):
    MANUAL = "manual"
    RETRY = "retry"
    SCHEDULED = "scheduled"
    TEST = "test"

    def __str__(self) -> str:
        return str(self.value)
