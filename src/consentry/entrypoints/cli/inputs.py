"""Reading what a command is given: files, standard input, dates and moments."""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from consentry.domain.clock import parse_moment
from consentry.services.errors import InputError


def moment(value: str | None) -> datetime | None:
    """The moment an --at (or --before) option names; None for now."""
    return parse_moment(value) if value else None


def day(value: str | None, field: str) -> date | None:
    """The date an option names, or a clear error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(field, f"{value!r} is not a date like 2021-06-30") from None


def existing_file(file: str | Path) -> Path:
    """The file, or an error when it is missing or not a file."""
    path = Path(file)
    if not path.is_file():
        raise InputError("FILE", f"{file} does not exist or is not a file")
    return path


@contextmanager
def lines(file: str) -> Iterator[tuple[Any, int | None]]:
    """A text file's lines (or standard input's for -) and how many there are, if known."""
    if file == "-":
        yield sys.stdin, None
        return
    path = existing_file(file)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        total = sum(1 for _ in fh)
    with path.open(encoding="utf-8-sig") as fh:
        yield fh, total


def raw(file: str) -> bytes:
    """A file's bytes as they are (a raw mail message), or standard input's for -."""
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except OSError as exc:
        raise InputError("FILE", f"cannot read {file}: {exc.strerror}") from None


def json_file(file: Path) -> Any:
    """A JSON file's document."""
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError("FILE", f"cannot read {file} as JSON: {exc}") from None


def definition(file: Path) -> Any:
    """A definition file's document: TOML for .toml, JSON otherwise."""
    text = existing_file(file).read_text(encoding="utf-8-sig")
    try:
        if file.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            "FILE", f"{file} is not valid {file.suffix.lstrip('.').upper() or 'JSON'}: {exc}"
        ) from None
