"""Loading contact-point state as the rules judge it: the folded ledger plus register listings.

`StateCache` keeps recently folded states per process. A cached state is used
only while the point's projection head (last seq) and the registers' version
are unchanged, and only for moments after the point's last event, so it is
always what a fresh fold would give.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from threading import Lock

from consentry.adapters.sql_store import Reader
from consentry.domain.state import ContactState, fold


def load(r: Reader, point_id: str, as_of: datetime | None = None) -> ContactState:
    """One contact point's state as of a moment."""
    state = fold(point_id, r.events_for(point_id, as_of=as_of))
    _listed(r, [state])
    return state


def load_many(r: Reader, point_ids: Sequence[str], as_of: datetime | None = None) -> dict[str, ContactState]:
    """Many contact points' states as of a moment, read in bulk; unknown ids are absent."""
    events = r.events_for_many(point_ids)
    states = {pid: fold(pid, evs, as_of=as_of) for pid, evs in events.items()}
    _listed(r, list(states.values()))
    return states


def _listed(r: Reader, states: list[ContactState]) -> None:
    """Add the do-not-contact register listings (the ledger's own listings stay)."""
    found = r.listings((s.kind, s.value) for s in states if s.value)
    if found:
        for s in states:
            s.listings.extend(found.get((s.kind, s.value), ()))


class StateCache:
    """Folded states of recently asked-about contact points, checked against the store on each use."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[int, tuple[int, datetime | None], ContactState]] = OrderedDict()
        self._lock = Lock()
        self.hits = self.misses = 0

    def load_many(
        self, r: Reader, point_ids: Sequence[str], as_of: datetime | None = None
    ) -> dict[str, ContactState]:
        """As `load_many`, serving unchanged points from the cache (states are shared: never mutate)."""
        heads = r.heads(point_ids)
        version = r.registers_version()
        found: dict[str, ContactState] = {}
        missing: list[str] = []
        with self._lock:
            for pid in dict.fromkeys(point_ids):
                head = heads.get(pid)
                if head is None:
                    continue
                item = self._items.get(pid)
                current = as_of is None or head[1] is None or as_of >= head[1]
                if item is not None and current and item[0] == head[0] and item[1] == version:
                    self._items.move_to_end(pid)
                    found[pid] = item[2]
                else:
                    missing.append(pid)
            self.hits += len(found)
            self.misses += len(missing)
        if missing:
            loaded = load_many(r, missing, as_of)
            with self._lock:
                for pid, state in loaded.items():
                    head = heads[pid]
                    if as_of is None or head[1] is None or as_of >= head[1]:
                        self._items[pid] = (head[0], version, state)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            found.update(loaded)
        return found
