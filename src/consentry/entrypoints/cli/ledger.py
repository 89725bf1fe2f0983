"""`consentry ledger`: append documented events, verify the hash chain, rebuild the state."""

from __future__ import annotations

from typing import Annotated

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import lines
from consentry.entrypoints.cli.output import err, handled, progress
from consentry.services import integrity, ledger

app = typer.Typer(help="Append to, verify and rebuild the ledger.", no_args_is_help=True)
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@app.command("append")
@handled
def ledger_append(
    file: Annotated[str, typer.Argument(help="JSON lines file (one event per line), or - for stdin.")],
    quiet: Quiet = False,
) -> None:
    """Append documented events (docs/events.md); all or nothing."""
    a = current()
    with lines(file) as (found, total), progress("appending", total, quiet) as advance:
        report = ledger.append_lines(a, found, advance)
    typer.echo(
        f"appended {report.appended} events ({report.registered} new contact points)"
        + (f", seq {report.first_seq}-{report.last_seq}" if report.first_seq else "")
    )


@app.command("verify")
@handled
def ledger_verify(quiet: Quiet = False) -> None:
    """Recompute the hash chain; report every edited, removed or reordered event."""
    a = current()
    with progress("verifying", None, quiet) as advance:
        report = integrity.verify_ledger(a, advance)
    if report.ok:
        typer.echo(f"ledger intact: {report.events} events, head at seq {report.head_seq}")
        return
    for p in report.problems:
        err(f"seq {p.seq} ({p.event_id}): {p.problem}")
    err(f"ledger NOT intact: {len(report.problems)} problem(s) in {report.events} events")
    raise typer.Exit(1)


@app.command("rebuild")
@handled
def ledger_rebuild() -> None:
    """Rebuild every contact point's current state from the ledger."""
    n = integrity.rebuild_projection(current())
    typer.echo(f"rebuilt the state of {n} contact points from the ledger")
