"""Reading CSV files as people really have them.

UTF-8 with or without BOM, or Windows-1252 (Dutch Excel); comma, semicolon, tab
or pipe as delimiter; quoted fields with newlines; empty lines. Every row comes
with the line number it starts on, so a problem can be pointed at.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

DELIMITERS = ",;\t|"
_SAMPLE = 64 * 1024


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
    """One record and the line it starts on (1 is the header)."""

    line: int
    values: dict[str, str]
    extra: tuple[str, ...] = ()


def detect_encoding(path: Path) -> str:
    """UTF-8 (with BOM: utf-8-sig) when the whole file decodes as such, else Windows-1252."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        first = fh.read(_SAMPLE)
        if first.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        chunk = first
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = fh.read(1 << 20)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


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


def read_rows(text: IO[str], encoding: str, delimiter: str | None = None) -> tuple[CsvFormat, Iterator[Row]]:
    """Detect the delimiter and header, and iterate the rows with their line numbers."""
    fmt, records = read_records(text, encoding, delimiter)
    header = fmt.header
    return fmt, (make_row(header, line, values) for line, values in records)


def make_row(header: tuple[str, ...], line: int, values: list[str]) -> Row:
    """A row of `read_records` with its values named by the header (and stripped)."""
    named = {h: v.strip() for h, v in zip(header, values, strict=False) if h}
    return Row(line, named, tuple(values[len(header) :]))


def read_records(
    text: IO[str], encoding: str, delimiter: str | None = None
) -> tuple[CsvFormat, Iterator[tuple[int, list[str]]]]:
    """Like `read_rows`, but each row as its line number and its raw values, unnamed.

    The cheapest form to hand to another process (see `make_row`); empty rows are skipped.
    """
    sample = text.read(_SAMPLE)
    delim = delimiter or _delimiter(sample)
    text.seek(0)
    reader = csv.reader(text, delimiter=delim)
    try:
        header_row = next(reader)
    except StopIteration:
        raise CsvError("the file is empty") from None
    except csv.Error as exc:
        raise CsvError(f"line 1: {exc}") from None
    header = tuple(h.strip() for h in header_row)
    if not any(header):
        raise CsvError("line 1: the first line must name the columns")
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise CsvError(f"line 1: column names used twice: {', '.join(dupes)}")

    def records() -> Iterator[tuple[int, list[str]]]:
        line = reader.line_num + 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CsvError(f"line {line}: {exc}") from None
            except UnicodeDecodeError:
                raise CsvError(f"line {line}: not readable as {encoding}; give --encoding") from None
            start, line = line, reader.line_num + 1
            if not "".join(values).strip():  # an empty row (one string: no generator per row)
                continue
            yield start, values

    return CsvFormat(encoding, delim, header), records()
