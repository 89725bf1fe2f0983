"""`validate_payload` checks each event type with checks made once per field: the same
normal forms and the same first refusal (field and message) as checking every field
against its kind on each call, the way it was written before."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

import pytest

from consentry.domain.errors import FieldError
from consentry.domain.events import (
    _BOUNCE_KINDS,
    EVENT_TYPES,
    REQUEST_KINDS,
    STATED_BASES,
    EventError,
    Field,
    revalidate_payload,
    validate_payload,
)
from consentry.domain.vocabulary import Channel


def _reference_check(f: Field, value: Any) -> Any:
    kind = f.kind
    if isinstance(kind, type):
        if isinstance(value, str) and value in {m.value for m in kind}:
            return value
        allowed = ", ".join(m.value for m in kind)
        raise EventError(f.name, f"{value!r} is not one of: {allowed}")
    if kind == "str":
        if not isinstance(value, str) or not value.strip():
            raise EventError(f.name, "must be a non-empty string")
        return value.strip()
    if kind == "country":
        if not isinstance(value, str) or len(value) != 2 or not value.isalpha():
            raise EventError(f.name, f"{value!r} is not a two-letter country code like NL")
        return value.upper()
    if kind == "bool":
        if not isinstance(value, bool):
            raise EventError(f.name, "must be true or false")
        return value
    if kind == "date":
        if not isinstance(value, str):
            raise EventError(f.name, "must be a date like 2021-07-01")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise EventError(f.name, f"{value!r} is not a date like 2021-07-01") from None
    if kind == "object":
        if not isinstance(value, dict):
            raise EventError(f.name, "must be a JSON object")
        return value
    if kind in ("list[str]", "list[channel]"):
        if not isinstance(value, list) or not value:
            raise EventError(f.name, "must be a non-empty list")
        if kind == "list[str]":
            if not all(isinstance(v, str) and v.strip() for v in value):
                raise EventError(f.name, "must contain non-empty strings")
            return [v.strip() for v in value]
        channels = {c.value for c in Channel}
        for v in value:
            if v not in channels:
                allowed = ", ".join(c.value for c in Channel)
                raise EventError(f.name, f"{v!r} is not a channel ({allowed})")
        return sorted(set(value))
    raise AssertionError(f"unknown field kind {kind!r}")


def _reference(type_name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    etype = EVENT_TYPES.get(type_name)
    if etype is None:
        raise EventError("type", f"unknown event type {type_name!r} (see docs/events.md)")
    known = {f.name for f in etype.fields}
    for key in payload:
        if key not in known:
            raise EventError(key, f"is not a field of {type_name} (see docs/events.md)")
    out: dict[str, Any] = {}
    for f in etype.fields:
        value = payload.get(f.name)
        if value is None:
            if f.required:
                raise EventError(f.name, "is required")
            continue
        out[f.name] = _reference_check(f, value)
    if type_name == "bounce.recorded" and out["bounce_kind"] not in _BOUNCE_KINDS:
        raise EventError("bounce_kind", "must be `hard` or `soft`")
    if type_name == "request.received" and out["request"] not in REQUEST_KINDS:
        raise EventError("request", f"must be one of: {', '.join(sorted(REQUEST_KINDS))}")
    if type_name == "contact_point.registered" and out.get("stated_basis") not in (None, *STATED_BASES):
        raise EventError("stated_basis", f"must be one of: {', '.join(STATED_BASES)}")
    if "attributes" in out and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in out["attributes"].items()
    ):
        raise EventError("attributes", "names and values must be strings")
    if out.get("listed_until", "9999") < out.get("listed_from", "0000"):
        raise EventError("listed_until", "is before listed_from")
    return out


_ODD: list[Any] = ["", "  ", 0, 1, 2.5, True, False, None, [], {}, ["x"], {"a": 1}, "NLD", "n1"]


def _values(f: Field) -> list[Any]:
    """Values of every kind for a field: good ones first, then wrong ones."""
    kind = f.kind
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        good: list[Any] = [m.value for m in kind] + ["nope", " " + next(iter(kind)).value]
    elif kind == "str":
        good = ["x", " padded ", "hard", "soft", "access", "consent", "contract", "erasure"]
    elif kind == "country":
        good = ["NL", "be", "N1", "nl "]
    elif kind == "bool":
        good = [True, False, "true"]
    elif kind == "date":
        good = ["2021-07-01", "2030-01-31", "2021-13-01", "20210701"]
    elif kind == "object":
        good = [{"a": "b"}, {"a": 1}, {1: "b"}, {}]
    elif kind == "list[str]":
        good = [["a", " b "], ["a", ""], ["a", 3], []]
    else:
        good = [["email"], ["sms", "email", "email"], ["email", "pigeon"], "email"]
    return good + _ODD


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_same_as_checking_every_field_on_each_call(type_name: str) -> None:
    rnd = random.Random(type_name)
    fields = EVENT_TYPES[type_name].fields
    required = {f.name: rnd.choice(_values(f)[:2]) for f in fields if f.required}
    payloads: list[dict[str, Any]] = [{}, dict(required), {**required, "bogus": 1}]
    for f in fields:
        for value in _values(f):
            payloads.append({**required, f.name: value})
    for _ in range(3000):
        p: dict[str, Any] = {}
        for f in rnd.sample(fields, rnd.randint(0, len(fields))):
            values = _values(f)
            p[f.name] = rnd.choice(values[:3] if rnd.random() < 0.8 else values)
        if rnd.random() < 0.05:
            p["bogus"] = "x"
        payloads.append(p)
    for p in payloads:
        try:
            expected: Any = _reference(type_name, p)
        except FieldError as exc:
            expected = (type(exc), exc.field, exc.message)
        try:
            got: Any = validate_payload(type_name, p)
        except FieldError as exc:
            got = (type(exc), exc.field, exc.message)
        assert got == expected, p
        if isinstance(got, dict):
            assert list(got) == list(expected), p  # the same key order too


def test_unknown_type() -> None:
    with pytest.raises(EventError) as exc:
        validate_payload("no.such", {})
    assert (exc.value.field, exc.value.message) == ("type", _msg(lambda: _reference("no.such", {})))


def _msg(f: Any) -> str:
    try:
        f()
    except FieldError as exc:
        return exc.message
    raise AssertionError("no error")


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_revalidating_changed_fields_same_as_validating_all(type_name: str) -> None:
    """`revalidate_payload` on a valid payload with some fields replaced gives what
    `validate_payload` gives for the merged payload: value, key order, first refusal."""
    rnd = random.Random("re" + type_name)
    fields = EVENT_TYPES[type_name].fields
    tried = 0
    for _ in range(3000):
        p: dict[str, Any] = {}
        for f in rnd.sample(fields, rnd.randint(0, len(fields))):
            p[f.name] = rnd.choice(_values(f)[:8])
        for f in fields:
            if f.required and f.name not in p:
                p[f.name] = rnd.choice(_values(f)[:8])
        try:
            first = validate_payload(type_name, p)
        except FieldError:
            continue
        tried += 1
        changed: dict[str, Any] = {}
        for f in rnd.sample(fields, rnd.randint(1, min(2, len(fields)))):
            values = _values(f)
            changed[f.name] = rnd.choice(values[:3] if rnd.random() < 0.7 else values)
        try:
            expected: Any = validate_payload(type_name, {**p, **changed})
        except FieldError as exc:
            expected = (type(exc), exc.field, exc.message)
        try:
            got: Any = revalidate_payload(type_name, first, changed)
        except FieldError as exc:
            got = (type(exc), exc.field, exc.message)
        assert got == expected, (p, changed)
        if isinstance(got, dict):
            assert list(got) == list(expected), (p, changed)
    assert tried > 50
