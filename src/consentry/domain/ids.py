"""Identifiers, made by an injected factory so tests can predict them."""

from __future__ import annotations

import secrets
from collections.abc import Callable

IdFactory = Callable[[str], str]


def random_ids(prefix: str) -> str:
    """A new random id such as `cp_3f9a0c1b2d4e5f60a1b2c3d4` (96 random bits)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def counting_ids() -> IdFactory:
    """Ids that count up per prefix: `cp_000001`, `ev_000001` (tests)."""
    counters: dict[str, int] = {}

    def make(prefix: str) -> str:
        counters[prefix] = counters.get(prefix, 0) + 1
        return f"{prefix}_{counters[prefix]:06d}"

    return make
