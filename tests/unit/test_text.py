"""Text every store can hold: the control characters refused, and where they are named."""

from __future__ import annotations

import pytest

from consentry.domain.events import EventError
from consentry.domain.text import control_character, find_control_character
from consentry.domain.validation import validate_payload


@pytest.mark.parametrize("text", ["Jan de Vries", "Kerkstraat 1\r\n1234 AB Dorp", "a\tb", "€ é ß 😀"])
def test_text_with_tabs_line_ends_and_any_printable_character_is_storable(text: str) -> None:
    assert control_character(text) is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Ja\x00n", "a control character (U+0000, NUL) at character 3"),
        ("\x1b[31m", "a control character (U+001B, ESC) at character 1"),
        ("x\x0c", "a control character (U+000C, form feed) at character 2"),
        ("x\x7f", "a control character (U+007F, DEL) at character 2"),
        ("\x85", "a control character (U+0085, control character) at character 1"),
        ("m\ud800", "a lone surrogate (U+D800) at character 2"),
    ],
)
def test_each_refused_character_is_named_with_its_code_and_place(text: str, said: str) -> None:
    problem = control_character(text)
    assert problem is not None and said in problem


def test_a_refused_character_deep_in_a_json_value_is_found_with_its_path() -> None:
    assert find_control_character({"a": ["ok", "n\x00"]}) == (".a[1]", control_character("n\x00"))
    assert find_control_character({"k\x00": "v"}) == ("", "a name in it " + str(control_character("k\x00")))
    assert find_control_character({"a": ["ok"], "b": 1, "c": True}) is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"display_name": "Jan\x00"}, "display_name"),
        ({"attributes": {"Klant": "K\x1b1"}}, "attributes.Klant"),
        ({"tags": ["vip", "v\x00ip"]}, "tags[1]"),
        ({"source_detail": "beurs\ud800"}, "source_detail"),
    ],
)
def test_validation_refuses_control_characters_in_any_text_field(
    payload: dict[str, object], field: str
) -> None:
    base = {"kind": "email", "value": "jan@example.nl", "source": "web_form"}
    with pytest.raises(EventError) as caught:
        validate_payload("contact_point.registered", {**base, **payload})
    assert caught.value.field == field
    assert caught.value.message.startswith(("contains a control character", "contains a lone surrogate"))


def test_the_printable_shortcut_refuses_exactly_what_the_search_refuses() -> None:
    """`has_control_character` and `control_character` skip the search for a text
    `str.isprintable` passes: that must never pass a refused character. Every code point,
    alone and amid other text."""
    from consentry.domain.text import _REFUSED, has_control_character

    for code in range(0x110000):
        char = chr(code)
        refused = _REFUSED.search(char) is not None
        assert bool(has_control_character(char)) is refused, hex(code)
        assert bool(has_control_character(f"Zoë {char} x")) is refused, hex(code)
        assert (control_character(char) is not None) is refused, hex(code)
