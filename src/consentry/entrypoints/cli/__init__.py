"""The `consentry` command line: parse, call one service, print.

Each command group lives in its own module; this one assembles them, in the order
`consentry --help` lists them, and holds the option every run takes (the database).
"""

from __future__ import annotations

from typing import Annotated

import typer

from consentry.entrypoints.cli import (
    accountability,
    apikeys,
    audience,
    campaigns,
    contacts,
    context,
    decisions,
    dsr,
    erasure,
    feedback,
    forms,
    imports,
    ledger,
    purposes,
    registers,
    retention,
    start,
    users,
)

app = typer.Typer(
    help="consentry: bewijs elke toestemming, verklaar elk besluit. "
    "Prove every consent, explain every decision.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="CONSENTRY_DATABASE_URL",
            help="SQLAlchemy URL; default sqlite:///consentry.db",
        ),
    ] = None,
) -> None:
    context.use(database_url)


app.command()(start.init)
app.command()(start.demo)
app.command()(decisions.decide)
app.command()(decisions.explain)
app.command()(start.serve)
app.command("registers")(registers.registers_list)
app.command("notices")(contacts.notices_due)
app.command("export")(audience.export_reachable)
app.command("audience")(audience.audience_report)
app.command("export-person")(accountability.export_person)
app.command("proof")(accountability.proof)
app.command("receipts")(accountability.receipts_export)
app.command("erase")(erasure.erase)

imports.app.command("register")(registers.import_register)

app.add_typer(ledger.app, name="ledger")
app.add_typer(purposes.app, name="purposes")
app.add_typer(apikeys.app, name="apikey")
app.add_typer(forms.app, name="forms")
app.add_typer(imports.app, name="import")
app.add_typer(contacts.app, name="contacts")
app.add_typer(feedback.app, name="feedback")
app.add_typer(campaigns.app, name="campaign")
app.add_typer(users.app, name="user")
app.add_typer(accountability.app, name="report")
app.add_typer(retention.app, name="retention")
app.add_typer(dsr.app, name="dsr")


def main() -> None:
    """Entry point of the `consentry` command."""
    app()
