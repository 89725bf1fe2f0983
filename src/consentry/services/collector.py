"""Pausing Python's cyclic garbage collector while a bulk append runs.

An append keeps every event it makes until the projection folds them (up to 50,000 at a
time) and holds a block of records and rows besides, so nearly everything it allocates
lives long enough to reach the collector's oldest generation; each full pass then walks
all of it again. In `benchmarks/append.py` (50,000 events, SQLite) that was a fifth of the
append's CPU (0.6-0.7 of 2.7-2.9 s), most of it in seven full passes of 60-70 ms. What an
append makes for its events holds no reference cycles, so reference counting frees it as
before; the collector only waits (and collects the few cycles left meanwhile afterwards).

The collector has one switch for the whole process: the first of concurrent appends
turns it off (if it was on) and the last to finish turns it back on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (as it was again afterwards)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
