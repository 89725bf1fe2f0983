"""Running an import: a file read in blocks, each mapped and written whole.

A file is read row by row; a mapper (`model.Mapper`) turns each row into ledger
records (or a problem naming the row). Rows are mapped and written in blocks of
`BLOCK_ROWS`, the import's unit of work: each row whole and each block in one
transaction (a big file's blocks `COMMIT_BLOCKS` to a transaction), so a crash leaves
no half row and a re-run picks up where it stopped. `strict` writes all or nothing;
`dry_run` reports exactly what would happen and writes nothing.

There is one way to write a block (`_write_block`, through `ledger.append_in`). A
second, "bulk" path (blocks prepared in worker processes, stored by
`Writer.append_fresh`) was retired: it was not twice as fast (docs/performance.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from consentry.adapters.csvfile import BadRow, CsvError, Row, open_text, read_rows
from consentry.domain.fold import fold
from consentry.domain.ids import DerivedIds
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import Channel, PointKind
from consentry.services.app import App
from consentry.services.collector import rare_collections
from consentry.services.errors import FileRejected, InputError, LineProblem
from consentry.services.imports.model import (
    DERIVED,
    ImportContext,
    ImportReport,
    MappedRow,
    Mapper,
    Records,
    RowRejected,
    check_cells,
    profile_changes,
    subject,
)
from consentry.services.ledger import append_in
from consentry.services.ports import Writing

#: Rows in a block, the import's unit of work.
BLOCK_ROWS = 2000
#: Files at least this big commit `COMMIT_BLOCKS` blocks at a time.
BIG_FILE_BYTES = 4 << 20
#: Blocks committed together when the file has `BIG_FILE_BYTES` or more. Each commit
#: writes every index page its rows touched, and most indexes are keyed by random ids
#: (contact point ids, event ids), so with 2,000 rows a commit nearly every leaf of
#: them is written once per block; ten blocks (~75 MB of SQLite pages) share those writes.
COMMIT_BLOCKS = 10

REGISTERED = "contact_point.registered"
CONSENT = "consent.given"
_KINDS = {kind.value: kind for kind in PointKind}

#: A row of the file as read: named values, or the reader's refusal.
RawRow = Row | BadRow


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
) -> ImportReport:
    """Import one file through a mapper; see the module docstring for the guarantees."""
    try:
        text, enc = open_text(path, encoding)
        size = path.stat().st_size
    except OSError as exc:
        raise InputError("FILE", f"cannot open {path}: {exc.strerror}") from None
    except CsvError as exc:
        raise InputError("encoding", str(exc)) from None
    with text:
        try:
            fmt, reader = read_rows(text, enc, delimiter)
        except CsvError as exc:
            raise InputError("FILE", str(exc)) from None
        report = ImportReport(format=fmt, dry_run=dry_run, file_notes=mapper.check(fmt))
        ctx = ImportContext(app.settings.default_region, app.store.derived_ids())
        blocks = batched(iter(reader), BLOCK_ROWS)

        def write(w: Writing, rows: list[RawRow]) -> None:
            _write_block(app, w, mapper, rows, ctx, report, progress)

        try:
            with rare_collections(), app.store.bulk_writers() as writer:
                if dry_run or strict:
                    with writer() as w:
                        for rows in blocks:
                            write(w, rows)
                        if dry_run or report.rejected:
                            raise _Rollback
                else:
                    group = COMMIT_BLOCKS if size >= BIG_FILE_BYTES else 1
                    _write_committing(writer, blocks, write, group)
            report.committed = not dry_run
        except _Rollback:
            report.committed = False
        except CsvError as exc:
            if dry_run or strict:  # one transaction, rolled back by the error
                raise InputError("FILE", f"{exc} (nothing was written)") from None
            done = (
                f"the {report.rows} rows before it were imported: {report.imported} new, "
                f"{report.merged} merged, {report.rejected_rows} rejected; importing the file "
                "again once the line is mended adds only what is missing"
            )
            raise InputError("FILE", f"{exc} ({done})") from None
        finally:
            blocks.close()
        report.lines, report.header_lines, report.blank_lines = (
            reader.lines,
            reader.header_lines,
            reader.blank,
        )
    report.notes = ctx.notes
    report.suggestions = dict(ctx.suggestions)
    report.tally = dict(ctx.tally)
    report.rejected.sort(key=lambda p: p.line)
    return report


def batched(rows: Iterator[RawRow], size: int) -> Generator[list[RawRow], None, None]:
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


def _write_committing(
    writer: Callable[[], AbstractContextManager[Writing]],
    blocks: Iterator[list[RawRow]],
    write: Callable[[Writing, list[RawRow]], None],
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
                    rows = next(blocks)
                except StopIteration:
                    done = True
                    break
                except CsvError as exc:
                    failed, done = exc, True
                    break
                write(w, rows)
    if failed is not None:
        raise failed


def _write_block(
    app: App,
    w: Writing,
    mapper: Mapper,
    rows: list[RawRow],
    ctx: ImportContext,
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    """Map one block and write it in the open transaction, counting its rows and problems.

    Rows the ledger refuses are left out and the rest of the block mapped again without them:
    a later row of the same contact was mapped as merged into the refused one (no registration
    of its own), and now registers it. Nothing is written before every record is checked, and
    the counts and notes of the attempt are taken back first (`_Mark`).
    """
    report.rows += len(rows)
    rejected_before = len(report.rejected)
    spans = {row.line: row.end for row in rows if isinstance(row, Row) and row.end > row.line}
    refused: dict[int, list[LineProblem]] = {}
    refused_notes: list[LineProblem] = []
    while True:  # each round refuses at least one more line for good: the rounds end
        mark = _Mark.of(report, ctx)
        mapped = _map_block(mapper, rows, ctx, report, refused.keys())
        if not mapped:
            break
        try:
            _write_records(app, w, mapped, ctx, report)
            break
        except _Refused as exc:
            by_line: dict[int, list[LineProblem]] = {}
            for p in exc.problems:
                by_line.setdefault(p.line, []).append(p)
            # A row refused only for naming a contact that is not registered was merged into a
            # refused row: mapped again without that row, it registers the contact itself. So
            # it is refused for good only in a round that refuses no other row.
            hard = {line for line, ps in by_line.items() if any(p.field != "contact" for p in ps)}
            for line in hard or by_line:
                refused[line] = by_line[line]
            # The notes the mapper wrote on rows refused for good stay: they may say why.
            refused_notes.extend(n for n in ctx.notes[mark.notes :] if n.line in refused)
            mark.rewind(report, ctx)
    report.rejected.extend(p for problems in refused.values() for p in problems)
    ctx.notes.extend(refused_notes)
    if progress:
        progress(len(rows))  # every row read, rejected or not: a progress bar reaches its end
    if spans:
        # A refused row over several lines is most often a quote that closed too late.
        problems = report.rejected
        for n in range(rejected_before, len(problems)):
            p = problems[n]
            if p.line in spans:
                where = f"this row runs over lines {p.line}-{spans[p.line]} in quotes: check its quotes"
                problems[n] = LineProblem(p.line, p.field, f"{p.message} ({where})")


def _map_block(
    mapper: Mapper, rows: list[RawRow], ctx: ImportContext, report: ImportReport, skip: AbstractSet[int]
) -> list[MappedRow]:
    """The block's rows as records, but those on the `skip` lines; unreadable and refused rows
    go to the report."""
    ctx.seen.clear()  # only the block's: see `ImportContext.seen`
    ctx.firsts.clear()
    ctx.normalised.clear()
    ctx.derive.forget()
    mapped: list[MappedRow] = []
    for row in rows:
        if isinstance(row, BadRow):
            report.rejected.append(LineProblem(row.line, row.column, row.message))
            continue
        if row.line in skip:
            continue
        if row.missing:
            message = f"the row ends early: {', '.join(row.missing)} read as empty"
            ctx.notes.append(LineProblem(row.line, row.missing[0], message))
        try:
            check_cells(row)
            mapped.append(MappedRow(row.line, mapper.records(row, ctx)))
        except RowRejected as exc:
            report.rejected.append(LineProblem(row.line, exc.field, exc.message))
    return mapped


class _Refused(Exception):
    """The ledger refused some of a block's rows (nothing of the block was written)."""

    def __init__(self, problems: list[LineProblem]) -> None:
        super().__init__(f"{len(problems)} row(s) refused")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class _Mark:
    """What an attempt at a block may add to the report and the context, as it was before it."""

    rejected: int
    notes: int
    suggestions: Counter[str]
    tally: Counter[str]
    existing_points: int
    already_imported: int

    @classmethod
    def of(cls, report: ImportReport, ctx: ImportContext) -> _Mark:
        return cls(
            len(report.rejected),
            len(ctx.notes),
            Counter(ctx.suggestions),
            Counter(ctx.tally),
            report.existing_points,
            report.already_imported,
        )

    def rewind(self, report: ImportReport, ctx: ImportContext) -> None:
        del report.rejected[self.rejected :]
        del ctx.notes[self.notes :]
        ctx.suggestions, ctx.tally = self.suggestions, self.tally
        report.existing_points, report.already_imported = self.existing_points, self.already_imported


def _write_records(
    app: App,
    w: Writing,
    mapped: list[MappedRow],
    ctx: ImportContext,
    report: ImportReport,
) -> None:
    """Write mapped rows the generic way (`append_in`), rejecting rows the ledger refuses."""
    registrations = dict.fromkeys(
        (_KINDS[r["kind"]], r["value"]) for row in mapped for r in row.records if r["type"] == REGISTERED
    )
    known = w.find_points(registrations)
    report.existing_points += len(known)
    # Ids derive from the contact point, so records about a point new to the ledger
    # cannot be in it yet: only the others are looked up (a fresh import asks nothing).
    # `ref`'s text: a kind formats as its value.
    fresh = {f"{kind}:{value}" for kind, value in registrations if (kind, value) not in known}
    # A block of points all new to the ledger has none (its registrations' subjects are fresh).
    stale = [r["id"] for row in mapped for r in row.records if subject(r) not in fresh]
    expanded = _profile_updates(w, mapped, known, stale, ctx, report) if stale else mapped
    emitted: set[str] = set()
    rows: dict[int, Records] = {}
    for row in expanded:
        keep = []
        for r in row.records:
            rid = r["id"]
            if rid in emitted:
                continue  # the same record twice in this block: a duplicate row, already noted
            emitted.add(rid)
            keep.append(r)
        rows[row.line] = keep
    numbered = [(line, r) for line, recs in rows.items() for r in recs]
    try:
        # Held until every record is checked: a refused row leaves the transaction as it was
        # for the block mapped again without it (`_write_block`).
        result = append_in(app, w, numbered, trusted_ids=True, normalised=ctx.normalised, hold=True)
    except FileRejected as exc:
        bad = {p.line for p in exc.problems} & set(rows)
        if not bad:
            raise
        raise _Refused([p for p in exc.problems if p.line in bad]) from None
    report.accepted += len(rows)
    # A row is imported when it brings a contact point new to the ledger (the first
    # time in the file); every other accepted row is merged into a known one.
    firsts = ctx.firsts
    if known:
        new = sum(1 for line in rows if any(point not in known for point in firsts.get(line, ())))
    else:  # every point named first on a line is new: count those lines
        new = len(rows.keys() & firsts.keys())
    report.imported += new
    report.merged += len(rows) - new
    report.events += result.appended
    report.new_points += result.registered


def _profile_updates(
    w: Writing,
    mapped: list[MappedRow],
    known: Mapping[tuple[PointKind, str], str],
    stale: list[str],
    ctx: ImportContext,
    report: ImportReport,
) -> list[MappedRow]:
    """The rows without the records the ledger already has.

    A point the ledger already knows is not registered again: what its registration brings
    that the point's state lacks (attributes, tags, a name) becomes events of their own
    (`profile_changes`); a profile the state already has is already imported. So a value
    changed back in the source (a rating 3, then 4, then 3) is recorded each time. Other
    records the ledger holds by their id (the file was imported before) are left out. `stale`
    are the ids of the records about points that are not `fresh` (new to the ledger).
    """
    derive = ctx.derive
    done, older = _existing(w, stale, derive)
    states = _known_states(w, mapped, known, done)
    left_out: set[str] = set()
    expanded: list[MappedRow] = []
    for row in mapped:
        out: Records = []
        for r in row.records:
            kind = r["type"]
            if (kind == REGISTERED or kind in DERIVED) and (state := states.get(subject(r))) is not None:
                # Compared with the state as the block's rows before leave it (`profile_changes`).
                changes = profile_changes(r, state, derive, row.line)
                if changes:
                    out.extend(changes)
                else:
                    report.already_imported += 1
            elif r["id"] in done:
                report.already_imported += 1
            elif r.get("consent_event") in left_out:
                continue  # the confirmation of a consent left out (below)
            elif _undated(r) and (out_at := _opted_out(states.get(r["contact"]), r)):
                channels, at = out_at
                # Dated at the import, the consent would come after the opt-out and lift it: a
                # stale list would make someone who unsubscribed mailable again.
                if channels:  # the opt-out covers some of its channels: the others stay
                    out.append({**r, "channels": [c for c in r["channels"] if c not in channels]})
                else:
                    left_out.add(r["id"])
                ctx.notes.append(
                    LineProblem(
                        row.line,
                        "consent",
                        f"not recorded{' for ' + ', '.join(sorted(channels)) if channels else ''}: this "
                        f"contact opted out of {r['purpose']} on {at:%Y-%m-%d}, and a consent without its "
                        "opt-in time cannot lift that",
                    )
                )
            elif r.get("consent_event") in older:  # a confirmation of a consent an earlier version imported
                out.append({**r, "consent_event": older[r["consent_event"]]})
            else:
                out.append(r)
        expanded.append(MappedRow(row.line, out))
    # The profile updates of known points are new by their ids (`profile_changes`); those of
    # points registered in this block cannot be in the ledger: none is looked up.
    return expanded


def _undated(record: dict[str, Any]) -> bool:
    """A consent without its moment (the ledger dates it at the import)."""
    return record["type"] == CONSENT and "occurred_at" not in record


def _known_states(
    w: Writing, mapped: list[MappedRow], known: Mapping[tuple[PointKind, str], str], done: set[str]
) -> dict[str, ContactState]:
    """By `kind:value`, the state of each point the ledger knows that the block registers again
    (its profile is compared) or gives an undated consent (its opt-outs are read): one read of
    their events; a fresh import reads none."""
    wanted: dict[str, str] = {}
    for row in mapped:
        for r in row.records:
            if r["type"] == REGISTERED or r["type"] in DERIVED or (_undated(r) and r["id"] not in done):
                ref = subject(r)
                kind, _, value = ref.partition(":")
                pid = known.get((_KINDS[kind], value))
                if pid is not None:
                    wanted[ref] = pid
    if not wanted:
        return {}
    events = w.events_for_many(list(dict.fromkeys(wanted.values())))
    return {ref: fold(pid, events.get(pid, [])) for ref, pid in wanted.items()}


def _opted_out(state: ContactState | None, consent: dict[str, Any]) -> tuple[set[str], datetime] | None:
    """The opt-outs (unsubscribes, withdrawals) of the point that cover an undated consent's purpose
    and some of its channels: the channels they cover of those it names (empty: all of them) and
    when the last was made; None when none does."""
    if state is None:
        return None
    purpose, wanted = consent["purpose"], set(consent["channels"])
    covered: set[str] = set()
    last: datetime | None = None
    for o in state.opt_outs:
        hit = {c for c in wanted if o.covers(purpose, Channel(c))}
        if hit:
            covered |= hit
            last = o.at if last is None else max(last, o.at)
    if last is None:
        return None
    return (set() if covered >= wanted else covered), last


def _existing(w: Writing, ids: list[str], derive: DerivedIds) -> tuple[set[str], dict[str, str]]:
    """Those of `ids` the ledger holds: by the id, or by its unkeyed form (`DerivedIds.unkeyed`),
    under which an earlier version imported the same record; and those found so, each with the
    form the ledger holds it by."""
    unkeyed = {old: i for i in ids if (old := derive.unkeyed(i)) is not None}
    found = w.existing_event_ids([*ids, *unkeyed])
    return {unkeyed.get(i, i) for i in found}, {unkeyed[i]: i for i in found if i in unkeyed}
