"""The one shape of input error: which field is wrong, and why."""

from __future__ import annotations


class FieldError(ValueError):
    """One value is wrong; `field` names it and `message` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
