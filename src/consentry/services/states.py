"""Loading contact-point state as the rules judge it: the folded ledger plus register listings.

`StateCache` keeps recently folded states per process. A cached state is used
only while the point's projection head (last seq) and the registers' version
are unchanged, and only for moments after the point's last event, so it is
always what a fresh fold would give.

Checking each point's head costs an indexed read per point. For many points at
once the cache first reads the ledger's head (seq and hash): while it is the one
a cached entry was last checked under, no event has been appended since, so no
point's head has moved and the entry stands without a read of its own. The hash
matters: after a rolled-back append the same seq can come back with other events.

An objection (GDPR Art. 21) binds the person, not one address: every state handed
out carries the objections made on the other points of its contact (`contact_id`)
by the moment asked about, read from those points' ledger on each load, never
cached with the point (their events do not move this point's head).

A point registered with the address of an erased one carries that point's suppression
record (`ContactState.prior_suppression`), read by the address's blind index when it is folded.

A question about a moment before a point's last event cannot take the cached state (it
folds events the moment had not seen). For the last `HISTORY` points asked about so, the
cache keeps their opened events with the register listings and suppression record read with
them, under the same check (the point's head and the registers' version): such a question
is then a fold in memory, not a read of the events with their sealed fields opened again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from threading import Lock
from typing import TypeVar

from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.state import ContactState, Listing, PriorSuppression
from consentry.domain.vocabulary import PointKind
from consentry.services.ports import LedgerReader, LedgerView

#: From this many points on, one read of the ledger head is cheaper than a read per point.
MANY = 32
#: How many points' events the cache keeps for questions about an earlier moment.
HISTORY = 1_000

Version = tuple[tuple[int, str] | None, tuple[int, datetime | None]]
PointKey = tuple[PointKind, str]
_Ref = TypeVar("_Ref")


def load(r: LedgerView, point_id: str, as_of: datetime | None = None) -> ContactState:
    """One contact point's state as of a moment."""
    state = fold(point_id, r.events_for(point_id, as_of=as_of))
    _listed(r, [state])
    (state,) = with_prior_suppression(r, [state])
    return with_person(r, {point_id: state}, as_of)[point_id]


def load_many(
    r: LedgerView, point_ids: Sequence[str], as_of: datetime | None = None
) -> dict[str, ContactState]:
    """Many contact points' states as of a moment, read in bulk; unknown ids are absent."""
    return with_person(r, _folded(r, point_ids, as_of), as_of)


def _folded(
    r: LedgerView,
    point_ids: Sequence[str],
    as_of: datetime | None,
    keep: dict[str, _Read] | None = None,
    registers: tuple[int, datetime | None] | None = None,
) -> dict[str, ContactState]:
    """The states as of a moment, read and folded; with `keep`, what was read for each point too.

    `registers`: the registers' version read before (their count first); with none, no
    listings are looked for (a register imported since changes the version the states are
    cached under, so they are folded again).
    """
    events = r.events_for_many(point_ids)
    states = {pid: fold(pid, evs, as_of=as_of) for pid, evs in events.items()}
    listed = {} if registers is not None and registers[0] == 0 else _listed(r, list(states.values()))
    # A point's prior suppression is fixed when it is registered (the record came first), so it
    # is cached with the state like the fold itself.
    out = {s.id: s for s in with_prior_suppression(r, list(states.values()))}
    if keep is not None:
        for pid, s in out.items():
            if s.value:  # registered by the moment: its listings and record were read
                keep[pid] = _Read(events[pid], listed.get((s.kind, s.value), []), s.prior_suppression)
    return out


@dataclass(frozen=True, slots=True)
class _Read:
    """A point's opened events, with the register listings and the suppression record of its value."""

    events: list[Event]
    listings: list[Listing]
    prior: PriorSuppression | None

    def state(self, point_id: str, as_of: datetime | None) -> ContactState:
        """What `_folded` gives for this point as of a moment."""
        state = fold(point_id, self.events, as_of=as_of)
        if state.value:
            state.listings.extend(self.listings)
            if self.prior is not None and state.erased_at is None:
                state = replace(state, prior_suppression=self.prior)
        return state


def with_prior_suppression(r: LedgerReader, states: list[ContactState]) -> list[ContactState]:
    """The states, each carrying the suppression record an erased point with its address left."""
    found = r.prior_suppressions((s.kind, s.value) for s in states if s.value and s.erased_at is None)
    if not found:
        return states
    return [
        replace(s, prior_suppression=found[(s.kind, s.value)]) if (s.kind, s.value) in found else s
        for s in states
    ]


def with_person(
    r: LedgerView, states: dict[str, ContactState], as_of: datetime | None = None
) -> dict[str, ContactState]:
    """The states with the objections made on other points of their contact by `as_of`.

    Only points of those contacts that ever had an objection are folded (from the
    ledger, as of the moment); a point counts when it belonged to the contact then.
    A state that gains objections is a copy: cached states are shared.
    """
    contacts = {s.contact_id for s in states.values() if s.contact_id}
    if not contacts:
        return states
    objecting = r.objecting_points(sorted(contacts))
    if not objecting:
        return states
    others = sorted({pid for pids in objecting.values() for pid in pids})
    folded = {pid: fold(pid, evs, as_of=as_of) for pid, evs in r.events_for_many(others).items()}
    out = dict(states)
    for pid, state in states.items():
        found: dict[str, tuple[str, datetime]] = {}
        for other in objecting.get(state.contact_id or "", ()):
            sibling = folded.get(other)
            if other == pid or sibling is None or sibling.contact_id != state.contact_id:
                continue
            for scope, at in sibling.objections.items():
                if scope not in found or at < found[scope][1]:
                    found[scope] = (other, at)
        if found:
            out[pid] = replace(state, person_objections=found)
    return out


def _listed(r: LedgerView, states: list[ContactState]) -> dict[PointKey, list[Listing]]:
    """Add the do-not-contact register listings (the ledger's own listings stay); those found."""
    found = r.listings((s.kind, s.value) for s in states if s.value)
    if found:
        for s in states:
            s.listings.extend(found.get((s.kind, s.value), ()))
    return found


def _before(as_of: datetime | None, head: tuple[int, datetime | None]) -> bool:
    """Whether a moment is before a point's last event (a cached current state cannot answer it)."""
    return as_of is not None and head[1] is not None and as_of < head[1]


@dataclass(slots=True)
class _Item:
    seq: int  # the point's last seq
    at: datetime | None  # the point's last occurred_at
    version: Version  # (ledger head, registers version) when last checked
    state: ContactState


@dataclass(frozen=True, slots=True)
class _Past:
    seq: int  # the point's last seq when read
    registers: tuple[int, datetime | None]  # the registers' version when read
    read: _Read


_MISSING = object()


class StateCache:
    """Folded states of recently asked-about contact points, checked against the store on each use."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._items: OrderedDict[str, _Item] = OrderedDict()
        self._ids: OrderedDict[PointKey, tuple[str, tuple[int, str]]] = OrderedDict()
        self._past: OrderedDict[str, _Past] = OrderedDict()
        self._refs: OrderedDict[tuple[str, str], object] = OrderedDict()  # `resolved`
        self._lock = Lock()
        self.hits = self.misses = 0

    def find_points(self, r: LedgerView, keys: Iterable[PointKey]) -> dict[PointKey, str]:
        """As `LedgerReader.find_points`; many keys are served from memory while the ledger is unchanged."""
        keys = list(dict.fromkeys(keys))
        if len(keys) < MANY:
            return r.find_points(keys)
        head = r.head()
        found: dict[PointKey, str] = {}
        ask: list[PointKey] = []
        with self._lock:
            for key in keys:
                known = self._ids.get(key)
                if known is not None and known[1] == head:
                    found[key] = known[0]
                else:
                    ask.append(key)
        if ask:
            fresh = r.find_points(ask)
            found.update(fresh)
            with self._lock:
                for key, pid in fresh.items():
                    self._ids[key] = (pid, head)
                    self._ids.move_to_end(key)
                while len(self._ids) > self.size:
                    self._ids.popitem(last=False)
        return found

    def resolved(self, ref: str, region: str, resolve: Callable[[str, str], _Ref]) -> _Ref:
        """`resolve(ref, region)` (a contact as it was typed: its kind and normal form, or an
        id), remembered like the states: normalising a phone number costs more than judging it.
        It holds addresses in clear, so `forget` drops it with the point's state."""
        key = (ref, region)
        with self._lock:
            found = self._refs.get(key, _MISSING)
        if found is _MISSING:
            found = resolve(ref, region)
            with self._lock:
                self._refs[key] = found
                while len(self._refs) > self.size:
                    self._refs.popitem(last=False)
        return found  # type: ignore[return-value]  # what `resolve` gave for this ref

    def forget(self, point_ids: Iterable[str], keys: Iterable[PointKey] = ()) -> None:
        """Drop what is kept of these points, and of their addresses (`keys`), at once: an
        erasure's (their states and the contacts typed for them hold addresses, names and
        attributes in clear). An entry is checked against the store on its next use anyway;
        this does not wait for a use or for it being pushed out. Other processes' caches drop
        theirs on their next use of the point or as they fill."""
        ids = set(point_ids)
        gone: set[object] = {*ids, *keys}  # what `resolved` may have given for them
        with self._lock:
            for pid in ids:
                self._items.pop(pid, None)
                self._past.pop(pid, None)
            for key in [key for key, (pid, _head) in self._ids.items() if pid in ids]:
                del self._ids[key]
            for ref in [ref for ref, found in self._refs.items() if found in gone]:
                del self._refs[ref]

    def _valid_past(self, point_id: str, seq: int, registers: tuple[int, datetime | None]) -> _Read | None:
        """A point's kept events while its head and the registers are as when read (lock held)."""
        past = self._past.get(point_id)
        if past is None or past.seq != seq or past.registers != registers:
            return None
        self._past.move_to_end(point_id)
        return past.read

    def _keep(
        self,
        read: dict[str, _Read],
        heads: dict[str, tuple[int, datetime | None]],
        registers: tuple[int, datetime | None],
    ) -> None:
        with self._lock:
            for pid, got in read.items():
                self._past[pid] = _Past(heads[pid][0], registers, got)
                self._past.move_to_end(pid)
            while len(self._past) > HISTORY:
                self._past.popitem(last=False)

    def load_many(
        self,
        r: LedgerView,
        point_ids: Sequence[str],
        as_of: datetime | None = None,
        heads: dict[str, tuple[int, datetime | None]] | None = None,
        registers: tuple[int, datetime | None] | None = None,
    ) -> dict[str, ContactState]:
        """As `load_many`, serving unchanged points from the cache (states are shared: never mutate).

        `heads` (of every point asked about that has a projection row) and `registers`
        are what `LedgerReader.heads` and `Registers.registers_version` would read in this
        transaction, when the caller has read them already (`DecisionBasis`).
        """
        wanted = list(dict.fromkeys(point_ids))
        if registers is None:
            registers = r.registers_version()
        version: Version = (r.head() if len(wanted) >= MANY else None, registers)
        found: dict[str, ContactState] = {}
        check: list[str] = []
        with self._lock:
            for pid in wanted:
                item = self._items.get(pid)
                if (
                    item is not None
                    and version[0] is not None
                    and item.version == version
                    and (as_of is None or item.at is None or as_of >= item.at)
                ):
                    self._items.move_to_end(pid)
                    found[pid] = item.state
                else:
                    check.append(pid)
        if not check:
            with self._lock:
                self.hits += len(found)
            return with_person(r, found, as_of)
        if heads is None:
            heads = r.heads(check)
        missing: list[str] = []
        earlier: list[tuple[str, _Read]] = []
        # Without projection rows: erased points (folded from the ledger, never cached) or unknown ids.
        unprojected = [pid for pid in check if pid not in heads]
        with self._lock:
            for pid in check:
                head = heads.get(pid)
                if head is None:
                    continue
                item = self._items.get(pid)
                current = as_of is None or head[1] is None or as_of >= head[1]
                if item is not None and current and item.seq == head[0] and item.version[1] == registers:
                    if version[0] is not None:
                        item.version = version
                    self._items.move_to_end(pid)
                    found[pid] = item.state
                elif not current and (past := self._valid_past(pid, head[0], registers)) is not None:
                    earlier.append((pid, past))
                else:
                    missing.append(pid)
            self.hits += len(found) + len(earlier)
            self.misses += len(missing)
        for pid, got in earlier:
            found[pid] = got.state(pid, as_of)
        if missing:
            read: dict[str, _Read] = {}
            loaded = _folded(r, missing, as_of, read if as_of is not None else None, registers)
            kept = {pid: got for pid, got in read.items() if _before(as_of, heads[pid])}
            self._keep(kept, heads, registers)
            with self._lock:
                for pid, state in loaded.items():
                    head = heads[pid]
                    if as_of is None or head[1] is None or as_of >= head[1]:
                        self._items[pid] = _Item(head[0], head[1], version, state)
                        self._items.move_to_end(pid)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            found.update(loaded)
        if unprojected:
            found.update(_folded(r, unprojected, as_of, registers=registers))
        return with_person(r, found, as_of)
