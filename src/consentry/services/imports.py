"""Importing contacts from files, with where they came from and what proves it.

A file is read row by row; a *mapper* turns each row into ledger records (or a
problem naming the row). Records get ids derived from their content, so
importing the same file again adds nothing. Rows are written in chunks, each
row whole and each chunk in one transaction (a big file's chunks `COMMIT_BLOCKS` to a
transaction), so a crash leaves no half row and a re-run picks up where it
stopped. `strict` writes all or nothing; `dry_run` reports exactly what would happen
and writes nothing.

Rows go in blocks of `CHUNK_ROWS` through `import_blocks`, which maps and checks
them and prepares their events and projection, in worker processes for a big file
(`workers`); a block whose contact points are all new to the ledger is then only
numbered, hashed and stored (`Writer.append_fresh`), any other block is mapped again
here and written the generic way (`_write_records`). Both give the same ledger and report.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

from consentry.adapters.addresses import AddressError, Normalised, normalise
from consentry.adapters.classify import suggest
from consentry.adapters.csvfile import CsvError, CsvFormat, Row, open_text, read_records
from consentry.adapters.sql_store import FreshEvent, FreshPoint, Writer
from consentry.bootstrap import App
from consentry.domain.clock import MomentError, parse_moment
from consentry.domain.events import STATED_BASES
from consentry.domain.vocabulary import ConsentMethod, PartyKind, PointKind, Source
from consentry.services import import_blocks as blocks
from consentry.services.errors import FileRejected, InputError, LineProblem
from consentry.services.ledger import append_in

CHUNK_ROWS = 2000
#: Files at least this big are prepared in worker processes (when `workers` is not given).
POOL_MIN_BYTES = 4 << 20
#: Blocks handed to workers and not yet written, per worker (bounds memory: a block
#: held as read and as prepared is ~15 MB of Python objects).
INFLIGHT_PER_WORKER = 2
#: Worker processes by default. Each holds ~90 MB; with the writer's ~280 MB (its 128 MB
#: SQLite page cache included) two stay within a 500 MB budget, and with more the writer,
#: which numbers, hashes and stores every row, is the bottleneck anyway.
MAX_WORKERS = 2
#: Blocks committed together when the file has `POOL_MIN_BYTES` or more. Each commit
#: writes every index page its rows touched, and most indexes are keyed by random ids
#: (contact point ids, event ids), so with 2,000 rows a commit nearly every leaf of
#: them is written once per block; ten blocks (~75 MB of SQLite pages) share those writes.
COMMIT_BLOCKS = 10
CONTACT_FIELDS = {"email": PointKind.EMAIL, "phone": PointKind.PHONE, "postal": PointKind.POSTAL}
FIELDS = (*CONTACT_FIELDS, "name", "party", "country", "consent_at", "consent_ip", "tags")
DEFAULT_CHANNELS = {PointKind.EMAIL: ["email"], PointKind.PHONE: ["sms"], PointKind.POSTAL: ["post"]}

Records = list[dict[str, Any]]
#: Record types `_unless_known` makes from a registration of a point the ledger knows.
_DERIVED = frozenset({"attributes.set", "tags.added"})


class RowRejected(Exception):
    """One row cannot be imported; the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def event_id(*parts: str) -> str:
    """An id derived from what an imported record says: the same record, the same id."""
    return "im_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def ref(point: Normalised) -> str:
    """How records of a row name its contact point."""
    return f"{point.kind.value}:{point.value}"


class Mapper(Protocol):
    """Turns one row into ledger records; may use and update the import's context."""

    def check(self, fmt: CsvFormat) -> list[str]:
        """File-level notes (missing proof); InputError when the file cannot be mapped."""
        ...

    def records(self, row: Row, ctx: ImportContext) -> Records:
        """The records for one row; RowRejected when the row cannot be imported."""
        ...


@dataclass
class ImportContext:
    """What the import knows across rows."""

    #: None in a worker process (which has no store).
    app: App | None
    region: str
    #: First line each contact point was seen on in the current chunk. Only the chunk:
    #: a million-row file must not be held in memory. A point seen in an earlier chunk
    #: is found registered in the ledger, and only its row's profile is added.
    seen: dict[tuple[PointKind, str], int] = field(default_factory=dict)
    notes: list[LineProblem] = field(default_factory=list)
    suggestions: Counter[str] = field(default_factory=Counter)
    #: Counts a mapper keeps for its file notes (e.g. members without an opt-in time).
    tally: Counter[str] = field(default_factory=Counter)

    def point(self, kind: PointKind, raw: str, column: str) -> Normalised:
        """Normalise a value or reject the row naming the column."""
        try:
            return normalise(kind, raw, self.region)
        except AddressError as exc:
            raise RowRejected(column, str(exc)) from None

    def first_time(self, point: Normalised, line: int) -> bool:
        """True the first time a point appears in the file; later times are noted."""
        key = (point.kind, point.value)
        first = self.seen.setdefault(key, line)
        if first != line:
            self.notes.append(LineProblem(line, point.kind.value, f"same contact as line {first}; merged"))
            return False
        return True


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    format: CsvFormat | None = None
    rows: int = 0
    accepted: int = 0
    rejected: list[LineProblem] = field(default_factory=list)
    notes: list[LineProblem] = field(default_factory=list)
    file_notes: list[str] = field(default_factory=list)
    new_points: int = 0
    existing_points: int = 0
    events: int = 0
    already_imported: int = 0
    suggestions: dict[str, int] = field(default_factory=dict)
    tally: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    committed: bool = False


class _Rollback(Exception):
    """Leaves a transaction without writing (dry run, or strict with problems)."""


def run(
    app: App,
    path: Path,
    mapper: Mapper,
    *,
    dry_run: bool = False,
    strict: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import one file through a mapper; see the module docstring for the guarantees.

    `workers` processes prepare the rows (0: this process does); by default a file of
    `POOL_MIN_BYTES` or more gets one per CPU, up to `MAX_WORKERS`, on a machine with more
    than one CPU.
    """
    try:
        text, enc = open_text(path, encoding)
        size = path.stat().st_size
    except OSError as exc:
        raise InputError("FILE", f"cannot open {path}: {exc.strerror}") from None
    except CsvError as exc:
        raise InputError("encoding", str(exc)) from None
    if workers is None:
        cpus = os.cpu_count() or 1
        workers = min(cpus, MAX_WORKERS) if cpus > 1 and size >= POOL_MIN_BYTES else 0
    with text:
        try:
            fmt, records = read_records(text, enc, delimiter)
        except CsvError as exc:
            raise InputError("FILE", str(exc)) from None
        report = ImportReport(format=fmt, dry_run=dry_run, file_notes=mapper.check(fmt))
        ctx = ImportContext(app, app.settings.default_region)
        with app.store.reader() as r:
            known_purposes = frozenset(p.key for p in r.purposes())
        setup = blocks.Setup(
            mapper, fmt.header, ctx.region, known_purposes, app.store.engine.dialect.name == "sqlite"
        )
        chunks = _blocks(app, setup, records, ctx, report, workers)
        try:
            with blocks.rare_collections(), app.store.bulk_writers() as writer:
                if dry_run or strict:
                    with writer() as w:
                        for chunk in chunks:
                            _write(app, w, chunk, report, progress)
                        if dry_run or report.rejected:
                            raise _Rollback
                else:
                    group = COMMIT_BLOCKS if size >= POOL_MIN_BYTES else 1
                    _write_committing(app, writer, chunks, report, progress, group)
            report.committed = not dry_run
        except _Rollback:
            report.committed = False
        except CsvError as exc:
            raise InputError("FILE", f"{exc} (rows before it were imported)") from None
        finally:
            chunks.close()
    report.notes = ctx.notes
    report.suggestions = dict(ctx.suggestions)
    report.tally = dict(ctx.tally)
    report.rejected.sort(key=lambda p: p.line)
    return report


@dataclass
class Block:
    """Rows of the file as read, with what `import_blocks.prepare` made of them."""

    rows: list[blocks.RawRow]
    prepared: blocks.Prepared
    setup: blocks.Setup
    #: The import's context: a block written the generic way is mapped again in it.
    ctx: ImportContext
    report: ImportReport

    def remap(self) -> list[tuple[int, Records]]:
        """Map the rows again here, as one chunk, counting them and their problems."""
        self.ctx.seen.clear()
        self.report.rows += len(self.rows)
        chunk, rejected = blocks.map_rows(self.setup, self.rows, self.ctx)
        self.report.rejected.extend(rejected)
        return chunk


def _blocks(
    app: App,
    setup: blocks.Setup,
    records: Iterator[blocks.RawRow],
    ctx: ImportContext,
    report: ImportReport,
    workers: int,
) -> Generator[Block, None, None]:
    """The file in prepared blocks, in file order; prepared by `workers` processes (or here).

    A CsvError in the file is raised after the blocks before it (the generic path's
    "rows before it were imported").
    """

    def block(rows: list[blocks.RawRow], prepared: blocks.Prepared) -> Block:
        return Block(rows, prepared, setup, ctx, report)

    if workers <= 0:
        for rows in blocks.batched(records, CHUNK_ROWS):
            yield block(rows, blocks.prepare(setup, rows, app.clock.now()))
        return
    pool = ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=blocks.init_worker, initargs=(setup,)
    )
    inflight: deque[tuple[list[blocks.RawRow], Future[blocks.Prepared]]] = deque()
    failed: CsvError | None = None
    try:
        try:
            for rows in blocks.batched(records, CHUNK_ROWS):
                inflight.append((rows, pool.submit(blocks.prepare_in_worker, rows, app.clock.now())))
                if len(inflight) >= workers * INFLIGHT_PER_WORKER:
                    rows, done = inflight.popleft()
                    yield block(rows, done.result())
        except CsvError as exc:
            failed = exc
        while inflight:
            rows, done = inflight.popleft()
            yield block(rows, done.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failed is not None:
        raise failed


def _write_committing(
    app: App,
    writer: Callable[[], AbstractContextManager[Writer]],
    chunks: Iterator[Block],
    report: ImportReport,
    progress: Callable[[int], None] | None,
    group: int,
) -> None:
    """Write the blocks, committing every `group` of them; at a CsvError (a line that
    cannot be read) the blocks before it are committed, then it is raised."""
    failed: CsvError | None = None
    done = False
    while not done:
        with writer() as w:
            for _ in range(group):
                try:
                    chunk = next(chunks)
                except StopIteration:
                    done = True
                    break
                except CsvError as exc:
                    failed, done = exc, True
                    break
                _write(app, w, chunk, report, progress)
    if failed is not None:
        raise failed


def _write(
    app: App,
    w: Writer,
    chunk: Block,
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    """Write a prepared block in the open transaction: in bulk what is about points new
    to the ledger, the rest the generic way; a block that cannot go in bulk at all (see
    `import_blocks`) is mapped anew and written the generic way."""
    p = chunk.prepared
    if p.generic is not None:
        remapped = chunk.remap()
        if remapped:
            _write_records(app, w, remapped, report, progress)
        return
    known = w.find_points(p.keys)
    report.rows += p.rows
    report.rejected.extend(p.rejected)
    chunk.ctx.notes.extend(p.notes)
    chunk.ctx.suggestions.update(p.suggestions)
    chunk.ctx.tally.update(p.tally)
    points, events, later = _split(p, known)
    accepted = len(p.lines) - len(later)
    report.accepted += accepted
    report.events += w.append_fresh(points, events, p.recorded, app.ids)
    report.new_points += len(points)
    if progress and accepted:
        progress(accepted)
    if later:
        # Rows about points the ledger knows, mapped again as they were in the block
        # (all rows about those points are among them, so the mapper sees the same).
        # (Their notes and counts are the block's already: this context is thrown away.)
        wanted = set(later)
        rows = [(line, values) for line, values in chunk.rows if line in wanted]
        mapped, rejected = blocks.map_rows(chunk.setup, rows, ImportContext(app, chunk.ctx.region))
        report.rejected.extend(rejected)  # none: the mapper accepted these rows before
        _write_records(app, w, mapped, report, progress)


def _split(
    p: blocks.Prepared, known: Mapping[tuple[PointKind, str], str]
) -> tuple[list[FreshPoint], list[FreshEvent], list[int]]:
    """The block's events and points that can go in bulk, and the lines that cannot.

    A row about a point the ledger knows cannot, nor any row about a point such a row
    is about (and so on), so every row about a point goes the same way.
    """
    if not known:
        return p.points, p.events, []
    held = {i for i, key in enumerate(p.keys) if key in known}
    rows_about: dict[int, list[int]] = {}
    for n, (_, _, _, about) in enumerate(p.lines):
        for point in about:
            rows_about.setdefault(point, []).append(n)
    later: set[int] = set()
    todo = list(held)
    while todo:
        for n in rows_about.get(todo.pop(), ()):
            if n not in later:
                later.add(n)
                for point in p.lines[n][3]:
                    if point not in held:
                        held.add(point)
                        todo.append(point)
    if len(held) == len(p.keys):
        return [], [], [p.lines[n][0] for n in sorted(later)]
    new_point: dict[int, int] = {}
    for i in range(len(p.keys)):
        if i not in held:
            new_point[i] = len(new_point)
    new_event: dict[int, int] = {}
    events: list[FreshEvent] = []
    for n, (_, start, end, _) in enumerate(p.lines):
        if n in later:
            continue
        for i in range(start, end):
            ev = p.events[i]
            new_event[i] = len(events)
            events.append((new_point[ev[0]], *ev[1:]))
    points: list[FreshPoint] = [
        (q[0], q[1], new_event[q[2]], new_event[q[3]], q[4], q[5], q[6])
        for i, q in enumerate(p.points)
        if i not in held
    ]
    return points, events, [p.lines[n][0] for n in sorted(later)]


def _write_records(
    app: App,
    w: Writer,
    chunk: list[tuple[int, Records]],
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    """Write mapped rows the generic way (`append_in`), rejecting rows the ledger refuses."""
    registrations = {
        (PointKind(r["kind"]), r["value"]): r
        for _, recs in chunk
        for r in recs
        if r["type"] == "contact_point.registered"
    }
    known = w.find_points(registrations)
    report.existing_points += len(known)
    # Ids derive from the contact point, so records about a point new to the ledger
    # cannot be in it yet: only the others are looked up (a fresh import asks nothing).
    fresh = {f"{kind.value}:{value}" for kind, value in registrations if (kind, value) not in known}
    done = w.existing_event_ids([r["id"] for _, recs in chunk for r in recs if _subject(r) not in fresh])
    # A point the ledger already knows is not registered again: what its registration
    # would have brought (attributes, tags) is added as events of their own, unless
    # this very registration is already in the ledger (the file was imported before).
    expanded: list[tuple[int, Records]] = []
    for line, recs in chunk:
        out: Records = []
        for r in recs:
            if r["id"] in done:
                report.already_imported += 1
            else:
                out.extend(_unless_known(r, known))
        expanded.append((line, out))
    derived = w.existing_event_ids(
        [r["id"] for _, recs in expanded for r in recs if r["type"] in _DERIVED and _subject(r) not in fresh]
    )
    emitted: set[str] = set()
    rows: dict[int, Records] = {}
    for line, recs in expanded:
        keep = []
        for r in recs:
            if r["id"] in emitted:
                continue  # the same record twice in this chunk: a duplicate row, already noted
            emitted.add(r["id"])
            if r["id"] in derived:
                report.already_imported += 1
                continue
            keep.append(r)
        rows[line] = keep
    while True:
        numbered = [(line, r) for line, recs in rows.items() for r in recs]
        try:
            result = append_in(app, w, numbered, trusted_ids=True)
        except FileRejected as exc:
            bad = {p.line for p in exc.problems} & set(rows)
            if not bad:
                raise
            report.rejected.extend(p for p in exc.problems if p.line in bad)
            rows = {line: recs for line, recs in rows.items() if line not in bad}
            continue
        break
    report.accepted += len(rows)
    report.events += result.appended
    report.new_points += result.registered
    if progress:
        progress(len(chunk))


def _subject(record: dict[str, Any]) -> str:
    """The contact point a record is about, as `kind:value`."""
    if record["type"] == "contact_point.registered":
        return ref_of(record)
    return str(record["contact"])


def _unless_known(record: dict[str, Any], known: Mapping[tuple[PointKind, str], str]) -> Records:
    if record["type"] != "contact_point.registered":
        return [record]
    kind = PointKind(record["kind"])
    key = (kind, record["value"])
    if key not in known:
        return [record]
    contact = ref_of(record)
    out: Records = []
    if record.get("attributes"):
        attrs = record["attributes"]
        aid = event_id("attributes", contact, repr(attrs))
        out.append({"id": aid, "type": "attributes.set", "contact": contact, "attributes": attrs})
    if record.get("tags"):
        tid = event_id("tags", contact, *record["tags"])
        out.append({"id": tid, "type": "tags.added", "contact": contact, "tags": record["tags"]})
    return out


def split_tags(raw: str) -> list[str]:
    """Tags as files write them: separated by commas or semicolons, perhaps quoted."""
    if not raw:
        return []
    parts = (t.strip().strip('"').strip() for t in raw.replace(";", ",").split(","))
    return sorted({t for t in parts if t})


# -- the plain CSV mapper --------------------------------------------------------------------


@dataclass(frozen=True)
class CsvSpec:
    """How to read a contacts CSV and what to say about the whole batch."""

    source: Source
    basis: str
    columns: Mapping[str, str]
    purpose: str | None = None
    consent_method: ConsentMethod = ConsentMethod.IMPORT
    channels: tuple[str, ...] | None = None
    party: PartyKind | None = None
    source_detail: str | None = None
    attribute_columns: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()


class CsvMapper:
    """Rows of a contacts CSV, mapped by column, with the batch's provenance and basis."""

    def __init__(self, app: App, spec: CsvSpec) -> None:
        if spec.basis not in STATED_BASES:
            raise InputError("basis", f"must be one of: {', '.join(STATED_BASES)}")
        unknown = sorted(set(spec.columns) - set(FIELDS))
        if unknown:
            raise InputError("map", f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(FIELDS)}")
        if spec.basis == "consent":
            if not spec.purpose:
                raise InputError("purpose", "consent is for a purpose: give --purpose")
            with app.store.reader() as r:
                if r.purpose(spec.purpose) is None:
                    raise InputError("purpose", f"unknown purpose {spec.purpose!r}")
        self.spec = spec
        self.attribute_columns: tuple[str, ...] = ()

    def check(self, fmt: CsvFormat) -> list[str]:
        """Check the mapping against the header and say what proof the file lacks."""
        spec = self.spec
        missing = sorted(c for c in spec.columns.values() if c not in fmt.header)
        if missing:
            raise InputError("map", f"column(s) not in the file: {', '.join(missing)}")
        if not any(f in spec.columns for f in CONTACT_FIELDS):
            raise InputError("map", "map at least one of email, phone or postal to a column")
        mapped = set(spec.columns.values())
        if spec.attribute_columns is None:
            self.attribute_columns = tuple(h for h in fmt.header if h and h not in mapped)
        else:
            absent = sorted(c for c in spec.attribute_columns if c not in fmt.header)
            if absent:
                raise InputError("attributes", f"column(s) not in the file: {', '.join(absent)}")
            self.attribute_columns = spec.attribute_columns
        notes = []
        if spec.basis == "consent":
            if "consent_at" not in spec.columns:
                notes.append(
                    "no opt-in time column: consents are recorded at the import time; when the "
                    "person consented is not proven"
                )
            if "consent_ip" not in spec.columns:
                notes.append("no opt-in IP column: the consents carry no IP address")
            notes.append(
                f"consent text: not in the file; the consents record method {spec.consent_method.value} "
                f"and source {spec.source.value}"
            )
            if spec.source is Source.THIRD_PARTY_LIST_WITHOUT_PROOF:
                notes.append("consent claimed by a third party without proof: the rules deny (EU-GDPR-07)")
        return notes

    def records(self, row: Row, ctx: ImportContext) -> Records:
        """The records for one CSV row."""
        spec, values = self.spec, row.values

        def col(name: str) -> str:
            return values.get(spec.columns[name], "") if name in spec.columns else ""

        points = [
            ctx.point(kind, col(name), spec.columns[name])
            for name, kind in CONTACT_FIELDS.items()
            if col(name)
        ]
        if not points:
            raise RowRejected("contact", "no e-mail address, phone number or postal address on this row")
        party = self._party(col("party"), spec.columns.get("party", "party"))
        consent_at = None
        if col("consent_at"):
            try:
                consent_at = parse_moment(col("consent_at")).isoformat()
            except MomentError as exc:
                raise RowRejected(spec.columns["consent_at"], str(exc)) from None
        elif spec.basis == "consent" and "consent_at" in spec.columns:
            ctx.notes.append(LineProblem(row.line, spec.columns["consent_at"], "empty: opt-in time unknown"))
        attributes = {c: values[c] for c in self.attribute_columns if values.get(c)}
        tags = sorted({*spec.tags, *split_tags(col("tags"))})
        group = event_id("contact", ref(points[0]))[3:] if len(points) > 1 else None
        attrs = dict(sorted(attributes.items()))
        out: Records = []
        for point in points:
            key = ref(point)
            if ctx.first_time(point, row.line):
                reg = self._registration(point, party, col, group, consent_at, ctx)
                out.append(with_profile(reg, attrs, tags))
            else:
                # Seen before in this file: only what this row adds to the profile.
                seen = {(point.kind, point.value): ""}
                out.extend(_unless_known(with_profile(registration_stub(point), attrs, tags), seen))
            if spec.basis == "consent" and spec.purpose:
                out.append(self._consent(point, key, consent_at, col("consent_ip")))
        return out

    def _party(self, raw: str, column: str) -> PartyKind | None:
        if not raw:
            return self.spec.party
        try:
            return PartyKind(raw.strip().lower())
        except ValueError:
            allowed = ", ".join(p.value for p in PartyKind)
            raise RowRejected(column, f"{raw!r} is not a party kind ({allowed})") from None

    def _registration(
        self,
        point: Normalised,
        party: PartyKind | None,
        col: Callable[[str], str],
        group: str | None,
        consent_at: str | None,
        ctx: ImportContext,
    ) -> dict[str, Any]:
        spec = self.spec
        hint = suggest(point)
        if hint.party is not None:
            ctx.suggestions[hint.party.value] += 1
        record: dict[str, Any] = {
            "id": event_id("registered", ref(point)),
            "type": "contact_point.registered",
            "kind": point.kind.value,
            "value": point.value,
            "source": spec.source.value,
            "stated_basis": spec.basis,
            "role_address": point.role_address,
            "suggestion_reason": hint.reason,
        }
        for name, value in (
            ("party", party.value if party else None),
            ("suggested_party", hint.party.value if hint.party else None),
            ("source_detail", spec.source_detail),
            ("display_name", col("name") or None),
            ("country", (col("country") or point.country or "").upper() or None),
            ("contact_id", group),
            ("occurred_at", consent_at),
        ):
            if value:
                record[name] = value
        return record

    def _consent(self, point: Normalised, key: str, consent_at: str | None, ip: str) -> dict[str, Any]:
        spec = self.spec
        assert spec.purpose is not None
        channels = list(spec.channels) if spec.channels else DEFAULT_CHANNELS[point.kind]
        record: dict[str, Any] = {
            "id": event_id("consent", key, spec.purpose, consent_at or ""),
            "type": "consent.given",
            "contact": key,
            "purpose": spec.purpose,
            "channels": channels,
            "method": spec.consent_method.value,
            "source_fields": {k: v for k, v in (("consent_at", consent_at), ("consent_ip", ip)) if v},
        }
        if consent_at:
            record["occurred_at"] = consent_at
        if ip:
            record["ip"] = ip
        return record


def with_profile(record: dict[str, Any], attributes: dict[str, str], tags: list[str]) -> dict[str, Any]:
    """A registration record carrying initial attributes and tags (when there are any).

    Its id covers the profile too: the same row again is recognised as imported, a
    row with a changed profile is not (and becomes a profile update of the point).
    """
    if attributes:
        record["attributes"] = attributes
    if tags:
        record["tags"] = tags
    if "id" in record and (attributes or tags):
        record["id"] = event_id("registered", ref_of(record), repr(attributes), *tags)
    return record


def ref_of(record: dict[str, Any]) -> str:
    """How records name the point a registration record registers."""
    return f"{record['kind']}:{record['value']}"


def registration_stub(point: Normalised) -> dict[str, Any]:
    """The registration part that names a point (for a point seen before in the file)."""
    return {"type": "contact_point.registered", "kind": point.kind.value, "value": point.value}


def parse_map(pairs: Iterable[str]) -> dict[str, str]:
    """Read `field=Column` pairs as given on the command line."""
    out = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise InputError("map", f"{pair!r}: write field=Column, e.g. email=E-mailadres")
        out[name.strip()] = column.strip()
    return out
