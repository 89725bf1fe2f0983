"""`consentry retention`: the policies in force, and the run that erases what they no longer keep."""

from __future__ import annotations

from typing import Annotated

import typer

from consentry.domain import retention_text
from consentry.domain.state import local_day
from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import moment
from consentry.entrypoints.cli.output import echo_json, handled, progress
from consentry.services import retention, retention_policies
from consentry.services.errors import InputError
from consentry.services.retention_erasure import eraser_for

app = typer.Typer(help="Retention: erase contact points no basis keeps any longer.", no_args_is_help=True)

PoliciesOption = Annotated[
    str | None,
    typer.Option(
        "--policies",
        help="TOML file of retention policies; default CONSENTRY_RETENTION_POLICIES_FILE, "
        "else the Dutch defaults.",
    ),
]


@app.command("policies")
@handled
def policies_list(
    policies: PoliciesOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the policies as JSON.")] = False,
    statement: Annotated[
        str | None,
        typer.Option("--statement", help="Print the text a privacy statement can quote, in nl or en."),
    ] = None,
) -> None:
    """List the retention policies in force, in the order they are tried."""
    a = current()
    found = retention_policies.load(policies or a.settings.retention_policies_file)
    if statement is not None:
        if statement not in ("nl", "en"):
            raise InputError("--statement", f"{statement!r} is not one of: nl, en")
        for line in retention_text.statement(found.policies, statement):
            typer.echo(line)
        return
    if as_json:
        echo_json(
            {
                "source": found.source,
                "policies": [
                    {
                        "id": p.id,
                        "name_nl": p.name_nl,
                        "name_en": p.name_en,
                        "condition": p.condition.value,
                        "after": str(p.period),
                        "purposes": sorted(p.purposes) if p.purposes is not None else None,
                        "rule": p.rule,
                        "citation": p.citation,
                        "statement_nl": retention_text.sentence(p, "nl"),
                        "statement_en": retention_text.sentence(p, "en"),
                    }
                    for p in found.policies
                ],
            }
        )
        return
    typer.echo(f"retention policies from {found.source}:")
    for p in found.policies:
        scope = f", purposes {', '.join(sorted(p.purposes))}" if p.purposes else ""
        typer.echo(f"  {p.id:28} {p.condition.value:16} after {p.period}{scope}  [{p.rule}]")


@app.command("run")
@handled
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list who would be erased, and by which policy.")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(help="Judge as of this moment (a dry run's preview of a later day); default now."),
    ] = None,
    policies: PoliciesOption = None,
    batch: Annotated[
        int | None,
        typer.Option(help="Points per batch (one transaction each); default CONSENTRY_RETENTION_BATCH."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the counts per policy (and a dry run's ids) as JSON.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar; print only the counts.")] = False,
) -> None:
    """Erase the contact points no basis keeps any more, per policy (reason retention:<policy id>)."""
    a = current()
    found = retention_policies.load(policies or a.settings.retention_policies_file)
    when = moment(at)
    if when is not None and not dry_run:
        raise InputError("--at", "a real run erases as of now; use --at with --dry-run")
    eraser = None if dry_run else eraser_for(a)
    with progress("retention", None, quiet or as_json) as advance:
        report = retention.run(
            a,
            found.policies,
            eraser,
            at=when,
            dry_run=dry_run,
            batch=batch or a.settings.retention_batch,
            keep_ids=dry_run,
            on_batch=advance,
        )
    if as_json:
        echo_json(
            {
                **report.summary(),
                "policies": [
                    {
                        "id": pid,
                        "selected": c.selected,
                        "erased": c.erased,
                        "already_erased": c.already,
                        **({"contact_points": c.point_ids} if dry_run else {}),
                    }
                    for pid, c in report.counts.items()
                ],
            }
        )
        return
    day = local_day(report.at).isoformat()
    if dry_run:
        for pid, c in report.counts.items():
            for point_id in c.point_ids:
                typer.echo(f"{point_id}  {pid}")
        typer.echo(
            f"dry run for {day}: {report.selected} contact point(s) would be erased "
            f"({report.considered} without a lasting basis considered)"
        )
    else:
        typer.echo(f"retention run for {day}: {report.erased} contact point(s) erased")
    for pid, c in report.counts.items():
        done = f", {c.erased} erased" + (f", {c.already} already erased" if c.already else "")
        typer.echo(f"  {c.selected:>7}  {pid}{'' if dry_run else done}")
