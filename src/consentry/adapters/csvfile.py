"""Reading CSV files as people really have them, losing no line without a word.

UTF-8 with or without BOM, or Windows-1252 (Dutch Excel); comma, semicolon, tab
or pipe as delimiter; LF, CRLF or CR line ends, with or without one at the end;
quoted fields with newlines; empty lines. Every row comes with the lines it spans,
so a problem can be pointed at, and every physical line of the file is counted as
the header, a blank line, or part of exactly one row (`RowReader`).

A row the reader itself cannot take is yielded as a `BadRow` in its place:

- a broken quote: a quoted field that is not closed, or that would take in a line
  shaped like a row of its own (as many delimiters as the header has, outside any
  quotes of that line), or that would run past `MAX_ROW_LINES` lines. The row is
  refused at the line where the quote opened, and the lines after it are read
  again as rows of their own (so one stray quote costs one row, not the file);
- a control character (NUL and the like, `domain.text`) in any field;
- more fields than the header, when the extra ones hold a value: a value with an
  unquoted delimiter in it shifts every later value a column, so the row is refused
  rather than imported into the wrong columns. Empty extra fields (`a;b;c;` under a
  three-column header) hold nothing and are ignored.

A row with fewer fields than the header is read with the missing ones empty, and
says so (`Row.missing`), so a caller can note it by line.
"""

from __future__ import annotations

import codecs
import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from consentry.domain.text import control_character, has_control_character

DELIMITERS = ",;\t|"
_SAMPLE = 64 * 1024
#: A quoted field may hold line breaks (an address, a note), but not this many lines.
MAX_ROW_LINES = 20


class CsvError(ValueError):
    """The file cannot be read as CSV at all; the message says why."""


@dataclass(frozen=True, slots=True)
class CsvFormat:
    """What was detected about a file."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Row:
    """One record, the line it starts on (1 is the header) and the line it ends on."""

    line: int
    values: dict[str, str]
    end: int = 0
    #: Header columns the row has no field for (it has fewer fields than the header).
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row the reader refuses: where it starts, the column at fault, and why."""

    line: int
    column: str
    message: str
    end: int = 0


#: Byte order marks and the codec each names: Excel's "Unicode text" is UTF-16 (little-endian)
#: with a BOM. UTF-32's come first: its little-endian BOM begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(path: Path) -> str:
    """The encoding a byte order mark names (UTF-8, UTF-16, UTF-32), when the whole file decodes
    as such; without one, UTF-8 when the whole file decodes as such, else Windows-1252.

    CsvError when it is none of those: found now, not half way through an import.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
        marked = next((enc for bom, enc in _BOMS if head.startswith(bom)), None)
        for encoding in (marked,) if marked else ("utf-8", "cp1252"):
            decoder = codecs.getincrementaldecoder(encoding)()
            fh.seek(0)
            at = 0
            try:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                    at += len(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                byte = exc.object[exc.start : exc.start + 1].hex()
                where = f"byte 0x{byte} at byte {at + exc.start + 1}"
                if marked:
                    raise CsvError(f"starts as {marked} but is not ({where}); give the encoding") from None
                if encoding == "cp1252":
                    raise CsvError(f"neither UTF-8 nor Windows-1252 ({where}); give the encoding") from None
                continue
            return encoding
    raise AssertionError("unreachable")


def _delimiter(sample: str) -> str:
    first = next((line for line in sample.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # One column, or too little to go by: take the delimiter the header uses most.
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def open_text(path: Path, encoding: str | None = None) -> tuple[IO[str], str]:
    """Open a file as text in its (detected) encoding."""
    enc = encoding or detect_encoding(path)
    try:
        codecs.lookup(enc)
    except LookupError:
        raise CsvError(f"unknown encoding {enc!r}") from None
    return path.open(encoding=enc, newline=""), enc


class _BrokenQuote(Exception):
    """A quoted field is implausible (raised through csv.reader by `_Lines`)."""


class _Lines:
    """The file's physical lines, numbered, for csv.reader; lines can be put back.

    csv.reader asks for another line within a record only inside a quoted field, so
    every line after a record's first is one a quoted field takes in: each is checked
    for plausibility, and `_BrokenQuote` stops the record.
    """

    def __init__(self, text: IO[str], delimiter: str, encoding: str) -> None:
        self.source = iter(text)
        self.delimiter = delimiter
        self.encoding = encoding
        #: Columns of the header (0 while the header itself is read: no row shape yet).
        self.width = 0
        self.read = 0
        self.back: deque[tuple[int, str]] = deque()
        #: The lines of the record being read.
        self.record: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.back:
            number, text = self.back.popleft()
        else:
            try:
                text = next(self.source)
            except StopIteration:
                if self.record:  # inside a quoted field at the end of the file
                    raise _BrokenQuote("is not closed before the end of the file") from None
                raise
            except UnicodeDecodeError:
                # The text is decoded in chunks: the bad byte is on this line or a later one.
                raise CsvError(
                    f"line {self.read + 1} or a later one: not readable as {self.encoding}; "
                    "give the right encoding"
                ) from None
            self.read += 1
            number = self.read
        if self.record:
            problem = self._implausible(number, text)
            if problem:
                self.back.appendleft((number, text))
                raise _BrokenQuote(problem)
        self.record.append((number, text))
        return text

    def _implausible(self, number: int, text: str) -> str | None:
        if len(self.record) >= MAX_ROW_LINES:
            return f"would run past {MAX_ROW_LINES} lines"
        if self.width < 2:
            return None
        # The part of the line inside the open field: up to its closing quote (a quote
        # not doubled), or the whole line.
        inside, i = text, text.find('"')
        while i >= 0:
            if text.startswith('""', i):
                i = text.find('"', i + 2)
                continue
            inside = text[:i]
            break
        if inside.count(self.delimiter) >= self.width - 1:
            return f"would take in line {number}, which looks like a row of its own"
        return None

    def put_back_continuation(self) -> None:
        """Read the lines of the record being read again, but its first, as rows of their own."""
        self.back.extendleft(reversed(self.record[1:]))
        self.record = self.record[:1]


class RowReader:
    """The rows of a file after its header: `Row` or `BadRow`, in file order.

    When iterated to the end, `lines` is the number of physical lines in the file and
    `blank` the number of them that are in no row (empty, or only delimiters and
    spaces): every other line is the header or part of exactly one row.
    """

    def __init__(self, lines: _Lines, fmt: CsvFormat, header_end: int) -> None:
        self._lines = lines
        self.format = fmt
        self.header_lines = header_end
        self.blank = 0

    @property
    def lines(self) -> int:
        """Physical lines read so far (all of them, once iterated to the end)."""
        return self._lines.read

    def __iter__(self) -> Iterator[Row | BadRow]:
        lines, header = self._lines, self.format.header
        delimiter = self.format.delimiter
        width = len(header)
        # Every column named (the usual header): a row's values are the header zipped with
        # its fields, stripped, without looking at each name.
        named_all = all(header)
        strip = str.strip
        reader = csv.reader(lines, delimiter=delimiter)
        while True:
            lines.record = []
            try:
                values = next(reader)
            except StopIteration:
                return
            except (_BrokenQuote, csv.Error) as exc:
                start, first = lines.record[0]
                lines.put_back_continuation()
                reader = csv.reader(lines, delimiter=delimiter)  # its state is lost with the record
                yield _broken(start, first, exc, header, delimiter)
                continue
            start, end = lines.record[0][0], lines.record[-1][0]
            joined = "".join(values)  # one string: no generator per row
            if not joined.strip():
                self.blank += end - start + 1
                continue
            # `_check` only for a row it may refuse: an unprintable character, or more fields
            # than the header (nearly every row has neither).
            if not joined.isprintable() or len(values) > width:
                bad = _check(values, header, joined)
                if bad is not None:
                    yield BadRow(start, bad[0], bad[1], end)
                    continue
            if named_all:
                named = dict(zip(header, map(strip, values), strict=False))
            else:
                named = {h: v.strip() for h, v in zip(header, values, strict=False) if h}
            # (no generator for a row with every field, nearly every row)
            missing = tuple(h for h in header[len(values) :] if h) if len(values) < width else ()
            yield Row(start, named, end, missing)


def _broken(line: int, first: str, exc: Exception, header: tuple[str, ...], delimiter: str) -> BadRow:
    """The refusal of a row whose quoted field went wrong; it names the field (the last
    one on its first line, where the quote opened)."""
    try:
        fields = next(csv.reader([first], delimiter=delimiter), [""])
        column = _column(header, max(len(fields) - 1, 0))
    except csv.Error:  # a value too long for csv: name the longest
        fields = first.split(delimiter)
        column = _column(header, max(range(len(fields)), key=lambda n: len(fields[n])))
    if isinstance(exc, _BrokenQuote):
        what = f"broken quote: the quoted value that opens on this line {exc}"
    elif "field limit" in str(exc):
        what = f"a value is longer than {csv.field_size_limit()} characters"
    else:
        what = f"cannot be read ({exc})"
    return BadRow(
        line, column, f"{what}; this line is skipped, the lines after it are read on their own", line
    )


def _check(values: list[str], header: tuple[str, ...], joined: str) -> tuple[str, str] | None:
    """The column at fault and why, for a row the reader refuses; None for a good one.

    `joined` is the values written one after the other: one search of it finds any
    refused character in any of them (most rows have none).
    """
    if has_control_character(joined):
        for n, value in enumerate(values):
            problem = control_character(value)
            if problem:
                return _column(header, n), problem
    width = len(header)
    if len(values) > width:
        extra = [n for n in range(width, len(values)) if values[n].strip()]
        if extra:
            return (
                _column(header, extra[0]),
                f"this row has {len(values)} fields, the header {width}: a value probably holds "
                "the delimiter without quotes around it, which shifts the values after it",
            )
    return None


def _column(header: tuple[str, ...], n: int) -> str:
    """How a problem names field `n` (0-based): its header column, or its position."""
    if n < len(header) and header[n]:
        return header[n]
    return f"field {n + 1}"


def read_rows(text: IO[str], encoding: str, delimiter: str | None = None) -> tuple[CsvFormat, RowReader]:
    """Detect the delimiter and read the header; the rows follow from the reader.

    CsvError when there is no usable header; a line that cannot be decoded raises
    CsvError while iterating (give the encoding).
    """
    try:
        sample = text.read(_SAMPLE)
    except UnicodeDecodeError:
        raise CsvError(f"not readable as {encoding}; give the right encoding") from None
    delim = delimiter or _delimiter(sample)
    text.seek(0)
    lines = _Lines(text, delim, encoding)
    reader = csv.reader(lines, delimiter=delim)
    try:
        header_row = next(reader)
    except StopIteration:
        raise CsvError("the file is empty") from None
    except _BrokenQuote as exc:
        raise CsvError(f"line 1: broken quote: the quoted column name {exc}") from None
    except csv.Error as exc:
        raise CsvError(f"line 1: {exc}") from None
    # A BOM the encoding did not take (--encoding utf-8 given for a utf-8-sig file).
    if header_row:
        header_row[0] = header_row[0].lstrip("\ufeff")
    header = tuple(h.strip() for h in header_row)
    if not any(header):
        raise CsvError("line 1: the first line must name the columns")
    for name in header:
        problem = control_character(name)
        if problem:
            raise CsvError(f"line 1: a column name {problem}")
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise CsvError(f"line 1: column names used twice: {', '.join(dupes)}")
    lines.width = len(header)
    fmt = CsvFormat(encoding, delim, header)
    return fmt, RowReader(lines, fmt, lines.record[-1][0])
