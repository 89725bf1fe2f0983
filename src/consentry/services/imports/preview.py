"""A file before it is imported: its format, its first rows, the mapping its header suggests."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from consentry.adapters.csvfile import BadRow, CsvError, CsvFormat, Row, open_text, read_rows
from consentry.services.errors import InputError
from consentry.services.imports.csv_mapper import guess_columns

#: Rows shown in the mapping step.
FIRST_ROWS = 5


@dataclass(frozen=True, slots=True)
class Preview:
    """A file's detected format, its first rows (or the reader's refusals) and the guessed mapping."""

    format: CsvFormat
    rows: list[Row | BadRow]
    guessed: dict[str, str]
    #: Lines in the file, counted by their line ends: about the rows an import will read.
    lines: int

    def cells(self, row: Row | BadRow) -> list[str]:
        """A row's values in header order (empty for a refused row)."""
        if isinstance(row, BadRow):
            return []
        return [row.values.get(column, "") for column in self.format.header]


def count_lines(path: Path) -> int:
    """The line ends in a file, read in blocks (a progress bar's total, not an exact count)."""
    n = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            n += block.count(b"\n")
    return n


def preview(path: Path, rows: int = FIRST_ROWS, encoding: str | None = None) -> Preview:
    """The first `rows` rows of a CSV and the mapping its header suggests; InputError when it
    cannot be read as CSV."""
    try:
        text, enc = open_text(path, encoding)
    except OSError as exc:
        raise InputError("FILE", f"cannot open {path.name}: {exc.strerror}") from None
    except CsvError as exc:
        raise InputError("encoding", str(exc)) from None
    with text:
        try:
            fmt, reader = read_rows(text, enc)
            first = list(islice(iter(reader), rows))
        except CsvError as exc:
            raise InputError("FILE", str(exc)) from None
    return Preview(fmt, first, guess_columns(fmt.header), count_lines(path))
