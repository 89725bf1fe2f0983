"""Identifiers, made by an injected factory so tests can predict them."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable

IdFactory = Callable[[str], str]


class _TimeAndRandom:
    """New ids such as `cp_01a229b913497f24ceddf9deeed2a6c8`: the prefix, the time in
    milliseconds as 12 hex digits (written out once a millisecond), then 80 random bits as 20
    hex digits, read from the system's random source a block at a time.

    The time in front makes ids made later sort later, so a big import adds its points at
    the right-hand end of every index keyed by point id (contact points, their state and
    facts, the events by point) instead of at random places all over it: once the tables
    outgrow the cache, random keys cost a page read and write per index per row. The
    random part keeps ids unguessable and unique across processes.

    One `os.urandom` call a block instead of one an id (an append makes an id per event).
    Each part of a block is taken once: by `list.pop`, one step no other thread can split
    (threads share the block), so an id costs no lock (a third of its cost); a block is read
    under a lock, and dropped in a forked child, so no two ids, in any thread or process,
    get the same bits. The millisecond and its text are kept as one tuple, replaced whole.
    """

    _BLOCK = 256  # ids a read

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):  # where processes fork (not on Windows)
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # In a forked child: the parent's unused bits are dropped, and a lock another
        # thread held at the fork is not inherited held.
        self._lock = threading.Lock()
        self._left: list[str] = []
        self._millis = (-1, "")

    def __call__(self, prefix: str) -> str:
        now = _time_ns() // 1_000_000
        left = self._left
        try:
            bits = left.pop()
        except IndexError:  # the block is used up: the first thread here reads the next one
            with self._lock:
                if not left:
                    block = os.urandom(10 * self._BLOCK).hex()
                    left.extend(block[i : i + 20] for i in range(0, len(block), 20))
            return self(prefix)
        millis, text = self._millis
        if millis != now:
            self._millis = (now, text := f"{now:012x}")
        return f"{prefix}_{text}{bits}"


_time_ns = time.time_ns
#: A new id with the prefix (`_TimeAndRandom`): the ids a running app makes (`bootstrap`). The
#: factory's bound method itself, which makes the whole id in one call (an append makes an id
#: per event), and skips the lookup of `__call__` an instance's call makes.
random_ids: IdFactory = _TimeAndRandom().__call__


def counting_ids() -> IdFactory:
    """Ids that count up per prefix: `cp_000001`, `ev_000001` (tests)."""
    counters: dict[str, int] = {}

    def make(prefix: str) -> str:
        counters[prefix] = counters.get(prefix, 0) + 1
        return f"{prefix}_{counters[prefix]:06d}"

    return make


def derived_id(prefix: str, *parts: str) -> str:
    """An id derived from what a record says (`fb_...`): the same parts, the same id.

    Feedback names its events this way from ids (a point's, a message's, a caller's), so a
    report read twice adds nothing the second time. An id derived from personal data (an
    address) is made by `DerivedIds`, keyed: a plain hash of an address is ~10**8 guesses
    from a Dutch mobile number, and an event's id stays in the ledger after an erasure.
    """
    return _plain(prefix, "\x1f".join(parts).encode())


def _plain(prefix: str, text: bytes) -> str:
    """`derived_id` of the parts joined as `text`."""
    return prefix + "_" + hashlib.sha256(text).hexdigest()[:24]


class DerivedIds:
    """Ids derived from what a record says, keyed: HMAC-SHA-256 of the parts under a secret kept
    outside the database (a subkey of the blind index secret), so the same parts give the same
    id, and someone holding only the database cannot test guesses of the address in it.

    Imports name their events so (`im_...`): a file imported twice adds nothing the second
    time. Earlier versions named them `derived_id(prefix, *parts)`, unkeyed; each id made here
    remembers what it was made of (until `forget`), and `unkeyed` gives that form for the ids
    looked up, so a file an earlier version imported is still recognised as imported (the
    ledger keeps those ids: the chain covers them). Only ids looked up are hashed the old way:
    a fresh import looks none up.
    """

    __slots__ = ("_mac", "_made")

    def __init__(self, key: bytes) -> None:
        self._mac = hmac.new(key, digestmod=hashlib.sha256)  # keyed once, copied per id
        #: What each id made since `forget` was made of: its prefix and its parts, joined.
        self._made: dict[str, tuple[str, bytes]] = {}

    def __repr__(self) -> str:  # never the key
        return "DerivedIds(...)"

    def __call__(self, prefix: str, *parts: str) -> str:
        text = "\x1f".join(parts).encode()
        mac = self._mac.copy()
        mac.update(text)
        made = prefix + "_" + mac.hexdigest()[:24]
        self._made[made] = (prefix, text)
        return made

    def unkeyed(self, made: str) -> str | None:
        """The id an earlier version derived from the same parts (`derived_id`), for an id made
        here since `forget`; None for any other."""
        source = self._made.get(made)
        return None if source is None else _plain(*source)

    def forget(self) -> None:
        """Drop what the ids made were made of (an importer's block is done)."""
        self._made.clear()
