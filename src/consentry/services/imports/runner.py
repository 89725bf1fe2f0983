"""Running an import: a file read in blocks, each mapped and written whole.

A file is read row by row; a mapper (`model.Mapper`) turns each row into ledger
records (or a problem naming the row). Rows are written in blocks of `BLOCK_ROWS`,
each row whole and each block in one transaction (a big file's blocks `COMMIT_BLOCKS`
to a transaction), so a crash leaves no half row and a re-run picks up where it
stopped. `strict` writes all or nothing; `dry_run` reports exactly what would happen
and writes nothing.

Each block goes through `bulk.prepare`, which maps and checks it and prepares its
events and projection, in worker processes for a big file (`workers`); what of a block
is about contact points new to the ledger is then only numbered, hashed and stored
(`Writer.append_fresh`); the rest, or a block `bulk` could not prepare, is mapped again
here and written the generic way (`_write_records`, the reference). Both give the same
ledger and report.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from consentry.adapters.csvfile import CsvError, open_text, read_records
from consentry.adapters.sql_store import Writer
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind
from consentry.services.errors import FileRejected, InputError
from consentry.services.imports import bulk
from consentry.services.imports.model import (
    DERIVED,
    ImportContext,
    ImportReport,
    MappedRow,
    Mapper,
    Records,
    profile_update,
    subject,
)
from consentry.services.ledger import append_in

#: Rows in a block, the import's unit of work.
BLOCK_ROWS = 2000
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
        ctx = ImportContext(app.settings.default_region)
        with app.store.reader() as r:
            known_purposes = frozenset(p.key for p in r.purposes())
        setup = bulk.Setup(
            mapper, fmt.header, ctx.region, known_purposes, app.store.engine.dialect.name == "sqlite"
        )
        blocks = _blocks(app, setup, records, ctx, report, workers)
        try:
            with bulk.rare_collections(), app.store.bulk_writers() as writer:
                if dry_run or strict:
                    with writer() as w:
                        for block in blocks:
                            _write(app, w, block, report, progress)
                        if dry_run or report.rejected:
                            raise _Rollback
                else:
                    group = COMMIT_BLOCKS if size >= POOL_MIN_BYTES else 1
                    _write_committing(app, writer, blocks, report, progress, group)
            report.committed = not dry_run
        except _Rollback:
            report.committed = False
        except CsvError as exc:
            raise InputError("FILE", f"{exc} (rows before it were imported)") from None
        finally:
            blocks.close()
    report.notes = ctx.notes
    report.suggestions = dict(ctx.suggestions)
    report.tally = dict(ctx.tally)
    report.rejected.sort(key=lambda p: p.line)
    return report


@dataclass(frozen=True, slots=True)
class Block:
    """Rows of the file as read, with what `bulk.prepare` made of them."""

    rows: list[bulk.RawRow]
    prepared: bulk.Prepared
    setup: bulk.Setup
    #: The import's context: a block written the generic way is mapped again in it.
    ctx: ImportContext
    report: ImportReport

    def remap(self) -> list[MappedRow]:
        """Map the rows again here, counting them and their problems."""
        self.ctx.seen.clear()
        self.report.rows += len(self.rows)
        mapped, rejected = bulk.map_rows(self.setup, self.rows, self.ctx)
        self.report.rejected.extend(rejected)
        return mapped


def _blocks(
    app: App,
    setup: bulk.Setup,
    records: Iterator[bulk.RawRow],
    ctx: ImportContext,
    report: ImportReport,
    workers: int,
) -> Generator[Block, None, None]:
    """The file in prepared blocks, in file order; prepared by `workers` processes (or here).

    A CsvError in the file is raised after the blocks before it (the generic path's
    "rows before it were imported").
    """

    def block(rows: list[bulk.RawRow], prepared: bulk.Prepared) -> Block:
        return Block(rows, prepared, setup, ctx, report)

    if workers <= 0:
        for rows in bulk.batched(records, BLOCK_ROWS):
            yield block(rows, bulk.prepare(setup, rows, app.clock.now()))
        return
    pool = ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=bulk.init_worker, initargs=(setup,)
    )
    inflight: deque[tuple[list[bulk.RawRow], Future[bulk.Prepared]]] = deque()
    failed: CsvError | None = None
    try:
        try:
            for rows in bulk.batched(records, BLOCK_ROWS):
                inflight.append((rows, pool.submit(bulk.prepare_in_worker, rows, app.clock.now())))
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
    blocks: Iterator[Block],
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
                    block = next(blocks)
                except StopIteration:
                    done = True
                    break
                except CsvError as exc:
                    failed, done = exc, True
                    break
                _write(app, w, block, report, progress)
    if failed is not None:
        raise failed


def _write(
    app: App,
    w: Writer,
    block: Block,
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    """Write a prepared block in the open transaction: in bulk what is about points new
    to the ledger, the rest the generic way; a block that cannot go in bulk at all (see
    `bulk`) is mapped anew and written the generic way."""
    p = block.prepared
    if p.generic is not None:
        remapped = block.remap()
        if remapped:
            _write_records(app, w, remapped, report, progress)
        return
    known = w.find_points(p.keys)
    report.rows += p.rows
    report.rejected.extend(p.rejected)
    block.ctx.notes.extend(p.notes)
    block.ctx.suggestions.update(p.suggestions)
    block.ctx.tally.update(p.tally)
    part = bulk.split(p, known)
    accepted = len(p.lines) - len(part.later)
    report.accepted += accepted
    report.events += w.append_fresh(part.points, part.events, p.recorded, app.ids)
    report.new_points += len(part.points)
    if progress and accepted:
        progress(accepted)
    if part.later:
        # Rows about points the ledger knows, mapped again as they were in the block
        # (all rows about those points are among them, so the mapper sees the same).
        # (Their notes and counts are the block's already: this context is thrown away.)
        wanted = set(part.later)
        rows = [(line, values) for line, values in block.rows if line in wanted]
        mapped, rejected = bulk.map_rows(block.setup, rows, ImportContext(block.ctx.region))
        report.rejected.extend(rejected)  # none: the mapper accepted these rows before
        _write_records(app, w, mapped, report, progress)


def _write_records(
    app: App,
    w: Writer,
    mapped: list[MappedRow],
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    """Write mapped rows the generic way (`append_in`), rejecting rows the ledger refuses."""
    registrations = {
        (PointKind(r["kind"]), r["value"]): r
        for row in mapped
        for r in row.records
        if r["type"] == "contact_point.registered"
    }
    known = w.find_points(registrations)
    report.existing_points += len(known)
    # Ids derive from the contact point, so records about a point new to the ledger
    # cannot be in it yet: only the others are looked up (a fresh import asks nothing).
    fresh = {f"{kind.value}:{value}" for kind, value in registrations if (kind, value) not in known}
    done = w.existing_event_ids([r["id"] for row in mapped for r in row.records if subject(r) not in fresh])
    # A point the ledger already knows is not registered again: what its registration
    # would have brought (attributes, tags) is added as events of their own, unless
    # this very registration is already in the ledger (the file was imported before).
    expanded: list[MappedRow] = []
    for row in mapped:
        out: Records = []
        for r in row.records:
            if r["id"] in done:
                report.already_imported += 1
            else:
                out.extend(profile_update(r, known))
        expanded.append(MappedRow(row.line, out))
    derived = w.existing_event_ids(
        [r["id"] for row in expanded for r in row.records if r["type"] in DERIVED and subject(r) not in fresh]
    )
    emitted: set[str] = set()
    rows: dict[int, Records] = {}
    for row in expanded:
        keep = []
        for r in row.records:
            if r["id"] in emitted:
                continue  # the same record twice in this block: a duplicate row, already noted
            emitted.add(r["id"])
            if r["id"] in derived:
                report.already_imported += 1
                continue
            keep.append(r)
        rows[row.line] = keep
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
        progress(len(mapped))
