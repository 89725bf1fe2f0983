"""`consentry import csv` and `import mailchimp`: contacts with their provenance and proof."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consentry.domain.vocabulary import ConsentMethod, PartyKind, Source
from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.output import echo_json, echo_rejected, err, handled, problems_json, progress
from consentry.services import imports
from consentry.services.errors import choice
from consentry.services.imports import mailchimp

app = typer.Typer(help="Import contacts from files, with their provenance and proof.", no_args_is_help=True)

DryRun = Annotated[bool, typer.Option("--dry-run", help="Report what would happen; write nothing.")]
Strict = Annotated[bool, typer.Option("--strict", help="Write nothing if any row has a problem.")]
Encoding = Annotated[str | None, typer.Option(help="File encoding (default: detected, UTF-8 or cp1252).")]
Delimiter = Annotated[str | None, typer.Option(help="Column delimiter (default: detected).")]


@app.command("csv")
@handled
def import_csv(
    file: Annotated[Path, typer.Argument(help="The CSV file.")],
    source: Annotated[str, typer.Option(help="Where the whole batch came from (web_form, purchase, ...).")],
    basis: Annotated[str, typer.Option(help="Legal basis stated: consent, legitimate_interest, contract.")],
    map_: Annotated[
        list[str],
        typer.Option(
            "--map",
            help="field=Column: email, phone, postal, name, party, country, "
            "consent_at, consent_ip, tags (repeat).",
        ),
    ],
    purpose: Annotated[
        str | None, typer.Option(help="Purpose the consents are for (with --basis consent).")
    ] = None,
    method: Annotated[str, typer.Option(help="How the consents were collected (default import).")] = "import",
    party: Annotated[str | None, typer.Option(help="Party kind of every row, unless a column says.")] = None,
    source_detail: Annotated[str | None, typer.Option(help="Which fair, which list seller ...")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Tag every imported contact (repeat).")
    ] = None,
    dry_run: DryRun = False,
    strict: Strict = False,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import contacts from a CSV; re-importing the same file adds nothing."""
    a = current()
    spec = imports.CsvSpec(
        source=choice(Source, "source", source),
        basis=basis,
        columns=imports.parse_map(map_),
        purpose=purpose,
        consent_method=choice(ConsentMethod, "method", method),
        party=choice(PartyKind, "party", party) if party else None,
        source_detail=source_detail,
        tags=tuple(tag or ()),
    )
    mapper = imports.CsvMapper(a, spec)
    with progress("importing", None, as_json) as advance:
        report = imports.run(
            a,
            file,
            mapper,
            dry_run=dry_run,
            strict=strict,
            encoding=encoding,
            delimiter=delimiter,
            progress=advance,
        )
    _print_import(report, as_json)
    if report.rejected and strict:
        raise typer.Exit(1)


@app.command("mailchimp")
@handled
def import_mailchimp(
    file: Annotated[Path, typer.Argument(help="The audience export: the ZIP, or one of its CSV files.")],
    purpose: Annotated[str, typer.Option(help="The purpose this audience's consents are for.")],
    audience: Annotated[str | None, typer.Option(help="The audience's name, kept as provenance.")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="subscribed, unsubscribed, cleaned or nonsubscribed (default: the file name's)."),
    ] = None,
    dry_run: DryRun = False,
    strict: Strict = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON lines.")] = False,
) -> None:
    """Import a Mailchimp audience export with its opt-in evidence, unsubscribes and cleaned addresses."""
    a = current()
    with progress("importing", None, as_json) as advance:
        result = mailchimp.run(
            a,
            file,
            purpose,
            audience=audience,
            status=status,
            dry_run=dry_run,
            strict=strict,
            progress=advance,
        )
    failed = False
    for name, file_status, report in result.files:
        if not as_json:
            typer.echo(f"== {name} ({file_status})")
        _print_import(report, as_json)
        failed = failed or bool(report.rejected and strict)
    if failed:
        raise typer.Exit(1)


def _print_import(r: imports.ImportReport, as_json: bool) -> None:
    if as_json:
        echo_json(
            {
                "encoding": r.format.encoding if r.format else None,
                "delimiter": r.format.delimiter if r.format else None,
                "rows": r.rows,
                "accepted": r.accepted,
                "imported": r.imported,
                "merged": r.merged,
                "rejected_rows": r.rejected_rows,
                "lines": {
                    "total": r.lines,
                    "header": r.header_lines,
                    "rows": r.rows,
                    "in_quoted_fields": r.quoted_lines,
                    "blank": r.blank_lines,
                },
                "rejected": problems_json(r.rejected),
                "notes": problems_json(r.notes),
                "file_notes": r.file_notes,
                "new_contact_points": r.new_points,
                "existing_contact_points": r.existing_points,
                "events": r.events,
                "already_imported": r.already_imported,
                "suggested_party": r.suggestions,
                "dry_run": r.dry_run,
                "committed": r.committed,
            }
        )
        return
    fmt = r.format
    if fmt:
        delim = {"\t": "tab"}.get(repr(fmt.delimiter)[1:-1], fmt.delimiter)
        typer.echo(f"file: {fmt.encoding}, delimiter {delim!r}, columns: {', '.join(fmt.header)}")
    for note in r.file_notes:
        typer.echo(f"note: {note}")
    for p in r.notes:
        typer.echo(f"note: line {p.line}: {p.field}: {p.message}")
    echo_rejected(r.rejected)
    verb = "would import" if r.dry_run else ("imported" if r.committed else "imported nothing of")
    typer.echo(
        f"{verb} {r.accepted} of {r.rows} rows: {r.new_points} new contact points, "
        f"{r.existing_points} already known, {r.events} events, {r.already_imported} already imported"
        + (f"; {r.rejected_rows} rows rejected" if r.rejected else "")
    )
    typer.echo(r.accounting())
    if r.suggestions:
        hints = ", ".join(f"{k} {v}" for k, v in sorted(r.suggestions.items()))
        typer.echo(f"suggested party kinds (stated kinds win): {hints}")
    if r.rejected and not r.committed and not r.dry_run:
        err("strict: nothing was written")
