"""Preparing an import's rows for the ledger in blocks, in worker processes when the file is big.

A block is `imports.CHUNK_ROWS` rows of the file. Everything about a block that does
not need the database is done here, by the same code the generic path runs: the
mapper's records (with a context of the block's own, as a chunk has), the ledger's
checks and normalisation (`ledger._Batch.event`), each event's canonical payload JSON
and the pieces of its canonical form, and — on the assumption that every contact point
the block registers is new to the ledger — each point's projection, folded from its
events. The writer then only numbers, hashes and stores (`Writer.append_fresh`).

The assumption is checked by the writer, inside its transaction (`imports._write`).
Whenever a block does not fit the bulk path — a point the ledger knows, a record about a
point not registered in the block, a record the ledger refuses — the block says why in
`generic`, and the importer maps and writes those rows again the generic way, so what
ends up in the ledger and in the report is the same either way.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

from consentry.adapters.canonical_json import payload_json
from consentry.adapters.csvfile import CsvError, make_row
from consentry.adapters.sql_store import FreshEvent, FreshPoint, fresh_projection, stored_time
from consentry.domain.chain import canonical_parts
from consentry.domain.errors import FieldError
from consentry.domain.events import Event
from consentry.domain.state import fold
from consentry.domain.vocabulary import PointKind
from consentry.services.errors import LineProblem
from consentry.services.ledger import _Batch

if TYPE_CHECKING:
    from consentry.adapters.sql_store import Writer
    from consentry.bootstrap import App
    from consentry.services.imports import ImportContext, Mapper

RawRow = tuple[int, list[str]]


@dataclass(frozen=True)
class Setup:
    """What a worker needs to prepare blocks (sent to it once)."""

    mapper: Mapper
    header: tuple[str, ...]
    region: str
    purposes: frozenset[str]
    sqlite: bool


@dataclass
class Prepared:
    """A block made ready for `Writer.append_fresh`, with what its rows told the report."""

    rows: int = 0
    accepted: int = 0
    rejected: list[LineProblem] = field(default_factory=list)
    notes: list[LineProblem] = field(default_factory=list)
    suggestions: Counter[str] = field(default_factory=Counter)
    tally: Counter[str] = field(default_factory=Counter)
    keys: list[tuple[PointKind, str]] = field(default_factory=list)
    #: Each row the mapper accepted: its line, the slice of `events` it made and the
    #: (indexes of the) points its events are about.
    lines: list[tuple[int, int, int, tuple[int, ...]]] = field(default_factory=list)
    points: list[FreshPoint] = field(default_factory=list)
    events: list[FreshEvent] = field(default_factory=list)
    recorded: tuple[str, Any] = ("", None)
    #: Why the block must be written the generic way; None when it need not.
    generic: str | None = None


class _NeedsStore(Exception):
    """A record needs the ledger to be understood: the block goes the generic way."""


class _NoStore:
    """Stands in for the writer `_Batch` asks: only the purposes are known."""

    def __init__(self, purposes: frozenset[str]) -> None:
        self.purposes = purposes

    def purpose(self, key: str) -> bool | None:
        return True if key in self.purposes else None

    def point_id(self, kind: PointKind, value: str) -> str | None:
        raise _NeedsStore(f"a record names {kind.value}:{value}, not registered in this block")

    def point_kind(self, point_id: str) -> PointKind | None:
        raise _NeedsStore(f"a record names contact point {point_id}")


class _Clock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


class _Settings:
    def __init__(self, region: str) -> None:
        self.default_region = region


class _AppView:
    """The part of the application `_Batch` uses: the clock, the region and ids.

    Point ids are placeholders (`#0`, `#1`, ... in registration order); the writer
    gives the real ones, so ids come from the application's factory in the same order.
    """

    def __init__(self, now: datetime, region: str) -> None:
        self.clock = _Clock(now)
        self.settings = _Settings(region)
        self.points = 0

    def ids(self, prefix: str) -> str:
        if prefix != "cp":
            raise _NeedsStore("a record without an id")
        self.points += 1
        return f"#{self.points - 1}"


_setup: Setup | None = None


#: The collector's thresholds while a load runs: its objects (rows, records, events,
#: their stored forms) are short-lived and hold no cycles, so at the default (700) the
#: young generation would be collected every few hundred records for nothing, and the
#: older ones, which hold every object the process has, far too often.
_LOAD_GC_THRESHOLDS = (50_000, 50, 100)


def init_worker(setup: Setup) -> None:
    """Worker process initialiser: remember what blocks are prepared with."""
    global _setup
    _setup = setup
    gc.freeze()
    gc.set_threshold(*_LOAD_GC_THRESHOLDS)


@contextmanager
def rare_collections() -> Iterator[None]:
    """Collect garbage rarely while the importing process loads a file (see `_LOAD_GC_THRESHOLDS`).

    Only the thresholds change, and they are put back: no freezing, which a serving
    process that imports (the API) may have done for itself at start-up.
    """
    before = gc.get_threshold()
    gc.set_threshold(*_LOAD_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def prepare_in_worker(rows: list[RawRow], now: datetime) -> Prepared:
    """`prepare` with the worker's setup."""
    assert _setup is not None, "init_worker first"
    return prepare(_setup, rows, now)


def prepare(setup: Setup, rows: list[RawRow], now: datetime) -> Prepared:
    """Map and check one block and prepare its events and projection (see the module docstring)."""
    from consentry.services.imports import ImportContext

    out = Prepared(rows=len(rows))
    ctx = ImportContext(None, setup.region)
    mapped, out.rejected = map_rows(setup, rows, ctx)
    out.notes, out.suggestions, out.tally = ctx.notes, ctx.suggestions, ctx.tally
    out.accepted = len(mapped)
    view = _AppView(now, setup.region)
    batch = _Batch(cast("App", view), cast("Writer", _NoStore(setup.purposes)), trusted_ids=True)
    built: list[Event] = []
    emitted: set[str] = set()
    try:
        for line, recs in mapped:
            start = len(built)
            for r in recs:
                rid = r.get("id")
                if rid in emitted:
                    continue  # the same record twice in this block: a duplicate row, already noted
                if rid is None:
                    raise _NeedsStore("a record without an id")
                emitted.add(rid)
                built.append(batch.event(r, line))
            out.lines.append((line, start, len(built), _about(recs, batch.refs)))
    except (_NeedsStore, FieldError) as exc:
        out.generic = str(exc)
        return _generic(out)
    out.keys = list(batch.new_points)
    try:
        _assemble(out, built, now, setup.sqlite)
    except ValueError as exc:
        out.generic = str(exc)
        return _generic(out)
    return out


def map_rows(
    setup: Setup, rows: list[RawRow], ctx: ImportContext
) -> tuple[list[tuple[int, list[dict[str, Any]]]], list[LineProblem]]:
    """The rows' records as the mapper makes them, and the rows it rejected (with why)."""
    from consentry.services.imports import RowRejected

    mapper, header = setup.mapper, setup.header
    mapped: list[tuple[int, list[dict[str, Any]]]] = []
    rejected: list[LineProblem] = []
    for line, values in rows:
        try:
            mapped.append((line, mapper.records(make_row(header, line, values), ctx)))
        except RowRejected as exc:
            rejected.append(LineProblem(line, exc.field, exc.message))
    return mapped, rejected


def _about(recs: list[dict[str, Any]], refs: dict[str, tuple[str, PointKind]]) -> tuple[int, ...]:
    """The points a row's records are about (also those left out as duplicates)."""
    about = set()
    for r in recs:
        subject = f"{r['kind']}:{r['value']}" if r["type"] == "contact_point.registered" else r["contact"]
        found = refs.get(subject)
        if found is None:
            raise _NeedsStore(f"a record about {subject}, not registered in this block")
        about.add(int(found[0][1:]))
    return tuple(about)


def _generic(out: Prepared) -> Prepared:
    """Drop what the generic path will find again (it maps the rows anew)."""
    return Prepared(rows=out.rows, generic=out.generic)


def _assemble(out: Prepared, built: list[Event], now: datetime, sqlite: bool) -> None:
    """The stored forms of the block's events and of its new points' projections."""
    rec_text = now.isoformat()
    out.recorded = (rec_text, stored_time(now, sqlite))
    by_point: dict[int, list[Event]] = {}
    registration: dict[int, int] = {}
    last: dict[int, int] = {}
    events = out.events
    for i, ev in enumerate(built):
        point = int(ev.contact_point_id[1:])
        occurred = ev.occurred_at.isoformat()
        head, tail = canonical_parts(ev, occurred)
        events.append(
            (
                point,
                ev.id,
                ev.type,
                stored_time(ev.occurred_at, sqlite, occurred),
                ev.schema_version,
                payload_json(ev.payload),
                head,
                tail,
            )
        )
        by_point.setdefault(point, []).append(ev)
        last[point] = i
        if ev.type == "contact_point.registered":
            registration[point] = i
    for point, (kind, value) in enumerate(out.keys):
        evs = by_point[point]
        # The fold order is (occurred_at, seq); the writer numbers the events in block
        # order, so among events of the same moment the block order (kept by the stable
        # sort) is the seq order. Without seqs the state's last_seq stays 0 and its id
        # "", as `fresh_projection` wants them: the writer puts both in.
        evs.sort(key=_OCCURRED)
        state = fold("", evs)
        state_row, state_json, facts = fresh_projection(state, sqlite)
        out.points.append((kind.value, value, registration[point], last[point], state_row, state_json, facts))


_OCCURRED = attrgetter("occurred_at")


def batched(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    """The file's rows in blocks of `size`; at a line that cannot be read, the rows before it first."""
    block: list[RawRow] = []
    try:
        for row in rows:
            block.append(row)
            if len(block) >= size:
                yield block
                block = []
    except CsvError:
        if block:
            yield block
        raise
    if block:
        yield block
