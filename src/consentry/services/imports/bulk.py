"""The bulk path: an import's blocks prepared for the ledger, in worker processes when the file is big.

A block is `runner.BLOCK_ROWS` rows of the file, the import's unit of work. Everything
about a block that does not need the database is done here, by the same code the
generic path runs: the mapper's records (with a context of the block's own), the
ledger's checks and normalisation (`ledger.Batch.event`), each event's canonical payload JSON
and the pieces of its canonical form, and — on the assumption that every contact point
the block registers is new to the ledger — each point's projection, folded from its
events. The writer then only numbers, hashes and stores (`Writer.append_fresh`).

The assumption is checked by the writer, inside its transaction (`runner._write`, with `split`).
Whenever a block does not fit the bulk path — a point the ledger knows, a record about a
point not registered in the block, a record the ledger refuses — the block says why in
`generic`, and the importer maps and writes those rows again the generic way, so what
ends up in the ledger and in the report is the same either way (the generic path is
the reference; tests/integration/test_import_bulk.py holds the two equal, and
docs/performance.md says what the bulk path is worth).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import attrgetter

from consentry.adapters.canonical_json import payload_json
from consentry.adapters.csvfile import CsvError, make_row
from consentry.adapters.sql_store import FreshEvent, FreshPoint, Recorded, fresh_point, stored_time
from consentry.domain.chain import canonical_parts
from consentry.domain.errors import FieldError
from consentry.domain.events import Event
from consentry.domain.state import fold
from consentry.domain.vocabulary import PointKind
from consentry.services.errors import LineProblem
from consentry.services.imports.model import ImportContext, MappedRow, Mapper, Records, RowRejected, subject
from consentry.services.ledger import Batch

#: A row of the file as read: its line and its values.
RawRow = tuple[int, list[str]]


@dataclass(frozen=True, slots=True)
class Setup:
    """What a worker needs to prepare blocks (sent to it once)."""

    mapper: Mapper
    header: tuple[str, ...]
    region: str
    purposes: frozenset[str]
    sqlite: bool


@dataclass(frozen=True, slots=True)
class PreparedLine:
    """A row the mapper accepted: its line, the slice of `Prepared.events` it made and the
    (indexes of the) points its events are about."""

    line: int
    start: int
    end: int
    about: tuple[int, ...]


@dataclass(slots=True)
class Prepared:
    """A block made ready for `Writer.append_fresh`, with what its rows told the report."""

    rows: int = 0
    accepted: int = 0
    rejected: list[LineProblem] = field(default_factory=list)
    notes: list[LineProblem] = field(default_factory=list)
    suggestions: Counter[str] = field(default_factory=Counter)
    tally: Counter[str] = field(default_factory=Counter)
    keys: list[tuple[PointKind, str]] = field(default_factory=list)
    lines: list[PreparedLine] = field(default_factory=list)
    points: list[FreshPoint] = field(default_factory=list)
    events: list[FreshEvent] = field(default_factory=list)
    recorded: Recorded = field(default_factory=lambda: Recorded("", None))
    #: Why the block must be written the generic way; None when it need not.
    generic: str | None = None


@dataclass(frozen=True, slots=True)
class BulkPart:
    """What of a prepared block goes in bulk, and the lines that must go the generic way."""

    points: list[FreshPoint]
    events: list[FreshEvent]
    later: list[int]


class _NeedsStore(Exception):
    """A record needs the ledger to be understood: the block goes the generic way."""


class _NoStore:
    """Stands in for the ledger a `Batch` asks: only the purposes are known."""

    def __init__(self, purposes: frozenset[str]) -> None:
        self.purposes = purposes

    def purpose(self, key: str) -> bool | None:
        return True if key in self.purposes else None

    def point_id(self, kind: PointKind, value: str) -> str | None:
        raise _NeedsStore(f"a record names {kind.value}:{value}, not registered in this block")

    def point_kind(self, point_id: str) -> PointKind | None:
        raise _NeedsStore(f"a record names contact point {point_id}")

    def event_exists(self, event_id: str) -> bool:
        raise _NeedsStore("an event id to look up")  # not asked: the import's ids are trusted

    def find_points(self, keys: object) -> Mapping[tuple[PointKind, str], str]:
        raise _NeedsStore("registrations to look up")  # not asked: the writer looks them up


class _PlaceholderIds:
    """Point ids for a block: `#0`, `#1`, ... in registration order.

    The writer gives the real ones, so ids come from the application's factory in the
    same order as on the generic path.
    """

    def __init__(self) -> None:
        self.points = 0

    def __call__(self, prefix: str) -> str:
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
    out = Prepared(rows=len(rows))
    ctx = ImportContext(setup.region)
    mapped, out.rejected = map_rows(setup, rows, ctx)
    out.notes, out.suggestions, out.tally = ctx.notes, ctx.suggestions, ctx.tally
    out.accepted = len(mapped)
    batch = Batch(now, setup.region, _PlaceholderIds(), _NoStore(setup.purposes), trusted_ids=True)
    built: list[Event] = []
    emitted: set[str] = set()
    try:
        for row in mapped:
            start = len(built)
            for r in row.records:
                rid = r.get("id")
                if rid in emitted:
                    continue  # the same record twice in this block: a duplicate row, already noted
                if rid is None:
                    raise _NeedsStore("a record without an id")
                emitted.add(rid)
                built.append(batch.event(r, row.line))
            out.lines.append(PreparedLine(row.line, start, len(built), _about(row.records, batch.refs)))
    except (_NeedsStore, FieldError) as exc:
        return Prepared(rows=out.rows, generic=str(exc))  # the generic path maps the rows anew
    out.keys = list(batch.new_points)
    try:
        _assemble(out, built, now, setup.sqlite)
    except ValueError as exc:
        return Prepared(rows=out.rows, generic=str(exc))
    return out


def map_rows(
    setup: Setup, rows: list[RawRow], ctx: ImportContext
) -> tuple[list[MappedRow], list[LineProblem]]:
    """The rows' records as the mapper makes them, and the rows it rejected (with why)."""
    mapper, header = setup.mapper, setup.header
    mapped: list[MappedRow] = []
    rejected: list[LineProblem] = []
    for line, values in rows:
        try:
            mapped.append(MappedRow(line, mapper.records(make_row(header, line, values), ctx)))
        except RowRejected as exc:
            rejected.append(LineProblem(line, exc.field, exc.message))
    return mapped, rejected


def _about(recs: Records, refs: dict[str, tuple[str, PointKind]]) -> tuple[int, ...]:
    """The points a row's records are about (also those left out as duplicates)."""
    about = set()
    for r in recs:
        found = refs.get(subject(r))
        if found is None:
            raise _NeedsStore(f"a record about {subject(r)}, not registered in this block")
        about.add(int(found[0][1:]))
    return tuple(about)


def _assemble(out: Prepared, built: list[Event], now: datetime, sqlite: bool) -> None:
    """The stored forms of the block's events and of its new points' projections."""
    out.recorded = Recorded(now.isoformat(), stored_time(now, sqlite))
    by_point: dict[int, list[Event]] = {}
    registration: dict[int, int] = {}
    last: dict[int, int] = {}
    events = out.events
    for i, ev in enumerate(built):
        point = int(ev.contact_point_id[1:])
        occurred = ev.occurred_at.isoformat()
        head, tail = canonical_parts(ev, occurred)
        stored = stored_time(ev.occurred_at, sqlite, occurred)
        payload = payload_json(ev.payload)
        events.append(FreshEvent(point, ev.id, ev.type, stored, ev.schema_version, payload, head, tail))
        by_point.setdefault(point, []).append(ev)
        last[point] = i
        if ev.type == "contact_point.registered":
            registration[point] = i
    for point, (kind, value) in enumerate(out.keys):
        evs = by_point[point]
        # The fold order is (occurred_at, seq); the writer numbers the events in block
        # order, so among events of the same moment the block order (kept by the stable
        # sort) is the seq order. Without seqs the state's last_seq stays 0 and its id
        # "", as `fresh_point` wants them: the writer puts both in.
        evs.sort(key=_OCCURRED)
        out.points.append(fresh_point(kind, value, registration[point], last[point], fold("", evs), sqlite))


_OCCURRED = attrgetter("occurred_at")


def split(p: Prepared, known: Mapping[tuple[PointKind, str], str]) -> BulkPart:
    """The block's events and points that can go in bulk, and the lines that cannot.

    A row about a point the ledger knows cannot, nor any row about a point such a row
    is about (and so on), so every row about a point goes the same way.
    """
    if not known:
        return BulkPart(p.points, p.events, [])
    held = {i for i, key in enumerate(p.keys) if key in known}
    rows_about: dict[int, list[int]] = {}
    for n, pl in enumerate(p.lines):
        for point in pl.about:
            rows_about.setdefault(point, []).append(n)
    later: set[int] = set()
    todo = list(held)
    while todo:
        for n in rows_about.get(todo.pop(), ()):
            if n not in later:
                later.add(n)
                for point in p.lines[n].about:
                    if point not in held:
                        held.add(point)
                        todo.append(point)
    later_lines = [p.lines[n].line for n in sorted(later)]
    if len(held) == len(p.keys):
        return BulkPart([], [], later_lines)
    new_point: dict[int, int] = {}
    for i in range(len(p.keys)):
        if i not in held:
            new_point[i] = len(new_point)
    new_event: dict[int, int] = {}
    events: list[FreshEvent] = []
    for n, pl in enumerate(p.lines):
        if n in later:
            continue
        for i in range(pl.start, pl.end):
            ev = p.events[i]
            new_event[i] = len(events)
            events.append(replace(ev, point=new_point[ev.point]))
    points = [
        replace(q, registration=new_event[q.registration], last=new_event[q.last])
        for i, q in enumerate(p.points)
        if i not in held
    ]
    return BulkPart(points, events, later_lines)


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
