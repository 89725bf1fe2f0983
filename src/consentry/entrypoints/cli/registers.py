"""Do-not-contact registers: `consentry import register` and `consentry registers`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import day
from consentry.entrypoints.cli.output import echo_rejected, handled
from consentry.services import registers
from consentry.services.errors import choice


@handled
def import_register(
    file: Annotated[Path, typer.Argument(help="One entry per line, or a CSV with --column.")],
    register: Annotated[
        str, typer.Option(help="Register key: bel-me-niet, postfilter, bel-me-niet-meer, tps ...")
    ],
    name: Annotated[str | None, typer.Option(help="Display name (known registers have one).")] = None,
    kind: Annotated[str | None, typer.Option(help="What it lists: phone, email or postal.")] = None,
    hashed: Annotated[
        bool, typer.Option("--hashed", help="Entries are SHA-256 of the normalised value.")
    ] = False,
    column: Annotated[str | None, typer.Option(help="The CSV column holding the entries.")] = None,
    valid_from: Annotated[str | None, typer.Option("--from", help="First day the register applies.")] = None,
    valid_until: Annotated[str | None, typer.Option("--until", help="Last day the register applies.")] = None,
) -> None:
    """Import a do-not-contact register file; decisions consult it on the decision's date."""
    report = registers.import_file(
        current(),
        file,
        register,
        name=name,
        kind=choice(PointKind, "kind", kind) if kind else None,
        hashed=hashed,
        column=column,
        valid_from=day(valid_from, "from"),
        valid_until=day(valid_until, "until"),
    )
    echo_rejected(report.rejected)
    typer.echo(
        f"register {report.register}: {report.entries} entries read, {report.new} new"
        + (f", {len(report.rejected)} rejected" if report.rejected else "")
    )
    typer.echo(report.accounting())


@handled
def registers_list() -> None:
    """List the do-not-contact registers with their period and size."""
    for reg in registers.list_all(current()):
        period = f"{reg['valid_from'] or '…'} – {reg['valid_until'] or '…'}"
        hashed = " (hashed)" if reg["hashed"] else ""
        typer.echo(
            f"{reg['key']:20} {reg['name']:36} {reg['kind']:7} {period:25} {reg['entries']} entries{hashed}"
        )
