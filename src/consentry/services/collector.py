"""Collecting garbage rarely while a load runs: an import, a bulk append.

A load's objects (rows, records, events) hold no reference cycles, so reference counting
frees them; the cyclic collector only walks them. At its default thresholds (700, 10, 10)
it collects the young generation every few hundred records for nothing and the older
ones, which hold every object the process has, far too often. An append keeps its events
until the projection folds them (up to 50,000 at a time), so nearly all of them reach the
oldest generation and each full pass walks them all again: in `benchmarks/append.py`
(50,000 events, SQLite) a fifth of the append's CPU (0.6-0.7 of 2.7-2.9 s), most of it in
seven full passes of 60-70 ms.

Only the thresholds change (no freezing, which a serving process may have done for itself
at start-up), and they are put back by the last of concurrent loads to finish, which then
collects what the loads left: the young generation after a short load, everything after a
long one.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: The collector's thresholds while a load runs: the young generation once a million more
#: objects are alive than at its last collection, the older ones practically never. A load
#: keeps up to 50,000 events with their payloads, rows and records alive at a time; every
#: young collection walks all of them, at several hundred ns an object once they outgrow
#: the caches: at 50,000, 45 collections took 0.39-0.41 s of 8.3 s CPU in
#: `benchmarks/append.py` (200,000 events, SQLite); at 1,000,000 none happen there.
LOAD_THRESHOLDS = (1_000_000, 50, 100)

_lock = threading.Lock()
_loads = 0
_before = gc.get_threshold()
#: How many young collections had run when the first of the current loads began.
_young_at_start = 0


def _young_collections() -> int:
    return int(gc.get_stats()[0]["collections"])


@contextmanager
def rare_collections() -> Iterator[None]:
    """The collector at `LOAD_THRESHOLDS` for the block (as it was again afterwards)."""
    global _loads, _before, _young_at_start
    with _lock:
        if _loads == 0:
            _before = gc.get_threshold()
            _young_at_start = _young_collections()
            gc.set_threshold(*LOAD_THRESHOLDS)
        _loads += 1
    try:
        yield
    finally:
        with _lock:
            _loads -= 1
            if _loads == 0:
                gc.set_threshold(*_before)
                # What a load left in cycles (a send's render errors, a request's objects in a
                # web process that ran a send in the background) goes now, not at some later
                # collection: it may hold people's clear data. A short load (one event a
                # request through the API, a form, the contact page) ran no collection, so its
                # cycles are all young: collecting that generation finds them without a full
                # pass over the process on every request. A long one may have moved some older.
                gc.collect() if _young_collections() > _young_at_start else gc.collect(0)
