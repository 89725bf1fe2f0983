"""`validate_payload`: each field kind's normal form and refusal, the checks across fields,
and which refusal comes first when a payload has several faults."""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest

from consentry.domain import validation
from consentry.domain.events import EVENT_TYPES, EventError
from consentry.domain.validation import validate_payload
from consentry.domain.vocabulary import Channel

REGISTERED = {"kind": "email", "value": "jan@example.nl", "source": "import"}
CONSENT = {"purpose": "nieuwsbrief", "channels": ["email"], "method": "double_opt_in"}
STORED = "which cannot be stored"


def _refusal(type_name: str, payload: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(EventError) as exc:
        validate_payload(type_name, payload)
    return exc.value.field, exc.value.message


@pytest.mark.parametrize(
    ("type_name", "given", "field", "expected"),
    [
        ("contact_point.registered", {"value": "  jan@example.nl "}, "value", "jan@example.nl"),
        ("contact_point.registered", {"country": "be"}, "country", "BE"),
        ("contact_point.registered", {"own_employee": False}, "own_employee", False),
        ("contact_point.registered", {"tags": [" vip ", "b2b"]}, "tags", ["vip", "b2b"]),
        ("contact_point.registered", {"attributes": {"FNAME": "Jan"}}, "attributes", {"FNAME": "Jan"}),
        ("consent.given", {"channels": ["sms", "email", "email"]}, "channels", ["email", "sms"]),
        ("register.listed", {"register": "x", "listed_from": "2021-07-01"}, "listed_from", "2021-07-01"),
        ("consent.given", {"valid_for_months": 24}, "valid_for_months", 24),
    ],
)
def test_each_field_kind_gives_its_normal_form(
    type_name: str, given: dict[str, Any], field: str, expected: Any
) -> None:
    base = {"contact_point.registered": REGISTERED, "consent.given": CONSENT}.get(type_name, {})
    assert validate_payload(type_name, {**base, **given})[field] == expected


@pytest.mark.parametrize(
    ("type_name", "given", "refusal"),
    [
        ("contact_point.registered", {"kind": "fax"}, ("kind", "'fax' is not one of: email, phone, postal")),
        ("contact_point.registered", {"kind": 1}, ("kind", "1 is not one of: email, phone, postal")),
        ("contact_point.registered", {"value": "   "}, ("value", "must be a non-empty string")),
        ("contact_point.registered", {"value": 7}, ("value", "must be a non-empty string")),
        (
            "contact_point.registered",
            {"country": "NLD"},
            ("country", "'NLD' is not a two-letter country code like NL"),
        ),
        ("contact_point.registered", {"own_employee": "true"}, ("own_employee", "must be true or false")),
        ("contact_point.registered", {"attributes": ["a"]}, ("attributes", "must be a JSON object")),
        (
            "contact_point.registered",
            {"attributes": {"FNAME": 1}},
            ("attributes", "names and values must be strings"),
        ),
        ("contact_point.registered", {"tags": []}, ("tags", "must be a non-empty list")),
        ("contact_point.registered", {"tags": ["a", " "]}, ("tags", "must contain non-empty strings")),
        (
            "contact_point.registered",
            {"stated_basis": "whim"},
            ("stated_basis", "must be one of: consent, legitimate_interest, contract"),
        ),
        (
            "contact_point.registered",
            {"bogus": 1},
            ("bogus", "is not a field of contact_point.registered (see docs/events.md)"),
        ),
        ("consent.given", {"channels": "email"}, ("channels", "must be a non-empty list")),
        (
            "consent.given",
            {"valid_for_months": 0},
            ("valid_for_months", "0 is not a whole number of months from 1 to 1200"),
        ),
        (
            "consent.given",
            {"valid_for_months": True},
            ("valid_for_months", "True is not a whole number of months from 1 to 1200"),
        ),
        (
            "consent.given",
            {"channels": ["email", "pigeon"]},
            ("channels", f"'pigeon' is not a channel ({', '.join(c.value for c in Channel)})"),
        ),
        (
            "register.listed",
            {"register": "x", "listed_from": 20210701},
            ("listed_from", "must be a date like 2021-07-01"),
        ),
        (
            "register.listed",
            {"register": "x", "listed_from": "2021-13-01"},
            ("listed_from", "'2021-13-01' is not a date like 2021-07-01"),
        ),
        (
            "register.listed",
            {"register": "x", "listed_from": "2021-07-01", "listed_until": "2021-06-30"},
            ("listed_until", "is before listed_from"),
        ),
        ("bounce.recorded", {"bounce_kind": "medium"}, ("bounce_kind", "must be `hard` or `soft`")),
        (
            "request.received",
            {"request": "lunch"},
            (
                "request",
                "must be one of: access, erasure, objection, portability, rectification, restriction",
            ),
        ),
        ("no.such", {}, ("type", "unknown event type 'no.such' (see docs/events.md)")),
    ],
)
def test_each_wrong_value_is_refused_naming_its_field(
    type_name: str, given: dict[str, Any], refusal: tuple[str, str]
) -> None:
    base = {"contact_point.registered": REGISTERED, "consent.given": CONSENT}.get(type_name, {})
    assert _refusal(type_name, {**base, **given}) == refusal


def test_an_unknown_field_is_named_before_a_missing_or_wrong_one() -> None:
    assert _refusal("consent.given", {"method": "fax", "bogus": 1})[0] == "bogus"


def test_the_first_fault_in_documented_field_order_is_the_one_named() -> None:
    payload = {"method": "fax", "channels": "email"}  # purpose missing, channels and method wrong
    assert _refusal("consent.given", payload) == ("purpose", "is required")
    assert _refusal("consent.given", {**payload, "purpose": "x"})[0] == "channels"


def test_absent_and_null_optional_fields_are_left_out_and_keys_follow_the_documented_order() -> None:
    got = validate_payload("consent.given", {"method": "single_opt_in", "ip": None, **CONSENT})
    documented = [f.name for f in EVENT_TYPES["consent.given"].fields]
    assert list(got) == [name for name in documented if name in got]
    assert "ip" not in got


@pytest.mark.parametrize("type_name", sorted(EVENT_TYPES))
def test_an_empty_payload_names_the_first_required_field_or_is_accepted_when_none_is(type_name: str) -> None:
    required = [f.name for f in EVENT_TYPES[type_name].fields if f.required]
    if required:
        assert _refusal(type_name, {}) == (required[0], "is required")
    else:
        assert validate_payload(type_name, {}) == {}


class _Text(str):
    """A string of another class (`str` subclasses pass the string checks, as before)."""


def test_objects_of_strings_are_accepted_also_when_a_name_or_value_is_a_str_subclass() -> None:
    given = {**REGISTERED, "attributes": {_Text("FNAME"): "Jan", "LNAME": _Text("Jansen")}}
    checked = validate_payload("contact_point.registered", given)
    assert checked["attributes"] == {"FNAME": "Jan", "LNAME": "Jansen"}
    refused = {**CONSENT, "source_fields": {"EUID": "abc", "RATING": 3}}
    assert _refusal("consent.given", refused) == ("source_fields", "names and values must be strings")


def test_an_object_over_its_json_limit_is_refused_whatever_its_strings_escape_to() -> None:
    from consentry.domain import limits

    half = limits.OBJECT_JSON // 2
    near = {"a": "x" * (limits.OBJECT_JSON - 9)}  # `{"a": "…"}` is 9 characters more
    assert validate_payload("consent.given", {**CONSENT, "source_fields": near})["source_fields"] == near
    over = {"a": "x" * half, "b": "\x01" * 1}  # refused for its control character, not its size
    assert _refusal("consent.given", {**CONSENT, "source_fields": over})[0] == "source_fields.b"
    long = {"a": "x" * half, "b": "é" * half}
    assert _refusal("consent.given", {**CONSENT, "source_fields": long}) == (
        "source_fields",
        f"is longer than the limit of {limits.OBJECT_JSON} characters as JSON",
    )


def test_every_event_type_check_across_names_is_in_across() -> None:
    """`_ACROSS` lists the types `_check_across` checks, so that the others skip it: a check
    added there for a type by name must be listed too, or it would never run."""
    tree = ast.parse(inspect.getsource(validation._check_across))
    named = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in EVENT_TYPES}
    assert named, "the guard reads no type name: has _check_across changed shape?"
    assert named <= validation._ACROSS, sorted(named - validation._ACROSS)
    for name in validation._STRING_OBJECTS:
        if validation._STRING_OBJECTS[name]:
            assert name in validation._ACROSS


@pytest.mark.parametrize(
    "text",
    ["regel een\nregel twee", "a\tb", "a\r\nb", "zacht\u00adstreepje", "a\u2028b", "nul\u200bbreed", "é ß"],
)
def test_text_that_is_not_printable_but_storable_is_kept_as_it_is(text: str) -> None:
    # Tab, line breaks, format and separator characters: `isprintable` says no, the store can hold them.
    got = validate_payload("consent.given", {**CONSENT, "text_version": f" {text} "})
    assert got["text_version"] == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00b", "contains a control character (U+0000, NUL) at character 2, " + STORED),
        ("ab\x1b", "contains a control character (U+001B, ESC) at character 3, " + STORED),
        ("\x85", "contains a control character (U+0085, control character) at character 1, " + STORED),
        ("x\ud800", "contains a lone surrogate (U+D800) at character 2: not valid Unicode text"),
    ],
)
def test_a_refused_character_in_a_text_field_is_named_with_where_it_is(text: str, problem: str) -> None:
    assert _refusal("consent.given", {**CONSENT, "text_version": text}) == ("text_version", problem)
