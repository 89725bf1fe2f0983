"""The JSON Schema of one ledger event as the API takes it, made from `EVENT_TYPES`.

One branch per event type (`oneOf`, told apart by `type`), each listing exactly its
fields with their kinds, required ones and size limits (consentry.domain.limits), so
the OpenAPI document says what `validate_payload` accepts. What no schema can say is
left to the service: whether the contact point is registered, the purpose defined,
the address deliverable, `listed_until` after `listed_from`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from consentry.domain import limits
from consentry.domain.events import EVENT_TYPES, REQUEST_KINDS, STATED_BASES, EventType, Field
from consentry.domain.vocabulary import Channel

#: Text with something on it besides white space, and no NUL.
TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"
_NO_NUL = r"^[^\x00]*$"
#: A purpose key (a purpose is defined only with such a key).
_KEY = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
#: Fields whose text the service holds to a fixed set (`validation._check_across`).
_CHOICES: dict[str, list[str]] = {
    "bounce_kind": ["hard", "soft"],
    "request": sorted(REQUEST_KINDS),
    "stated_basis": list(STATED_BASES),
}
_ENVELOPE: dict[str, Any] = {
    "occurred_at": {
        "anyOf": [{"type": "string", "minLength": 1, "maxLength": 64, "pattern": TEXT}, {"type": "null"}]
    },
    "id": {"anyOf": [{"type": "string", "pattern": r"^[A-Za-z0-9_.:-]{1,40}$"}, {"type": "null"}]},
}
_CONTACT = {"type": "string", "minLength": 1, "maxLength": limits.CONTACT, "pattern": TEXT}


def _text(limit: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": TEXT}


def field_schema(f: Field) -> dict[str, Any]:
    """The JSON Schema of one payload field."""
    kind = f.kind
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return {"type": "string", "enum": [m.value for m in kind]}
    if f.name in _CHOICES:
        return {"type": "string", "enum": _CHOICES[f.name]}
    if f.name == "purpose":
        return {"type": "string", "pattern": _KEY}
    if kind == "str":
        return _text(limits.EVENT_TEXT.get(f.name, limits.LABEL))
    if kind == "bool":
        return {"type": "boolean"}
    if kind == "country":
        return {"type": "string", "pattern": r"^[A-Za-z]{2}$"}
    if kind == "date":
        return {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    if kind == "list[channel]":
        return {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "enum": [c.value for c in Channel]},
        }
    if kind == "list[str]":
        return {"type": "array", "minItems": 1, "maxItems": limits.ITEMS, "items": _text(limits.LABEL)}
    if f.name == "attributes":
        return {
            "type": "object",
            "maxProperties": limits.ITEMS,
            "propertyNames": {"maxLength": limits.ATTRIBUTE_NAME, "pattern": _NO_NUL},
            "additionalProperties": {
                "type": "string",
                "maxLength": limits.ATTRIBUTE_VALUE,
                "pattern": _NO_NUL,
            },
        }
    if kind == "months":
        return {"type": "integer", "minimum": 1, "maximum": 1200}
    if kind != "object":
        raise AssertionError(f"no JSON Schema for field kind {kind!r} of {f.name!r}")
    # An imported system's own fields: names and texts, as the service takes them.
    return {
        "type": "object",
        "maxProperties": limits.ITEMS,
        "propertyNames": {"pattern": _NO_NUL},
        "additionalProperties": {"type": "string", "pattern": _NO_NUL},
    }


def _branch(etype: EventType) -> dict[str, Any]:
    properties: dict[str, Any] = {"type": {"type": "string", "const": etype.name}, **_ENVELOPE}
    required = ["type"]
    if etype.name != "contact_point.registered":  # a registration creates its contact point
        properties["contact"] = _CONTACT
        required.append("contact")
    for f in etype.fields:
        properties[f.name] = field_schema(f)
        if f.required:
            required.append(f.name)
        else:  # null is taken as not given
            properties[f.name] = {"anyOf": [properties[f.name], {"type": "null"}]}
    return {
        "type": "object",
        "title": etype.name,
        "description": etype.doc,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def event_record_schema(schema: dict[str, Any]) -> None:
    """Replace a model's generated schema by one branch per event type (pydantic's `json_schema_extra`)."""
    description = schema.get("description", "")
    example = schema.get("examples")
    schema.clear()
    schema.update({"description": description, "oneOf": [_branch(t) for t in EVENT_TYPES.values()]})
    if example:
        schema["examples"] = example


def registration_schema(schema: dict[str, Any]) -> None:
    """Replace a model's schema by the fields of `contact_point.registered` (`POST /v1/contact-points`)."""
    description = schema.get("description", "")
    branch = _branch(EVENT_TYPES["contact_point.registered"])
    del branch["properties"]["type"], branch["properties"]["id"], branch["title"]
    branch["required"].remove("type")
    schema.clear()
    schema.update({**branch, "description": description})
