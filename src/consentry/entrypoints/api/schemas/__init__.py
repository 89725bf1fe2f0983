"""The API's request and response documents (pydantic models; never tables or domain objects).

One module per resource; this one holds what they share.
"""

from __future__ import annotations

from typing import Any, Literal

from consentry.domain.events import EVENT_TYPES

Lang = Literal["nl", "en"]
#: Text with a character that is not white space, and no NUL anywhere (the API refuses NUL:
#: PostgreSQL cannot store it). `openapi.py` gives every other text field the NUL-free pattern.
TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"
#: A purpose key (as `consentry.domain.purposes` defines them).
PURPOSE_KEY = r"^[a-z0-9][a-z0-9_.-]{0,62}$"

EVENT_TYPE_LIST = ", ".join(f"`{name}`" for name in EVENT_TYPES)
CONTACT_HELP = "Contact point id (`cp_...`), e-mail address, phone number or `postal:street; town`."
MOMENT_HELP = (
    "ISO 8601; without a zone it is Amsterdam time; a bare date is noon that day (Amsterdam). Default: now."
)


def enum_values(enum: Any) -> str:
    return ", ".join(f"`{m.value}`" for m in enum)
