"""Retention policies from a TOML file (`CONSENTRY_RETENTION_POLICIES_FILE`), or the Dutch defaults.

The file is a list of `[[policy]]` tables (see `retention_nl.toml`, the defaults, and
docs/retention.md). Every problem names the file, the line, the policy and the field:
a file with a problem is refused as a whole, so retention never runs on half a policy set.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consentry.domain.retention import Condition, Period, RetentionPolicy, Unit
from consentry.services.errors import InputError

DEFAULTS_FILE = Path(__file__).with_name("retention_nl.toml")

#: A policy id: it is written into each erasure's reason code, `retention:<id>` (31 characters at most).
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")
_PERIOD = re.compile(r"^\s*(\d{1,4})\s+([a-z]+)\s*$")
_UNITS = {
    "day": Unit.DAYS, "days": Unit.DAYS, "dag": Unit.DAYS, "dagen": Unit.DAYS,
    "month": Unit.MONTHS, "months": Unit.MONTHS, "maand": Unit.MONTHS, "maanden": Unit.MONTHS,
    "year": Unit.YEARS, "years": Unit.YEARS, "jaar": Unit.YEARS,
}  # fmt: skip
_REQUIRED = ("id", "name_nl", "name_en", "condition", "after", "rule", "citation")
_FIELDS = (*_REQUIRED, "purposes")
_HEADER = re.compile(r"^\s*\[\[\s*policy\s*\]\]")


class PolicyFileError(InputError):
    """The policy file cannot be used; `field` says where (file, line, policy, field)."""


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies in force and where they came from."""

    policies: tuple[RetentionPolicy, ...]
    source: str

    def by_id(self, policy_id: str) -> RetentionPolicy | None:
        """A policy by id."""
        return next((p for p in self.policies if p.id == policy_id), None)


def load(path: str | None) -> PolicySet:
    """The policies of `path`, or the Dutch defaults when no file is set."""
    file = Path(path) if path else DEFAULTS_FILE
    name = str(path) if path else "(defaults) retention_nl.toml"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyFileError(name, "no such file (CONSENTRY_RETENTION_POLICIES_FILE)") from None
    except UnicodeDecodeError as exc:
        raise PolicyFileError(name, f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise PolicyFileError(name, f"cannot be read: {exc.strerror}") from None
    return PolicySet(parse(text, name), name)


def parse(text: str, name: str = "retention policies") -> tuple[RetentionPolicy, ...]:
    """Read and check a policy file's text; PolicyFileError at the first problem."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(name, f"not valid TOML: {exc}") from None
    where = _Lines(text, name)
    extra = sorted(set(doc) - {"policy"})
    if extra:
        raise PolicyFileError(where.top(extra[0]), "unknown key; the file holds only [[policy]] tables")
    tables = doc.get("policy")
    if not isinstance(tables, list) or not tables:
        raise PolicyFileError(name, "no [[policy]] tables; write at least one policy (see docs/retention.md)")
    seen: dict[str, int] = {}
    policies = []
    for n, table in enumerate(tables):
        p = _policy(table, n, where)
        if p.id in seen:
            raise PolicyFileError(where.at(n, "id", p.id), f"the id is used by policy {seen[p.id] + 1} too")
        seen[p.id] = n
        policies.append(p)
    return tuple(policies)


def _policy(table: Any, n: int, where: _Lines) -> RetentionPolicy:
    if not isinstance(table, dict):
        raise PolicyFileError(where.at(n, "policy", None), "must be a table of fields ([[policy]])")
    label = table.get("id") if isinstance(table.get("id"), str) else None
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        raise PolicyFileError(
            where.at(n, unknown[0], label), f"unknown field; the fields are {', '.join(_FIELDS)}"
        )
    for key in _REQUIRED:
        if key not in table:
            raise PolicyFileError(where.at(n, key, label), "missing")
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise PolicyFileError(where.at(n, key, label), "must be a text in quotes, not empty")
    pid = table["id"]
    if not _ID.match(pid):
        raise PolicyFileError(
            where.at(n, "id", label),
            f"{pid!r}: use lower-case letters, digits, - and _ (at most 31), starting with a letter or digit",
        )
    try:
        condition = Condition(table["condition"])
    except ValueError:
        allowed = ", ".join(c.value for c in Condition)
        raise PolicyFileError(
            where.at(n, "condition", label), f"{table['condition']!r} is not one of: {allowed}"
        ) from None
    return RetentionPolicy(
        id=pid,
        name_nl=table["name_nl"].strip(),
        name_en=table["name_en"].strip(),
        condition=condition,
        period=_period(table["after"], where.at(n, "after", label)),
        rule=table["rule"].strip(),
        citation=table["citation"].strip(),
        purposes=_purposes(table.get("purposes"), where.at(n, "purposes", label)),
    )


def _period(text: str, field: str) -> Period:
    m = _PERIOD.match(text.lower())
    unit = _UNITS.get(m.group(2)) if m else None
    if m is None or unit is None:
        raise PolicyFileError(
            field, f'{text!r} is not a period; write e.g. "30 days", "12 months" or "3 years"'
        )
    amount = int(m.group(1))
    if amount < 1:
        raise PolicyFileError(field, "a period of at least 1 (0 would erase on the day itself)")
    return Period(amount, unit)


def _purposes(value: Any, field: str) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise PolicyFileError(field, 'a list of purpose keys, e.g. ["nieuwsbrief"]; leave it out for all')
    return frozenset(v.strip() for v in value)


class _Lines:
    """Where in the file a policy's field is written, for messages."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.lines = text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if _HEADER.match(line)]

    def _find(self, key: str, start: int, end: int) -> int | None:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        return next((i for i in range(start, end) if pattern.match(self.lines[i])), None)

    def top(self, key: str) -> str:
        """A top-level key's place."""
        end = self.headers[0] if self.headers else len(self.lines)
        i = self._find(key, 0, end)
        return f"{self.name}: {'' if i is None else f'line {i + 1}: '}{key}"

    def at(self, n: int, key: str, label: str | None) -> str:
        """Policy n's field (its line when written, else the policy's header line)."""
        who = f"policy {n + 1}" + (f" ({label})" if label else "")
        if n >= len(self.headers):  # written inline (policy = [{...}]): no header line to name
            return f"{self.name}: {who}: {key}"
        start = self.headers[n]
        end = self.headers[n + 1] if n + 1 < len(self.headers) else len(self.lines)
        i = self._find(key, start, end)
        return f"{self.name}: line {(start if i is None else i) + 1}: {who}: {key}"
