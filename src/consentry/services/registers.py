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
from consentry.adapters.csvfile import CsvError, open_text, read_rows
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind
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
    """What a register import did."""

    register: str
    entries: int = 0
    new: int = 0
    rejected: list[LineProblem] = field(default_factory=list)


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
    for line, raw in _entries(path, column):
        report.entries += 1
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


def _entries(path: Path, column: str | None) -> list[tuple[int, str]]:
    try:
        text, enc = open_text(path)
    except OSError as exc:
        raise InputError("FILE", f"cannot open {path}: {exc.strerror}") from None
    with text:
        if column is None:
            return [(n, line.strip()) for n, line in enumerate(text, 1) if line.strip()]
        try:
            fmt, rows = read_rows(text, enc)
            if column not in fmt.header:
                raise InputError("column", f"{column!r} is not a column of {path.name}")
            return [(row.line, row.values[column]) for row in rows if row.values.get(column)]
        except CsvError as exc:
            raise InputError("FILE", str(exc)) from None


def list_all(app: App) -> list[dict[str, object]]:
    """Every register with its period and number of entries."""
    with app.store.reader() as r:
        return r.registers()
