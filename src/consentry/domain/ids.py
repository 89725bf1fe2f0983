"""Identifiers, made by an injected factory so tests can predict them."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

IdFactory = Callable[[str], str]


def random_ids(prefix: str) -> str:
    """A new id such as `cp_01a229b913497f24ceddf9deeed2a6c8`: the time in milliseconds
    (12 hex digits), then 80 random bits.

    The time in front makes ids made later sort later, so a big import adds its points at
    the right-hand end of every index keyed by point id (contact points, their state and
    facts, the events by point) instead of at random places all over it: once the tables
    outgrow the cache, random keys cost a page read and write per index per row. The
    random part keeps ids unguessable and unique across processes.
    """
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def counting_ids() -> IdFactory:
    """Ids that count up per prefix: `cp_000001`, `ev_000001` (tests)."""
    counters: dict[str, int] = {}

    def make(prefix: str) -> str:
        counters[prefix] = counters.get(prefix, 0) + 1
        return f"{prefix}_{counters[prefix]:06d}"

    return make


def derived_id(prefix: str, *parts: str) -> str:
    """An id derived from what a record says (`im_...`, `fb_...`): the same parts, the same id.

    Imports and feedback name their events this way, so a file or a report read twice
    adds nothing the second time.
    """
    return prefix + "_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
