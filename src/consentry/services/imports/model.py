"""What an import is made of: a mapper's records, its context across rows, its report.

A *mapper* turns one row of a file into ledger records (dicts as `ledger append`
takes them), or rejects the row with `RowRejected`. Records get ids derived from what
they say (`ImportContext.derive`, keyed), so importing the same file again adds nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from consentry.adapters.addresses import AddressError, Normalised, normalise
from consentry.adapters.csvfile import CsvFormat, Row
from consentry.domain import limits
from consentry.domain.ids import DerivedIds
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import PointKind
from consentry.services.errors import LineProblem

#: The prefix of the ids of imported records (`im_...`).
IMPORTED = "im"
Records = list[dict[str, Any]]
#: Record types `profile_update` makes from a registration of a point the ledger knows.
DERIVED = frozenset({"attributes.set", "tags.added"})


class RowRejected(Exception):
    """One row cannot be imported; the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_cells(row: Row) -> None:
    """Reject a row with a cell over `limits.CSV_CELL`, naming its column (the ledger checks
    each field's own limit later, e.g. a name of at most `limits.NAME`)."""
    values = row.values
    # (`max` without `default=`: the keyword makes it several times slower.)
    if not values or max(map(len, values.values())) <= limits.CSV_CELL:  # nearly every row
        return
    for column, value in row.values.items():
        if len(value) > limits.CSV_CELL:
            raise RowRejected(column, limits.too_long(limits.CSV_CELL))


@dataclass(frozen=True, slots=True)
class MappedRow:
    """A row of the file the mapper accepted: its line and its records."""

    line: int
    records: Records


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

    region: str
    #: Makes the ids of the records, keyed (`DerivedIds`); gives their unkeyed forms for the block.
    derive: DerivedIds
    #: First line each contact point was seen on in the current block. Only the block:
    #: a million-row file must not be held in memory. A point seen in an earlier block
    #: is found registered in the ledger, and only its row's profile is added.
    seen: dict[tuple[PointKind, str], int] = field(default_factory=dict)
    #: The points each line of the block names for the first time (see `first_time`).
    firsts: dict[int, list[tuple[PointKind, str]]] = field(default_factory=dict)
    notes: list[LineProblem] = field(default_factory=list)
    suggestions: Counter[str] = field(default_factory=Counter)
    #: Counts a mapper keeps for its file notes (e.g. members without an opt-in time).
    tally: Counter[str] = field(default_factory=Counter)
    #: The block's points as `point` normalised them, by kind and normal form: the ledger
    #: registers them without normalising them again (`ledger.append_in`). Only the block's.
    normalised: dict[tuple[PointKind, str], Normalised] = field(default_factory=dict)

    def point(self, kind: PointKind, raw: str, column: str) -> Normalised:
        """Normalise a value or reject the row naming the column."""
        try:
            found = normalise(kind, raw, self.region)
        except AddressError as exc:
            raise RowRejected(column, str(exc)) from None
        self.normalised[(found.kind, found.value)] = found
        return found

    def first_time(self, point: Normalised, line: int) -> bool:
        """True the first time a point appears in the file; later times are noted."""
        key = (point.kind, point.value)
        first = self.seen.setdefault(key, line)
        if first != line:
            self.notes.append(LineProblem(line, point.kind.value, f"same contact as line {first}; merged"))
            return False
        self.firsts.setdefault(line, []).append(key)
        return True


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do).

    Every row is counted once: `rows` = `imported` + `merged` + `rejected_rows`.
    A row is *imported* when it registers a contact point new to the ledger (the
    first row naming it); it is *merged* when all its contact points were known
    already, earlier in the file (a repeated contact, noted by line) or in the
    ledger (its profile and consents added to the point's, or nothing when the row
    was imported before). `accepted` is imported + merged. And every physical line
    is counted once: `lines` = `header_lines` + `blank_lines` + the rows' lines
    (`quoted_lines` of them inside quoted fields that span lines).
    """

    format: CsvFormat | None = None
    rows: int = 0
    accepted: int = 0
    imported: int = 0
    merged: int = 0
    lines: int = 0
    header_lines: int = 0
    blank_lines: int = 0
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

    @property
    def rejected_rows(self) -> int:
        """The rows with a problem (a row may have more than one)."""
        return len({p.line for p in self.rejected})

    @property
    def quoted_lines(self) -> int:
        """Lines after a row's first: inside a quoted field that spans lines."""
        return self.lines - self.header_lines - self.blank_lines - self.rows

    def accounting(self) -> str:
        """The line that accounts for every row and every line of the file."""
        verb = "imported" if self.committed else "would be imported"
        rows = (
            f"rows: {self.rows} = {self.imported} {verb} + {self.merged} merged + "
            f"{self.rejected_rows} rejected"
        )
        parts = [f"{self.header_lines} header", f"{self.rows} rows"]
        if self.quoted_lines:
            parts.append(f"{self.quoted_lines} more in quoted fields")
        if self.blank_lines:
            parts.append(f"{self.blank_lines} blank")
        return f"{rows}; lines: {self.lines} = {' + '.join(parts)}"


def ref(point: Normalised) -> str:
    """How records of a row name its contact point."""
    # A `StrEnum` member formats as its value, in C (its `.value` is a Python property).
    return f"{point.kind}:{point.value}"


def ref_of(record: dict[str, Any]) -> str:
    """How records name the point a registration record registers."""
    return f"{record['kind']}:{record['value']}"


def subject(record: dict[str, Any]) -> str:
    """The contact point a record is about, as `kind:value`."""
    if record["type"] == "contact_point.registered":
        return ref_of(record)
    return str(record["contact"])


def registration_stub(point: Normalised) -> dict[str, Any]:
    """The registration part that names a point (for a point seen before in the file)."""
    return {"type": "contact_point.registered", "kind": point.kind.value, "value": point.value}


def with_profile(
    record: dict[str, Any], attributes: dict[str, str], tags: list[str], derive: DerivedIds
) -> dict[str, Any]:
    """A registration record carrying initial attributes and tags (when there are any).

    Its id covers the profile too: the same row again is recognised as imported, a
    row with a changed profile is not (and becomes a profile update of the point).
    """
    if attributes:
        record["attributes"] = attributes
    if tags:
        record["tags"] = tags
    if "id" in record and (attributes or tags):
        record["id"] = derive(IMPORTED, "registered", ref_of(record), repr(attributes), *tags)
    return record


def profile_update(
    record: dict[str, Any], known: Mapping[tuple[PointKind, str], str], derive: DerivedIds
) -> Records:
    """The record itself, or, for a registration of a point in `known`, what it would add
    to the point's profile (its attributes and tags, as events of their own)."""
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
        aid = derive(IMPORTED, "attributes", contact, repr(attrs))
        out.append({"id": aid, "type": "attributes.set", "contact": contact, "attributes": attrs})
    if record.get("tags"):
        tid = derive(IMPORTED, "tags", contact, *record["tags"])
        out.append({"id": tid, "type": "tags.added", "contact": contact, "tags": record["tags"]})
    return out


def profile_changes(record: dict[str, Any], state: ContactState, derive: DerivedIds, line: int) -> Records:
    """What a registration (or a profile update a mapper made) of a point the ledger knows brings
    that the point's state lacks, as events of their own: the attributes whose value differs, the
    tags it lacks, a changed name; the state takes them, so a later row of the block is compared
    with what this one leaves.

    None when the state has it all (the row was imported before, or the source changed
    nothing). Each id covers the change, the point's last event (`last_seq`) and the row's line,
    so a value changed back (3, then 4, then 3) is a new event each time, and the same row
    imported again after it adds nothing (the state has it)."""
    contact = subject(record)
    head = f"{state.last_seq}:{line}"
    out: Records = []
    attrs = {k: v for k, v in record.get("attributes", {}).items() if state.attributes.get(k) != v}
    if attrs:
        aid = derive(IMPORTED, "attributes", contact, repr(attrs), head)
        out.append({"id": aid, "type": "attributes.set", "contact": contact, "attributes": attrs})
    tags = [t for t in record.get("tags", ()) if t not in state.tags]
    if tags:
        tid = derive(IMPORTED, "tags", contact, *tags, head)
        out.append({"id": tid, "type": "tags.added", "contact": contact, "tags": tags})
    name = record.get("display_name")
    if name and name != state.display_name:
        nid = derive(IMPORTED, "name", contact, name, head)
        out.append({"id": nid, "type": "contact_point.updated", "contact": contact, "display_name": name})
        state.display_name = name
    state.attributes.update(attrs)
    state.tags.update(tags)
    return out


def split_tags(raw: str) -> list[str]:
    """Tags as files write them: separated by commas or semicolons, perhaps quoted."""
    if not raw:
        return []
    return list(_tags_of(raw))


@lru_cache(maxsize=1024)
def _tags_of(raw: str) -> tuple[str, ...]:
    """`split_tags` once per distinct text: a list's members share a few tag sets."""
    parts = (t.strip().strip('"').strip() for t in raw.replace(";", ",").split(","))
    return tuple(sorted({t for t in parts if t}))
