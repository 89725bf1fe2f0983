"""Text every store can hold: no control characters, no lone surrogates.

PostgreSQL cannot store NUL in text or JSON at all, and SQLite would store it
silently; other control characters (form feed, escape, C1 codes from a badly
converted file) are invisible in every report and mail. So they are refused in
any text, with the same message on both stores. Tab, line feed and carriage
return are text (postal addresses and notes have lines).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

#: C0 controls but tab, LF and CR; DEL and the C1 controls; lone UTF-16 surrogates
#: (JSON can carry them, no store can).
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMES = {0x00: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x0C: "form feed", 0x0B: "vertical tab"}


def has_control_character(text: str) -> re.Match[str] | None:
    """A quick test: a match (truthy) when `text` holds a refused character anywhere.

    Every refused character is a control (Unicode category Cc) or a surrogate (Cs), which
    `str.isprintable` finds unprintable: a text it finds all printable (nearly every one) is
    passed without the search, which costs three to four times as much a character.
    """
    return None if text.isprintable() else _REFUSED.search(text)


def control_character(text: str) -> str | None:
    """What makes `text` unstorable (the first refused character and where), or None."""
    found = has_control_character(text)
    if found is None:
        return None
    code = ord(found.group())
    at = found.start() + 1
    if 0xD800 <= code <= 0xDFFF:
        return f"contains a lone surrogate (U+{code:04X}) at character {at}: not valid Unicode text"
    name = _NAMES.get(code) or unicodedata.name(found.group(), "control character")
    return f"contains a control character (U+{code:04X}, {name}) at character {at}, which cannot be stored"


def find_control_character(value: Any) -> tuple[str, str] | None:
    """The first refused character in a JSON value (strings, object keys and values, list
    items) as (where, problem), where is '' or the path to it (`.Naam`, `[2]`); or None."""
    if isinstance(value, str):
        problem = control_character(value)
        return ("", problem) if problem else None
    if isinstance(value, dict):
        if _all_clean(value) and _all_clean(value.values()):
            return None
        for key, item in value.items():
            if isinstance(key, str) and (problem := control_character(key)):
                return ("", f"a name in it {problem}")
            found = find_control_character(item)
            if found:
                return (f".{key}{found[0]}", found[1])
    elif isinstance(value, list):
        if _all_clean(value):
            return None
        for n, item in enumerate(value):
            found = find_control_character(item)
            if found:
                return (f"[{n}]{found[0]}", found[1])
    return None


def _all_clean(strings: Any) -> bool:
    """True when `strings` are all strings without a refused character: one search over
    them joined (attributes and evidence are objects of strings), instead of one a value."""
    try:
        return has_control_character(" ".join(strings)) is None
    except TypeError:  # not all strings: the caller walks them
        return False
