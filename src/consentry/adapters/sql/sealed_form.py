"""The form an event's personal fields are sealed in: JSON with the names it knows as numbers.

Names took near half the sealed bytes of an imported member: `{"attributes":{"First Name":
"Sanne",..."mailchimp.TIMEZONE":"Europe/Amsterdam"},"display_name":...}`. An event's personal
fields are sealed as one JSON array of names and values, in turn, where a name `NAMES` holds
is its number there, and an object's value (attributes, source fields) is such an array too:
`[0,[14,"Sanne",...,19,"Europe/Amsterdam"],2,...]` (a Mailchimp member's registration 301 ->
169 bytes, its consent 242 -> 165). Names are sorted, at both levels, as the JSON object
sealed before had its keys. Fields with any other value than a text or an object of texts
(none do today) are sealed as that JSON object.

Rows sealed before hold a JSON object; `opened` reads both forms (an array is this one), so
no row is rewritten and the chain, which hashes the sealed bytes, is untouched.

Unlike compressing the JSON (tried: docs/performance.md), the form's length says what the
JSON's did: the lengths of the values, and which names (from the code's own list) are used.
`NAMES` is part of the stored form: a name is only ever added at its end, never removed or
moved (a test holds it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["NAMES", "coded", "opened"]

#: The names sealed as their number (their index): the personal fields (`sealing.PERSONAL`),
#: then the attributes and source fields the Mailchimp importer writes. Append only.
#: `mail_message_id` (personal since after this list was made) is not numbered: it is rare (an
#: unsubscribe by mail), and sealed by its name a version from before it still opens the row.
NAMES: tuple[str, ...] = (
    "attributes",
    "contact_id",
    "display_name",
    "source_detail",
    "value",
    "ip",
    "source_fields",
    "user_agent",
    "reason",
    "note",
    "mail_from",
    "diagnostic",
    "order_ref",
    "published_for_offers_evidence",
    "First Name",
    "Last Name",
    "mailchimp.CC",
    "mailchimp.MEMBER_RATING",
    "mailchimp.REGION",
    "mailchimp.TIMEZONE",
    "mailchimp.NOTES",
    "OPTIN_TIME",
    "OPTIN_IP",
    "CONFIRM_TIME",
    "CONFIRM_IP",
    "LEID",
    "EUID",
    "LAST_CHANGED",
)
_CODE = {name: i for i, name in enumerate(NAMES)}


def coded(personal: Mapping[str, Any]) -> bytes:
    """The sealed form of an event's personal fields (see the module doc)."""
    code = _CODE.get
    out: list[Any] = []
    for name in sorted(personal):
        value = personal[name]
        if type(value) is not str:
            if type(value) is not dict:
                return _as_object(personal)
            try:  # its values all texts: `str.join` takes nothing else, in C
                "".join(value.values())
            except TypeError:
                return _as_object(personal)
            keys = sorted(value)
            # names and texts in turn, each half made by one `map` (this runs for every import row)
            inner: list[Any] = [None] * (2 * len(keys))
            inner[::2] = map(code, keys, keys)
            inner[1::2] = map(value.__getitem__, keys)
            value = inner
        out += (code(name, name), value)
    return orjson.dumps(out)


def opened(sealed: bytes) -> dict[str, Any]:
    """The personal fields `coded` (or the JSON object sealed before it) holds."""
    found = orjson.loads(sealed)
    if type(found) is dict:
        return found
    if len(found) % 2:
        raise ValueError("a sealed field's names and values do not pair up")
    name = _name
    out: dict[str, Any] = {}
    for n, value in zip(map(name, found[::2]), found[1::2], strict=True):
        if type(value) is list:
            if len(value) % 2:
                raise ValueError("a sealed object's names and values do not pair up")
            value = dict(zip(map(name, value[::2]), value[1::2], strict=True))
        out[n] = value
    return out


def _name(found: str | int) -> str:
    if isinstance(found, str):
        return found
    try:
        if found < 0:
            raise IndexError(found)
        return NAMES[found]
    except IndexError:
        raise ValueError(f"a sealed field names number {found}, which this version does not know") from None


def _as_object(personal: Mapping[str, Any]) -> bytes:
    return orjson.dumps(personal, option=orjson.OPT_SORT_KEYS)
