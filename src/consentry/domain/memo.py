"""A memo of values made once, bounded: it starts afresh when full.

For work repeated within one job (a campaign's send composes and encodes the same paragraphs
for every recipient): the memo belongs to the job and goes with it, so whatever personal words
pass through it do not stay in the process afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    """`make(key)` (never None) made once per key while the memo holds it, `most` keys at most."""

    def __init__(self, most: int) -> None:
        self.most = most
        self._kept: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: K, make: Callable[[K], V]) -> V:
        done = self._kept.get(key)
        if done is None:
            if len(self._kept) >= self.most:  # a few keys recur; the rest churn through
                self._kept.clear()
            done = self._kept[key] = make(key)
        return done

    def many(self, keys: list[K], make: Callable[[K], V]) -> list[V]:
        """`get` of each key in order, in one call (a message's dozen chunks: a call each saved);
        `get`'s body repeated inline on purpose, a call a key being what this saves."""
        kept = self._kept
        out = []
        for key in keys:
            done = kept.get(key)
            if done is None:
                if len(kept) >= self.most:
                    kept.clear()
                done = kept[key] = make(key)
            out.append(done)
        return out
