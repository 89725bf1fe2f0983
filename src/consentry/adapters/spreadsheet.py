"""Writing CSV that Dutch Excel opens as it is: UTF-8 with a byte order mark, `;` between fields.

Excel takes a CSV file's encoding from its byte order mark (without one it reads
Windows-1252, and "Zoë" comes out as "ZoÃ«") and its separator from the region's
list separator, which in the Netherlands is `;`. Every CSV consentry hands out (the
`consentry export` lists, the audience drill-down, the admin app's downloads)
goes through `writer`.

A cell that starts like a formula (`=`, `@`, or `+`/`-` followed by anything but a
number) is written with a leading apostrophe: a name typed into a sign-up form as
`=HYPERLINK(...)` must stay text when a marketer opens the list. Phone numbers
(`+31 6 ...`) and negative numbers are left alone.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol, TextIO

DELIMITER = ";"
BOM = "\ufeff"
MEDIA_TYPE = "text/csv; charset=utf-8"
_NUMBER = re.compile(r"[+-][\d ()./-]*")


class RowWriter(Protocol):
    """What `writer` returns: one row at a time."""

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one row."""


def cell(value: object) -> str:
    """A value as a spreadsheet shows it, never as a formula."""
    text = "" if value is None else str(value)
    if not text:
        return text
    first = text[0]
    if first in "=@\t\r" or (first in "+-" and not _NUMBER.fullmatch(text)):
        return "'" + text
    return text


class _SafeWriter:
    def __init__(self, out: TextIO) -> None:
        self._w = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._w.writerow([cell(v) for v in row])


def writer(out: TextIO, header: Iterable[str]) -> RowWriter:
    """Start a CSV on `out` (the byte order mark, then the header row); rows follow."""
    out.write(BOM)
    w = _SafeWriter(out)
    w.writerow(header)
    return w
