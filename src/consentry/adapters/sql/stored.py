"""Values in the form the store keeps them, and bulk inserts of rows already in that form.

SQLite keeps moments as text in SQLAlchemy's format and dates as ISO text; PostgreSQL
takes naive UTC datetimes and dates. Both keep an event's chain hashes as their 32 bytes
(BLOB, bytea); the chain and everything it is shown or exported in spells them in hex, so
they are converted here, on the way in (`stored_hash`) and out (`chain_hex`); the one
exception is PostgreSQL's append, whose COPY takes the hex itself (`writer._copy_hash`). The
ledger's hot paths write through the driver (COPY, executemany) with rows already converted,
skipping SQLAlchemy's per-row work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from consentry.domain.events import Event

#: How many values one `IN (...)` carries at most.
CHUNK = 500


_T = TypeVar("_T")


def chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """`items` in slices of at most `CHUNK`."""
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def naive_utc(d: datetime) -> datetime:
    """An aware moment as the naive UTC datetime the store keeps."""
    return d.replace(tzinfo=None) if d.tzinfo is UTC else d.astimezone(UTC).replace(tzinfo=None)


def sqlite_time(d: datetime) -> str:
    """A naive UTC moment as the text SQLAlchemy's SQLite DateTime writes and reads back."""
    return d.isoformat(" ", "microseconds")


#: The numbers 0-99 written with two digits (`sqlite_moment`).
_TWO_DIGITS = tuple(f"{i:02d}" for i in range(100))


def sqlite_moment(d: datetime) -> str:
    """An aware moment as SQLite keeps it: `sqlite_time(naive_utc(d))`.

    A moment in UTC (as the clock and `parse_moment` give them) in years 1000-9999 is
    written out from its fields: `replace` makes a datetime and `isoformat` writes through
    `printf` (about 2.0 against 0.8 µs a call; the projection stores one or two a point).
    Any other moment by those two.
    """
    if d.tzinfo is not UTC or type(d) is not datetime or d.year < 1000:
        return sqlite_time(naive_utc(d))
    two = _TWO_DIGITS
    return (
        f"{d.year}-{two[d.month]}-{two[d.day]} {two[d.hour]}:{two[d.minute]}:{two[d.second]}"
        f".{d.microsecond:06d}"
    )


def day(value: date | str | None) -> date | None:
    """A stored date read straight from the driver (SQLite: text; PostgreSQL: a date)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def utc(value: datetime | str) -> datetime:
    """A stored moment read straight from the driver (SQLite: text; PostgreSQL: naive) as aware UTC.

    The moment's date and time put together with UTC: the `replace(tzinfo=UTC)` it equals (every
    field, `fold` too: `tests/unit/test_stored_moments.py`) parses nine keyword arguments and
    cost ~10,300 instructions, this ~3,000 (callgrind, session 11): each decision reads its
    point's last moment, each read event its own.
    """
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return datetime.combine(moment.date(), moment.time(), UTC)


#: A chain hash (64 hex digits, as `domain.chain` writes it) as the 32 bytes the store keeps:
#: `bytearray.fromhex` itself, so an appended event pays no Python call for it. A `bytearray`:
#: sqlite3 binds one as its blob straight away, where for `bytes` it first looks an adapter up
#: (`engine._bind_as_they_are`: a key tuple built, a dictionary searched and the adapter called,
#: ~1,200 instructions a value, one an appended event). The same blob is stored (and read back
#: as `bytes`).
stored_hash: Callable[[str], bytearray] = bytearray.fromhex


def chain_hex(value: bytes | memoryview) -> str:
    """A stored chain hash (PostgreSQL's driver gives a memoryview) as the chain spells it: hex."""
    return value.hex()


def iso_dates(row: tuple[Any, ...], columns: Sequence[int]) -> tuple[Any, ...]:
    """The row with the dates in these columns as ISO text (how SQLite keeps them)."""
    for i in columns:  # (a loop, not `all` over a generator: one call a projected point)
        if row[i] is not None:
            break
    else:
        return row  # most points have no date: no copy
    out = list(row)
    for i in columns:
        if out[i] is not None:
            out[i] = out[i].isoformat()
    return tuple(out)


def row_to_event(r: Any) -> Event:
    """An event from a row of the `events` table read through SQLAlchemy."""
    return Event(
        id=r.id,
        type=r.type,
        contact_point_id=r.contact_point_id,
        occurred_at=r.occurred_at,
        recorded_at=r.recorded_at,
        payload=r.payload,
        schema_version=r.schema_version,
        seq=r.seq,
    )


#: COPY's text format escapes these characters in a field (as psycopg does: `_copy_base._dump_repl`).
_COPY_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}
)


def copy_field(text: str) -> str:
    """A string as a field of PostgreSQL's COPY text format: what psycopg's `write_row` sends for it.

    A printable string without a backslash needs no escape (ids, type names, most payloads).
    """
    if "\\" not in text and text.isprintable():
        return text
    return text.translate(_COPY_ESCAPES)


def copy_bytes(data: bytes | bytearray | None) -> str:
    """A bytea value (or NULL) as a field of COPY's text format: `\\x` and hex, as psycopg sends it."""
    return "\\N" if data is None else "\\\\x" + data.hex()


@contextmanager
def copy_stream(conn: Connection, table: str, columns: str) -> Iterator[Callable[[str], None]]:
    """A COPY into the table on PostgreSQL, open for the block: each call sends lines already in
    its text format (`copy_field`), which the server stores as they come.

    The ledger's append writes its events so: each row is one f-string instead of a
    `write_row` call that looks up a dumper for each of its values.
    """
    with _copy(conn, table, columns) as copy:
        yield copy.write


@contextmanager
def _copy(conn: Connection, table: str, columns: str) -> Iterator[Any]:
    """A COPY into the table's columns on PostgreSQL's driver, open for the block (psycopg's `Copy`:
    `write` for lines of its text format, `write_row` for rows)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        yield copy


#: `sent_inserts`' call: table, its columns, their PostgreSQL types, the rows (stored form), and
#: the columns of naive UTC moments SQLite keeps as its text (`bulk_insert`'s `times`).
SendRows = Callable[[str, str, Sequence[str], Sequence[tuple[Any, ...]], tuple[int, ...]], None]


@contextmanager
def sent_inserts(conn: Connection) -> Iterator[SendRows]:
    """Bulk inserts sent without waiting for the server: its work overlaps the client's in the block.

    PostgreSQL: in pipeline mode, each an `INSERT ... SELECT * FROM unnest(...)` of one array a
    column in binary, which the server runs while the block goes on; the block's end waits for
    them and raises their error, if any. (COPY cannot be pipelined.) psycopg builds each array
    in a Python loop over its items: for rows of a few columns about what COPY's `write_row`
    costs, for wide rows more (the projection's facts use `row_stream`). SQLite, in this
    process: `bulk_insert` at once.
    """
    if conn.dialect.name != "postgresql":

        def at_once(
            table: str,
            columns: str,
            _types: Sequence[str],
            rows: Sequence[tuple[Any, ...]],
            times: tuple[int, ...],
        ) -> None:
            if rows:
                bulk_insert(conn, table, columns, rows, times)

        yield at_once
        return
    raw = conn.connection.driver_connection
    assert raw is not None

    with raw.cursor() as cur, raw.pipeline():

        def send(
            table: str,
            columns: str,
            types: Sequence[str],
            rows: Sequence[tuple[Any, ...]],
            _times: tuple[int, ...],
        ) -> None:
            if rows:
                arrays = ", ".join(f"%b::{pg_type}[]" for pg_type in types)
                cur.execute(
                    f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})",
                    [list(c) for c in zip(*rows, strict=True)],
                )

        yield send


@contextmanager
def row_stream(
    conn: Connection, table: str, columns: str, dates: Sequence[int] = ()
) -> Iterator[Callable[[tuple[Any, ...]], None]]:
    """Rows (stored form) handed to the store one at a time as the block makes them.

    PostgreSQL: one COPY open for the block, each row by `write_row`, which the server stores
    as it comes (psycopg sends them in blocks of 32 KB) while the client makes the next; the
    block's end waits only for what is left. SQLite (in this process: nothing to overlap): the
    rows kept and inserted at the end by `bulk_insert`, the dates in the `dates` columns as its
    ISO text (`iso_dates`).
    """
    if conn.dialect.name == "postgresql":
        with _copy(conn, table, columns) as copy:
            yield copy.write_row
        return
    kept: list[tuple[Any, ...]] = []
    yield kept.append
    if kept:
        bulk_insert(conn, table, columns, [iso_dates(r, dates) for r in kept] if dates else kept)


def bulk_insert(
    conn: Connection,
    table: str,
    columns: str,
    rows: Sequence[tuple[Any, ...]],
    times: tuple[int, ...] = (),
) -> None:
    """Bulk insert through the driver: COPY on PostgreSQL, executemany on SQLite.

    The rows are already in stored form (naive UTC times, JSON as text), so
    SQLAlchemy's per-row processing is skipped: this is the ledger's hot path.
    On SQLite the naive UTC moments in the `times` columns are written as its text.
    """
    if conn.dialect.name == "postgresql":
        with _copy(conn, table, columns) as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(rows[0]))
    sqlite_rows = rows
    written: dict[datetime, str] = {}

    def text(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        found = written.get(moment)
        if found is None:
            found = written[moment] = sqlite_time(moment)
        return found

    for i in times:
        sqlite_rows = [(*r[:i], text(r[i]), *r[i + 1 :]) for r in sqlite_rows]
    conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", sqlite_rows)
