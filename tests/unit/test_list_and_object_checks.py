"""The checks of lists and objects test their common value (plain strings well within the
limits) with a few calls in C and walk the others step by step: over generated payloads,
`validate_payload`'s result, or its refusal, is what the checks one by one give in the
documented order, the reference below, which walks every list and object."""

from __future__ import annotations

import random
from typing import Any

import pytest

from consentry.domain import limits, validation
from consentry.domain.events import EVENT_TYPES, EventError
from consentry.domain.validation import validate_payload, with_fields


class _Text(str):
    """A string of another class: the quick test leaves it to the walk."""


#: Per field kind of a list or object, its check step by step.
_WALKS = {
    "object": validation._walk_object,
    "list[str]": validation._walk_str_list,
    "list[channel]": validation._walk_channel_list,
}
#: Per event type, its fields of those kinds.
_WALKED = {
    name: {f.name: _WALKS[f.kind] for f in etype.fields if f.kind in _WALKS}
    for name, etype in EVENT_TYPES.items()
}


def _reference(type_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The checks one by one: unknown fields, sizes, control characters, each field's check
    in the type's order (a list or object walked), then the checks across fields."""
    fields = validation._FIELDS[type_name]
    for key in payload:
        if key not in fields:
            raise EventError(key, f"is not a field of {type_name} (see docs/events.md)")
    validation.check_sizes({k: v for k, v in payload.items() if v is not None})
    validation._refuse_control_characters(type_name, payload)
    out: dict[str, Any] = {}
    for name, required, check in validation._PLANS[type_name]:
        value = payload.get(name)
        if value is None:
            if required:
                raise EventError(name, "is required")
            continue
        walk = _WALKED[type_name].get(name)
        out[name] = walk(name, value) if walk else check(value)
    return validation._check_across(type_name, out)


def _item(rnd: random.Random) -> Any:
    roll = rnd.random()
    if roll < 0.55:
        return rnd.choice(["email", "sms", "post", "vip", " klant ", "Beurs 2025", "é ß ﬁ", "a\tb", "x\ny"])
    if roll < 0.63:
        return rnd.choice(["", "   ", "\x00", "bad\x1bescape", "\x85", "\ud800"])
    if roll < 0.70:
        return "x" * rnd.choice(
            [limits.LABEL, limits.LABEL + 1, limits.ATTRIBUTE_VALUE + 1, 3000, limits.OBJECT_JSON // 3]
        )
    if roll < 0.78:
        return _Text(rnd.choice(["email", "vip", " t "]))
    return rnd.choice([1, 2.5, True, None, ["a"], {"a": "b"}, ("t",)])


def _value(rnd: random.Random) -> Any:
    size = rnd.choice([0, 1, 2, 5, limits.ITEMS, limits.ITEMS + 1])
    if rnd.random() < 0.5:
        return [_item(rnd) for _ in range(size)]
    if rnd.random() < 0.1:  # channels, in any order and some twice
        return rnd.choices(sorted(validation._CHANNELS), k=rnd.choice([1, 2, 3, 5]))
    if rnd.random() < 0.05:  # plain and clean, near the limit of an object's JSON
        return {f"F{i}": "y" * (limits.OBJECT_JSON // 3) for i in range(rnd.choice([2, 3, 4]))}
    names = [rnd.choice(["FNAME", "LNAME", "mailchimp.CC", " n ", "Ëde"]) + str(i) for i in range(size)]
    if names and rnd.random() < 0.1:
        names[0] = rnd.choice(["x" * (limits.ATTRIBUTE_NAME + 1), "na\x00me", _Text("T"), 7])
    return {n: _item(rnd) for n in names}


def _outcome(check: Any, type_name: str, payload: dict[str, Any]) -> Any:
    """The payload checked, or the refusal (an unhashable channel stops both with TypeError)."""
    try:
        return check(type_name, payload)
    except EventError as exc:
        return (exc.field, exc.message)
    except TypeError as exc:
        return ("TypeError", str(exc))


CASES = [
    ("contact_point.registered", {"kind": "email", "value": "jan@example.nl", "source": "import"}),
    ("consent.given", {"purpose": "nieuwsbrief", "channels": ["email"], "method": "double_opt_in"}),
    ("attributes.set", {}),
    ("tags.added", {}),
]


@pytest.mark.parametrize(("type_name", "base"), CASES)
def test_the_quick_tests_give_what_the_checks_one_by_one_give(type_name: str, base: dict[str, Any]) -> None:
    rnd = random.Random(type_name)
    provable = list(_WALKED[type_name])
    assert provable
    outcomes: set[str] = set()
    for _ in range(3000):
        payload = dict(base)
        for name in rnd.sample(provable, rnd.randint(1, len(provable))):
            payload[name] = _value(rnd)
        if rnd.random() < 0.3:  # out of the type's order
            payload = dict(reversed(list(payload.items())))
        expected, got = (
            _outcome(_reference, type_name, payload),
            _outcome(validate_payload, type_name, payload),
        )
        assert got == expected, payload
        if isinstance(got, dict):
            assert list(got) == list(expected), payload
            assert [type(v) for v in got.values()] == [type(v) for v in expected.values()]
        outcomes.add("accepted" if isinstance(got, dict) else got[1].split(" ")[0])
    assert "accepted" in outcomes and len(outcomes) > 3, outcomes  # both sides were met


def test_a_changed_object_is_checked_again_by_with_fields() -> None:
    checked = validate_payload("contact_point.registered", {**CASES[0][1], "attributes": {"A": "b"}})
    with pytest.raises(EventError) as exc:
        with_fields("contact_point.registered", checked, {"attributes": {"A": _Text("b"), "B": 3}})
    assert (exc.value.field, exc.value.message) == ("attributes", "names and values must be strings")
    again = with_fields("contact_point.registered", checked, {"value": " piet@example.nl "})
    assert again == {**checked, "value": "piet@example.nl"}


def _checked(check: Any, name: str, value: Any) -> Any:
    try:
        return check(name, value)
    except EventError as exc:
        return (exc.field, exc.message)


def test_an_object_near_its_json_limit_is_judged_as_its_walk_judges_it() -> None:
    """The quick test bounds an object's JSON by its names and values joined: it never passes
    an object the walk refuses. Objects around the limit, of characters JSON writes as two (a
    quote, a backslash) or as one, in one pair or several; and attributes around their limits."""
    outcomes = set()
    for char, width in (('"', 2), ("\\", 2), ("y", 1), ("é", 1)):
        for pairs in (1, 2, 7):
            middle = limits.OBJECT_JSON // width
            for total in range(middle - 60, middle + 60, 7):
                value = {f"F{i}": char * (total // pairs) for i in range(pairs)}
                got = _checked(validation._object, "source_fields", value)
                assert got == _checked(validation._walk_object, "source_fields", value), (char, pairs, total)
                outcomes.add(got is value)
    for size in (limits.ATTRIBUTE_NAME - 1, limits.ATTRIBUTE_NAME, limits.ATTRIBUTE_NAME + 1):
        for value in (
            {"n" * size: "v"},
            {"n": "v" * size},
            {"n": "v" * (limits.ATTRIBUTE_VALUE + size - limits.ATTRIBUTE_NAME)},
        ):
            got = _checked(validation._object, "attributes", value)
            assert got == _checked(validation._walk_object, "attributes", value), value
            outcomes.add(got is value)
    assert outcomes == {True, False}  # both sides were met
