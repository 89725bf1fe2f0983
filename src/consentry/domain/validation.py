"""Checking an event's payload against its type: kinds, normal forms, sizes, control characters."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
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
_STATED_OR_NONE = frozenset({None, *STATED_BASES})


@functools.cache
def _values(kind: type[StrEnum]) -> frozenset[str]:
    return frozenset(m.value for m in kind)


_CHANNELS = frozenset(c.value for c in Channel)
_FIELD_NAMES = {name: frozenset(f.name for f in etype.fields) for name, etype in EVENT_TYPES.items()}


def _enum_check(name: str, kind: type[StrEnum]) -> Callable[[Any], Any]:
    allowed = _values(kind)

    def check(value: Any) -> Any:
        if isinstance(value, str) and value in allowed:
            return value
        raise EventError(name, f"{value!r} is not one of: {', '.join(m.value for m in kind)}")

    return check


def _checker(f: Field) -> Callable[[Any], Any]:
    """The check of one field: its value in its JSON-native normal form, or EventError naming it.

    Made once per field (see `_PLANS`), so a payload's check does not pick its way through
    the field kinds again for every value.
    """
    name, kind = f.name, f.kind
    if isinstance(kind, type):
        return _enum_check(name, kind)
    found = _KIND_CHECKS.get(kind)
    if found is None:
        raise AssertionError(f"unknown field kind {kind!r}")
    return functools.partial(found, name)


def _str(name: str, value: Any) -> Any:
    if type(value) is str:
        stripped = value.strip()
        if stripped:
            return stripped
    elif isinstance(value, str) and value.strip():
        return value.strip()
    raise EventError(name, "must be a non-empty string")


def _country(name: str, value: Any) -> Any:
    if not isinstance(value, str) or len(value) != 2 or not (value.isascii() and value.isalpha()):
        raise EventError(name, f"{value!r} is not a two-letter country code like NL")
    return value.upper()


def _bool(name: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise EventError(name, "must be true or false")
    return value


def _date(name: str, value: Any) -> Any:
    if not isinstance(value, str) or len(value) != 10:  # not the other forms ISO 8601 allows
        raise EventError(name, "must be a date like 2021-07-01")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise EventError(name, f"{value!r} is not a date like 2021-07-01") from None


def _months(name: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1200:
        raise EventError(name, f"{value!r} is not a whole number of months from 1 to 1200")
    return value


# The checks of the kinds that hold lists and objects check their values' sizes and
# control characters too (`validate_payload` leaves those to them). Their common value, all
# plain strings well within the limits, is tested with a few calls in C: the items' types in
# one set, their lengths by `max` or `sum`, one control-character search over them joined (a
# space is no refused character). Any other value is checked step by step, so that the
# fault is named as `check_sizes` and `find_control_character` name it (`_walk_object` and
# the like, which are also the checks' whole reference in tests/unit/test_list_and_object_checks.py).


def _object(name: str, value: Any) -> Any:
    # Names and values in one list: their types in one set, and joined once, which gives
    # the control-character search its text and the JSON bound its length.
    if type(value) is dict and len(value) <= limits.ITEMS:
        items = [*value, *value.values()]
        if set(map(type, items)) <= _JUST_STR:
            joined = " ".join(items)
            if (
                # every name and value within the smaller limit, else each within its own
                (not items or max(map(len, items)) <= _ATTRIBUTE_FIT or _attributes_fit(value))
                if name == "attributes"
                else _joined_json_bound(joined) <= limits.OBJECT_JSON
            ) and (joined.isprintable() or not has_control_character(joined)):
                return value
    return _walk_object(name, value)


def _walk_object(name: str, value: Any) -> Any:
    """`_object` step by step."""
    _check_size(name, value)
    _refuse_control_character(name, value)
    if not isinstance(value, dict):
        raise EventError(name, "must be a JSON object")
    return value


def _str_list(name: str, value: Any) -> Any:
    if (
        type(value) is list
        and 0 < len(value) <= limits.ITEMS
        and set(map(type, value)) <= _JUST_STR  # `_plain_strings` of a list, without the call
        and max(map(len, value)) <= limits.LABEL
        and ((joined := " ".join(value)).isprintable() or not has_control_character(joined))
    ):
        stripped = list(map(str.strip, value))
        if all(stripped):
            return stripped
    return _walk_str_list(name, value)


def _walk_str_list(name: str, value: Any) -> Any:
    """`_str_list` step by step."""
    _check_size(name, value)
    _refuse_control_character(name, value)
    if not isinstance(value, list) or not value:
        raise EventError(name, "must be a non-empty list")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise EventError(name, "must contain non-empty strings")
    return [v.strip() for v in value]


def _channel_list(name: str, value: Any) -> Any:
    # Every channel is a short string: a list of known ones is within the size limits.
    if type(value) is list and 0 < len(value) <= limits.ITEMS:
        try:
            if _CHANNELS.issuperset(value):
                return sorted(set(value))
        except TypeError:  # an item that cannot be hashed: `_walk_channel_list` names it
            pass
    return _walk_channel_list(name, value)


def _walk_channel_list(name: str, value: Any) -> Any:
    """`_channel_list` step by step."""
    _check_size(name, value)
    if not isinstance(value, list) or not value:
        raise EventError(name, "must be a non-empty list")
    for v in value:
        if v not in _CHANNELS:
            raise EventError(name, f"{v!r} is not a channel ({', '.join(c.value for c in Channel)})")
    return sorted(set(value))


_KIND_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "str": _str,
    "country": _country,
    "bool": _bool,
    "date": _date,
    "months": _months,
    "object": _object,
    "list[str]": _str_list,
    "list[channel]": _channel_list,
}
#: Per event type, its fields in order as (name, required, check).
_PLANS = {
    name: tuple((f.name, f.required, _checker(f)) for f in etype.fields)
    for name, etype in EVENT_TYPES.items()
}


def with_fields(type_name: str, checked: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A payload `validate_payload` returned, with some fields changed, checked as that would.

    Only the changed fields are checked again (and the checks across fields); the result is
    what `validate_payload` gives for the changed payload. A field new to the payload is
    checked with the whole payload, so the fields keep their order.
    """
    if not checked.keys() >= changes.keys() or any(v is None for v in changes.values()):
        return validate_payload(type_name, {**checked, **changes})
    check_sizes(changes)
    fields = _FIELDS[type_name]
    # In the type's field order, as `validate_payload` finds faults: control characters, then kinds.
    names = sorted(changes, key=_POSITIONS[type_name].__getitem__) if len(changes) > 1 else list(changes)
    for name in names:
        if fields[name][2]:
            _refuse_control_character(name, changes[name])
    out = dict(checked)
    for name in names:
        out[name] = fields[name][1](changes[name])
    return _check_across(type_name, out) if type_name in _ACROSS else out


#: Field kinds that carry free text (the others are checked against a fixed set or form).
_TEXT_KINDS = frozenset({"str", "list[str]", "object"})
#: Each event type's fields of those kinds.
_TEXT_FIELDS = {
    name: tuple(f.name for f in etype.fields if f.kind in _TEXT_KINDS) for name, etype in EVENT_TYPES.items()
}


#: Per event type, each field by name: (its place in the type's order, its check, whether
#: it carries free text, the size limit of a string in it, whether it is of kind `str`, and
#: for a field of a fixed set of values (an enum) that set, else None).
_FIELDS = {
    name: {
        f.name: (
            i,
            check,
            f.kind in _TEXT_KINDS,
            limits.EVENT_TEXT.get(f.name, limits.LABEL),
            f.kind == "str",
            _values(f.kind) if isinstance(f.kind, type) else None,
        )
        for i, (f, (_n, _r, check)) in enumerate(zip(etype.fields, _PLANS[name], strict=True))
    }
    for name, etype in EVENT_TYPES.items()
}
#: Per event type, each field's place in the type's order.
_POSITIONS = {name: {f.name: i for i, f in enumerate(etype.fields)} for name, etype in EVENT_TYPES.items()}
#: Per event type, the names of its required fields.
_REQUIRED = {
    name: frozenset(f.name for f in etype.fields if f.required) for name, etype in EVENT_TYPES.items()
}


def _refuse_control_characters(type_name: str, payload: Mapping[str, Any]) -> None:
    """EventError when a text field holds a control character anywhere (`domain.text`):
    NUL cannot be stored on PostgreSQL, and SQLite must refuse what PostgreSQL does."""
    for name in _TEXT_FIELDS[type_name]:
        _refuse_control_character(name, payload.get(name))


def _refuse_control_character(name: str, value: Any) -> None:
    """`_refuse_control_characters` for one field's value (None: absent)."""
    # Most values are plain strings without one: one regex search, no walk.
    if value is None or (type(value) is str and not has_control_character(value)):
        return
    found = find_control_character(value)
    if found is not None:
        raise EventError(name + found[0], found[1])


def validate_payload(type_name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check a payload against its event type; return it normalised or raise EventError.

    One pass over the payload's fields checks each one's size, control characters and
    kind. The refusal named is the one of the documented order (`_first_fault`): an
    unknown field, then a size (in the payload's order), then a control character, then
    a missing or wrong field (in the type's field order); the pass only finds that there
    is one.
    """
    fields = _FIELDS.get(type_name)
    if fields is None:
        raise EventError("type", f"unknown event type {type_name!r} (see docs/events.md)")
    if not fields.keys() >= payload.keys():
        for key in payload:
            if key not in fields:
                raise EventError(key, f"is not a field of {type_name} (see docs/events.md)")
    out: dict[str, Any] = {}
    faulty = False
    last = -1
    ordered = True
    for name, value in payload.items():
        if value is None:
            continue
        position, check, text, limit, plain, allowed = fields[name]
        kind = type(value)
        text_value = kind is str or (kind is not bool and kind is not int and isinstance(value, str))
        # `has_control_character` only for a text `isprintable` does not pass (its own first
        # test, here without the call: nearly every text passes it). A list or object's own
        # check checks its size and control characters.
        if text_value and (
            len(value) > limit or (text and not value.isprintable() and has_control_character(value))
        ):
            faulty = True
            continue
        if plain and kind is str:  # most fields: `_str` of a plain string, without the call
            value = value.strip()
            if not value:
                faulty = True
                continue
            out[name] = value
        elif text_value and allowed is not None and value in allowed:  # an enum's value, without the call
            out[name] = value
        else:
            try:
                out[name] = check(value)
            except Exception:  # `_first_fault` raises it again, in its order
                faulty = True
                continue
        if position < last:
            ordered = False
        last = position
    if faulty or not _REQUIRED[type_name] <= out.keys():
        _first_fault(type_name, payload)
    if not ordered:  # the fields in the type's documented order
        out = {name: out[name] for name in sorted(out, key=_POSITIONS[type_name].__getitem__)}
    return _check_across(type_name, out) if type_name in _ACROSS else out


def _first_fault(type_name: str, payload: Mapping[str, Any]) -> None:
    """Raise the refusal of a payload that has a fault: a size first (in the payload's
    order), then a control character, then a missing or wrong field (each in the type's
    field order)."""
    check_sizes(payload)
    _refuse_control_characters(type_name, payload)
    for name, required, check in _PLANS[type_name]:
        value = payload.get(name)
        if value is None:
            if required:
                raise EventError(name, "is required")
            continue
        check(value)
    raise AssertionError(f"no fault found in a {type_name} payload that had one")  # pragma: no cover


def check_sizes(payload: Mapping[str, Any]) -> None:
    """Refuse a field over its size limit (consentry.domain.limits); EventError names field and limit.

    Checked before anything else reads the values, so an oversized value costs no more work.
    """
    for name, value in payload.items():
        _check_size(name, value)


def _check_size(name: str, value: Any) -> None:
    """`check_sizes` for one field."""
    kind = type(value)
    if kind is bool or kind is int:  # flags and numbers have no size
        return
    if kind is str or isinstance(value, str):
        limit = limits.EVENT_TEXT.get(name, limits.LABEL)
        if len(value) > limit:
            raise EventError(name, limits.too_long(limit))
    elif isinstance(value, list):
        if len(value) > limits.ITEMS:
            raise EventError(name, f"has more than {limits.ITEMS} entries")
        plain = _plain_strings(value)
        if (max(map(len, value), default=0) > limits.LABEL) if plain else _long_entry(value):
            raise EventError(name, f"has an entry that {limits.too_long(limits.LABEL)}")
    elif isinstance(value, dict):
        _check_object_size(name, value)


def _long_entry(value: list[Any]) -> bool:
    """Whether a list holds a string longer than a label."""
    return any(isinstance(v, str) and len(v) > limits.LABEL for v in value)


def _check_object_size(name: str, value: dict[Any, Any]) -> None:
    if len(value) > limits.ITEMS:
        raise EventError(name, f"has more than {limits.ITEMS} entries")
    if name == "attributes":
        try:  # most are well within the limits: measured without a loop in Python
            if _attributes_fit(value):
                return
        except TypeError:  # a name or value without a length: the loop below skips it
            pass
        for k, v in value.items():
            if isinstance(k, str) and len(k) > limits.ATTRIBUTE_NAME:
                raise EventError(name, f"has a name that {limits.too_long(limits.ATTRIBUTE_NAME)}")
            if isinstance(v, str) and len(v) > limits.ATTRIBUTE_VALUE:
                raise EventError(f"{name}.{k}", limits.too_long(limits.ATTRIBUTE_VALUE))
    elif _json_bound(value) > limits.OBJECT_JSON and (
        len(json.dumps(value, ensure_ascii=False, default=str)) > limits.OBJECT_JSON
    ):
        raise EventError(name, f"is longer than the limit of {limits.OBJECT_JSON} characters as JSON")


def _attributes_fit(value: dict[Any, Any]) -> bool:
    """Whether every name and value of attributes is within its limit (TypeError when one
    has no length). (`max` without `default=`: a keyword makes it several times slower.)"""
    return not value or (
        max(map(len, value)) <= limits.ATTRIBUTE_NAME
        and max(map(len, value.values())) <= limits.ATTRIBUTE_VALUE
    )


def _json_bound(value: dict[Any, Any]) -> int:
    """At most the length of an object's JSON (`_json_length_bound`) when it maps strings to
    strings, so most objects are measured without writing them out; any other object counts
    as longer than the limit, so it is written out and measured."""
    if not _plain_strings(value):
        return limits.OBJECT_JSON + 1
    return _json_length_bound(value)


def _json_length_bound(value: dict[str, str]) -> int:
    """At most the length of the JSON of an object that maps strings to strings: a character
    takes at most six in JSON, as `\\u0000`; a pair adds its quotes, colon and comma."""
    return 2 + 6 * (sum(map(len, value)) + sum(map(len, value.values()))) + 6 * len(value)


def _joined_json_bound(joined: str) -> int:
    """At least `_json_length_bound` of an object of strings, from its names and values
    joined by single spaces (`joined`): their lengths and one separator each but the last
    (at least the number of pairs), plus one, six times, and the braces."""
    return 2 + 6 * (len(joined) + 1)


_JUST_STR = frozenset({str})
#: An attribute's name or value at most this long is within its limit, either of them.
_ATTRIBUTE_FIT = min(limits.ATTRIBUTE_NAME, limits.ATTRIBUTE_VALUE)


def _plain_strings(value: dict[Any, Any] | list[Any]) -> bool:
    """Whether every item of a list, or name and value of an object, is a `str` (not a
    subclass), tested without a loop in Python (an imported contact's attributes and
    source fields have many)."""
    kinds = set(map(type, value))
    if isinstance(value, dict):
        kinds.update(map(type, value.values()))
    return kinds <= _JUST_STR


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
    if type_name in ("request.received", "request.handled") and out["request"] not in REQUEST_KINDS:
        raise EventError("request", f"must be one of: {', '.join(sorted(REQUEST_KINDS))}")
    if type_name == "request.identity_checked" and out["identity"] == "unverified":
        raise EventError("identity", "must be `verified` or `failed`")
    if type_name == "contact_point.registered" and out.get("stated_basis") not in _STATED_OR_NONE:
        raise EventError("stated_basis", f"must be one of: {', '.join(STATED_BASES)}")
    for name in _STRING_OBJECTS.get(type_name, ()):
        found = out.get(name)
        if not found:
            continue
        try:  # `str.join` takes exactly the instances of str (a subclass too), in C
            " ".join(found)
            " ".join(found.values())
        except TypeError:
            raise EventError(name, "names and values must be strings") from None
    if "listed_until" in out and out["listed_until"] < out.get("listed_from", "0000"):
        raise EventError("listed_until", "is before listed_from")
    return out


#: Per event type, its fields that must map strings to strings (`_check_across`).
_STRING_OBJECTS = {
    name: tuple(f.name for f in etype.fields if f.name in ("attributes", "source_fields"))
    for name, etype in EVENT_TYPES.items()
}
#: The event types `_check_across` has a check for (the others it returns unchanged).
_ACROSS = frozenset(
    {"bounce.recorded", "request.received", "request.handled", "request.identity_checked"}
    | {"contact_point.registered"}
    | {name for name, found in _STRING_OBJECTS.items() if found}
    | {name for name, etype in EVENT_TYPES.items() if any(f.name == "listed_until" for f in etype.fields)}
)
