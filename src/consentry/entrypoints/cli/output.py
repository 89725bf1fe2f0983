"""What every command group prints the same way: errors, JSON, problems, progress, counts."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from consentry.adapters.crypto.configured import KeySettingError
from consentry.adapters.sql.data_keys import WrongMasterKey
from consentry.adapters.sql.engine import SchemaMissing
from consentry.adapters.sql.upgrade_v2 import UpgradeRefused
from consentry.bootstrap import MissingSecret
from consentry.domain.clock import MomentError
from consentry.services.checkpoints import CheckpointRefused
from consentry.services.errors import FileRejected, InputError
from consentry.services.ledger_guard import LedgerDamaged

F = TypeVar("F", bound=Callable[..., Any])


class Problem(Protocol):
    """A problem with one line of an input file (an import row, a register entry)."""

    @property
    def line(self) -> int: ...
    @property
    def field(self) -> str: ...
    @property
    def message(self) -> str: ...


def err(message: str) -> None:
    """Print a line on standard error."""
    typer.echo(message, err=True)


def handled(fn: F) -> F:
    """Turn the services' input errors into a clear message and exit code 2 (a damaged ledger: 1)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FileRejected as exc:
            for p in exc.problems:
                err(f"error: {p}")
            err(f"error: {exc}")
            raise typer.Exit(2) from None
        except (
            InputError,
            MomentError,
            SchemaMissing,
            MissingSecret,
            KeySettingError,
            WrongMasterKey,
            UpgradeRefused,
        ) as exc:
            err(f"error: {exc}")
            raise typer.Exit(2) from None
        except (LedgerDamaged, CheckpointRefused) as exc:  # the ledger, not the input, is at fault
            err(f"error: {exc}")
            raise typer.Exit(1) from None
        except UnicodeDecodeError as exc:
            err(f"error: FILE: not UTF-8 text (byte {exc.start}); save it as UTF-8")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def echo_json(doc: Any, *, indent: int | None = None) -> None:
    """Print a JSON document, non-ASCII letters as they are."""
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=indent))


def problems_json(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """Problems by line as JSON objects."""
    return [{"line": p.line, "field": p.field, "message": p.message} for p in problems]


def echo_rejected(problems: Iterable[Problem]) -> None:
    """Print each rejected line on standard error, with its field and why."""
    for p in problems:
        err(f"rejected: line {p.line}: {p.field}: {p.message}")


def echo_counts(
    label: str, counts: Iterable[tuple[str, int]], *, note: str = "", to_err: bool = False
) -> None:
    """Print `label  count  rule` lines, one a rule (who was skipped or excluded, and why)."""
    for rule, n in counts:
        typer.echo(f"  {label} {n:>7}  {rule}{note}", err=to_err)


@contextmanager
def progress(label: str, total: int | None, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal's standard error; nothing when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield lambda _n: None
        return
    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
