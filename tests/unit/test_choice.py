"""`errors.choice` gives what the enum's own call gives, for every enum the services check input against."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import pytest

import consentry.bootstrap  # noqa: F401  (imports the services and with them their enums)
from consentry.services.errors import InputError, choice


def _enums() -> list[type[StrEnum]]:
    found: list[type[StrEnum]] = []
    todo = list(StrEnum.__subclasses__())
    while todo:
        enum = todo.pop()
        todo.extend(enum.__subclasses__())
        if enum.__module__.startswith("consentry.") and list(enum):
            found.append(enum)
    return found


REFUSED = object()


def _as_the_call_gives(enum: type[StrEnum], value: Any) -> object:
    try:
        return enum(value)
    except ValueError:
        return REFUSED


def test_choice_is_the_enums_own_answer_for_members_values_others_members_and_strangers() -> None:
    enums = _enums()
    assert len(enums) >= 5
    others = [m for e in enums for m in e]
    for enum in enums:
        values: list[Any] = [*enum, *(m.value for m in enum), *others]
        values += ["", "EMAIL", " email", "email ", "nope", 1, None, ("email",), ["email"]]
        for value in values:
            expected = _as_the_call_gives(enum, value)
            if expected is REFUSED:
                with pytest.raises(InputError, match="is not one of") as refused:
                    choice(enum, "field", value)
                assert refused.value.field == "field"
            else:
                got = choice(enum, "field", value)
                assert got is expected and type(got) is enum
