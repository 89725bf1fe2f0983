"""The canonical payload JSON of `consentry.domain.chain.payload_json`, written faster.

The domain defines the canonical form with the standard library's `json` (sorted keys,
no spaces, UTF-8 kept). orjson writes the very same text for strings, integers,
booleans, null, lists and objects several times faster, so the store and the import
use it whenever a payload holds nothing else — exactly those types: no float, which
orjson writes differently (`1e16` against `1e+16`, null against NaN), and no subclass.
Everything else, and whatever orjson refuses (a lone surrogate, a non-string key, an
integer beyond 64 bits), goes to the domain's own encoder.
"""

from __future__ import annotations

from typing import Any

import orjson

from consentry.domain.chain import payload_json as defining_payload_json

_LEAVES = frozenset({str, int, bool, type(None)})


def payload_json(payload: object) -> str:
    """The canonical JSON of a payload: the same text as the domain's `payload_json`."""
    if type(payload) is dict and _plain(payload):
        try:
            return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # orjson.JSONEncodeError
            pass
    return defining_payload_json(payload)


def _plain(values: dict[Any, Any] | list[Any]) -> bool:
    """Whether a dict's values or a list's items are all `_LEAVES`, or dicts and lists of them."""
    for v in values.values() if type(values) is dict else values:
        t = type(v)
        if t in _LEAVES:
            continue
        if not ((t is dict or t is list) and _plain(v)):
            return False
    return True
