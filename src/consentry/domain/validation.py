"""Checking an event's payload against its type: kinds, normal forms, sizes, control characters."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from consentry.domain import limits
from consentry.domain.events import EVENT_TYPES, REQUEST_KINDS, STATED_BASES, EventError, Field
from consentry.domain.text import find_control_character, has_control_character
from consentry.domain.vocabulary import (
    Channel,
)

_BOUNCE_KINDS = frozenset({"hard", "soft"})


@functools.cache
def _values(kind: type[StrEnum]) -> frozenset[str]:
    return frozenset(m.value for m in kind)


_CHANNELS = frozenset(c.value for c in Channel)
_FIELD_NAMES = {name: frozenset(f.name for f in etype.fields) for name, etype in EVENT_TYPES.items()}


def _check(f: Field, value: Any) -> Any:
    """A field's value in its JSON-native normal form, or EventError naming the field."""
    name, kind = f.name, f.kind
    if isinstance(kind, type):
        if isinstance(value, str) and value in _values(kind):
            return value
        raise EventError(name, f"{value!r} is not one of: {', '.join(m.value for m in kind)}")
    if kind == "str":
        if not isinstance(value, str) or not value.strip():
            raise EventError(name, "must be a non-empty string")
        return value.strip()
    if kind == "country":
        if not isinstance(value, str) or len(value) != 2 or not (value.isascii() and value.isalpha()):
            raise EventError(name, f"{value!r} is not a two-letter country code like NL")
        return value.upper()
    if kind == "bool":
        if not isinstance(value, bool):
            raise EventError(name, "must be true or false")
        return value
    if kind == "date":
        if not isinstance(value, str) or len(value) != 10:  # not the other forms ISO 8601 allows
            raise EventError(name, "must be a date like 2021-07-01")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise EventError(name, f"{value!r} is not a date like 2021-07-01") from None
    if kind == "months":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1200:
            raise EventError(name, f"{value!r} is not a whole number of months from 1 to 1200")
        return value
    if kind == "object":
        if not isinstance(value, dict):
            raise EventError(name, "must be a JSON object")
        return value
    if kind in ("list[str]", "list[channel]"):
        if not isinstance(value, list) or not value:
            raise EventError(name, "must be a non-empty list")
        if kind == "list[str]":
            if not all(isinstance(v, str) and v.strip() for v in value):
                raise EventError(name, "must contain non-empty strings")
            return [v.strip() for v in value]
        for v in value:
            if v not in _CHANNELS:
                raise EventError(name, f"{v!r} is not a channel ({', '.join(c.value for c in Channel)})")
        return sorted(set(value))
    raise AssertionError(f"unknown field kind {kind!r}")


#: Field kinds that carry free text (the others are checked against a fixed set or form).
_TEXT_KINDS = frozenset({"str", "list[str]", "object"})
#: Each event type's fields of those kinds.
_TEXT_FIELDS = {
    name: tuple(f.name for f in etype.fields if f.kind in _TEXT_KINDS) for name, etype in EVENT_TYPES.items()
}


def _refuse_control_characters(type_name: str, payload: Mapping[str, Any]) -> None:
    """EventError when a text field holds a control character anywhere (`domain.text`):
    NUL cannot be stored on PostgreSQL, and SQLite must refuse what PostgreSQL does."""
    for name in _TEXT_FIELDS[type_name]:
        value = payload.get(name)
        # Most values are plain strings without one: one regex search, no walk.
        if value is None or (type(value) is str and not has_control_character(value)):
            continue
        found = find_control_character(value)
        if found is not None:
            raise EventError(name + found[0], found[1])


def validate_payload(type_name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check a payload against its event type; return it normalised or raise EventError."""
    etype = EVENT_TYPES.get(type_name)
    if etype is None:
        raise EventError("type", f"unknown event type {type_name!r} (see docs/events.md)")
    known = _FIELD_NAMES[type_name]
    for key in payload:
        if key not in known:
            raise EventError(key, f"is not a field of {type_name} (see docs/events.md)")
    check_sizes(payload)  # first: a huge value is refused before anything scans it
    _refuse_control_characters(type_name, payload)
    out: dict[str, Any] = {}
    for f in etype.fields:
        value = payload.get(f.name)
        if value is None:
            if f.required:
                raise EventError(f.name, "is required")
            continue
        out[f.name] = _check(f, value)
    return _check_across(type_name, out)


def check_sizes(payload: Mapping[str, Any]) -> None:
    """Refuse a field over its size limit (consentry.domain.limits); EventError names field and limit.

    Checked before anything else reads the values, so an oversized value costs no more work.
    """
    for name, value in payload.items():
        if isinstance(value, str):
            limit = limits.EVENT_TEXT.get(name, limits.LABEL)
            if len(value) > limit:
                raise EventError(name, limits.too_long(limit))
        elif isinstance(value, list):
            if len(value) > limits.ITEMS:
                raise EventError(name, f"has more than {limits.ITEMS} entries")
            if any(isinstance(v, str) and len(v) > limits.LABEL for v in value):
                raise EventError(name, f"has an entry that {limits.too_long(limits.LABEL)}")
        elif isinstance(value, dict):
            _check_object_size(name, value)


def _check_object_size(name: str, value: dict[Any, Any]) -> None:
    if len(value) > limits.ITEMS:
        raise EventError(name, f"has more than {limits.ITEMS} entries")
    if name == "attributes":
        for k, v in value.items():
            if isinstance(k, str) and len(k) > limits.ATTRIBUTE_NAME:
                raise EventError(name, f"has a name that {limits.too_long(limits.ATTRIBUTE_NAME)}")
            if isinstance(v, str) and len(v) > limits.ATTRIBUTE_VALUE:
                raise EventError(f"{name}.{k}", limits.too_long(limits.ATTRIBUTE_VALUE))
    elif len(json.dumps(value, ensure_ascii=False, default=str)) > limits.OBJECT_JSON:
        raise EventError(name, f"is longer than the limit of {limits.OBJECT_JSON} characters as JSON")


def size_limit(f: Field) -> str:
    """What `check_sizes` allows for a field, in words for docs/events.md."""
    if f.kind == "str":
        return f"at most {limits.EVENT_TEXT.get(f.name, limits.LABEL)} characters"
    if f.kind in ("list[str]", "list[channel]"):
        return f"at most {limits.ITEMS} entries of {limits.LABEL} characters"
    if f.kind == "object" and f.name == "attributes":
        return (
            f"at most {limits.ITEMS} entries; names of {limits.ATTRIBUTE_NAME}, "
            f"values of {limits.ATTRIBUTE_VALUE} characters"
        )
    if f.kind == "object":
        return f"at most {limits.ITEMS} entries, {limits.OBJECT_JSON} characters as JSON"
    return ""


def _check_across(type_name: str, out: dict[str, Any]) -> dict[str, Any]:
    """The checks that read more than one field (or a field against its event type)."""
    if type_name == "bounce.recorded" and out["bounce_kind"] not in _BOUNCE_KINDS:
        raise EventError("bounce_kind", "must be `hard` or `soft`")
    if type_name == "request.received" and out["request"] not in REQUEST_KINDS:
        raise EventError("request", f"must be one of: {', '.join(sorted(REQUEST_KINDS))}")
    if type_name == "contact_point.registered" and out.get("stated_basis") not in (None, *STATED_BASES):
        raise EventError("stated_basis", f"must be one of: {', '.join(STATED_BASES)}")
    for name in ("attributes", "source_fields"):
        for k, a in out.get(name, {}).items():
            if not (isinstance(k, str) and isinstance(a, str)):
                raise EventError(name, "names and values must be strings")
    if out.get("listed_until", "9999") < out.get("listed_from", "0000"):
        raise EventError("listed_until", "is before listed_from")
    return out
