"""Do-not-contact registers: imported with their name and period, consulted at a decision's date.

The `nl` rule pack consults `bel-me-niet` (calls, until the register closed on
2021-07-01) and `postfilter` (addressed post). Other registers (the Belgian
Bel-me-niet-meer list, the UK TPS) are kept for the rule packs that will use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from consentry.adapters.addresses import AddressError, normalise
from consentry.adapters.csvfile import BadRow, CsvError, open_text, read_rows
from consentry.domain.text import control_character
from consentry.domain.vocabulary import PointKind
from consentry.services.app import App
from consentry.services.errors import InputError, LineProblem


@dataclass(frozen=True, slots=True)
class Preset:
    """What is known about a well-known register."""

    name: str
    kind: PointKind
    country: str
    valid_until: date | None = None


PRESETS = {
    "bel-me-niet": Preset("Bel-me-niet Register", PointKind.PHONE, "NL", date(2021, 6, 30)),
    "postfilter": Preset("Postfilter", PointKind.POSTAL, "NL"),
    "bel-me-niet-meer": Preset("Bel-me-niet-meer (BE)", PointKind.PHONE, "BE"),
    "tps": Preset("Telephone Preference Service (UK)", PointKind.PHONE, "GB"),
}
_HEX = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass
class RegisterReport:
    """What a register import did.

    Every entry is counted once: `entries` = `new` + `already` + rejected, where
    `already` is an entry the register held, or one repeated in the file. Every
    line is counted once: `lines` = `header_lines` + `blank_lines` + the entries'
    lines (more than one only for a quoted CSV value over several lines).
    """

    register: str
    entries: int = 0
    new: int = 0
    rejected: list[LineProblem] = field(default_factory=list)
    lines: int = 0
    header_lines: int = 0
    blank_lines: int = 0

    @property
    def already(self) -> int:
        """Entries the register held already, or repeated in the file."""
        return self.entries - self.new - len({p.line for p in self.rejected})

    def accounting(self) -> str:
        """The line that accounts for every entry and every line of the file."""
        rejected = len({p.line for p in self.rejected})
        parts = [f"{self.header_lines} header"] if self.header_lines else []
        parts.append(f"{self.entries} entries")
        more = self.lines - self.header_lines - self.blank_lines - self.entries
        if more:
            parts.append(f"{more} more in quoted fields")
        if self.blank_lines:
            parts.append(f"{self.blank_lines} blank")
        return (
            f"entries: {self.entries} = {self.new} new + {self.already} already listed + "
            f"{rejected} rejected; lines: {self.lines} = {' + '.join(parts)}"
        )


def import_file(
    app: App,
    path: Path,
    key: str,
    *,
    name: str | None = None,
    kind: PointKind | None = None,
    hashed: bool = False,
    column: str | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> RegisterReport:
    """Import a register file (one entry per line, or a CSV column), with the register's period."""
    if not _KEY.match(key):
        raise InputError("register", "use lower-case letters, digits, '_' or '-'")
    preset = PRESETS.get(key)
    kind = kind or (preset.kind if preset else None)
    if kind is None:
        raise InputError("kind", f"say what {key!r} lists: phone, email or postal")
    name = name or (preset.name if preset else key)
    until = valid_until or (preset.valid_until if preset else None)
    if valid_from and until and until < valid_from:
        raise InputError("until", "is before --from")
    report = RegisterReport(key)
    entries = []
    for line, raw in _entries(path, column, report):
        report.entries += 1
        if isinstance(raw, InputError):  # the reader's refusal names its own column
            report.rejected.append(LineProblem(line, raw.field, raw.message))
            continue
        try:
            entries.append(_entry(raw, kind, hashed, app.settings.default_region))
        except InputError as exc:
            report.rejected.append(LineProblem(line, column or "entry", exc.message))
    with app.store.writer() as w:
        w.put_register(key, name, kind, hashed, valid_from, until)
        report.new = w.put_register_entries(key, entries, None, None)
    return report


def _entry(raw: str, kind: PointKind, hashed: bool, region: str) -> str:
    if hashed:
        value = raw.strip().lower()
        if not _HEX.match(value):
            raise InputError("entry", f"{raw!r} is not a SHA-256 hash (64 hex digits)")
        return value
    try:
        return normalise(kind, raw, region).value
    except AddressError as exc:
        raise InputError("entry", str(exc)) from None


def _entries(path: Path, column: str | None, report: RegisterReport) -> list[tuple[int, str | InputError]]:
    """The file's entries by line (a line that cannot be taken as an InputError in its
    place); counts the file's lines in `report`."""
    try:
        text, enc = open_text(path)
    except OSError as exc:
        raise InputError("FILE", f"cannot open {path}: {exc.strerror}") from None
    except CsvError as exc:
        raise InputError("FILE", str(exc)) from None
    out: list[tuple[int, str | InputError]] = []
    with text:
        if column is None:
            for n, line in enumerate(text, 1):
                report.lines = n
                if not line.strip():
                    report.blank_lines += 1
                    continue
                problem = control_character(line.rstrip("\r\n"))
                out.append((n, InputError("entry", problem) if problem else line.strip()))
            return out
        try:
            fmt, rows = read_rows(text, enc)
            if column not in fmt.header:
                raise InputError("column", f"{column!r} is not a column of {path.name}")
            for row in rows:
                if isinstance(row, BadRow):
                    out.append((row.line, InputError(row.column or "entry", row.message)))
                elif row.values.get(column):
                    out.append((row.line, row.values[column]))
                else:  # a row with other values but none in the column: said, not skipped
                    out.append((row.line, InputError(column, "empty")))
        except CsvError as exc:
            raise InputError("FILE", str(exc)) from None
        report.lines, report.header_lines, report.blank_lines = rows.lines, rows.header_lines, rows.blank
    return out


def list_all(app: App) -> list[dict[str, object]]:
    """Every register with its period and number of entries."""
    with app.store.reader() as r:
        return r.registers()
