"""What is known about contacts: `consentry contacts show` and `consentry notices`."""

from __future__ import annotations

from typing import Annotated

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import moment
from consentry.entrypoints.cli.output import echo_json, handled
from consentry.services import contacts, notices

app = typer.Typer(help="Look up contact points and what is owed to them.", no_args_is_help=True)


@app.command("show")
@handled
def contacts_show(
    contact: Annotated[
        str, typer.Argument(help="Contact point id, e-mail address, phone number or postal:…")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print state and timeline as JSON.")] = False,
) -> None:
    """Show a contact point's current state and its ledger timeline."""
    v = contacts.view(current(), contact)
    if as_json:
        timeline = [
            {"seq": e.seq, "id": e.id, "type": e.type, "occurred_at": e.occurred_at.isoformat(), **e.payload}
            for e in v.events
        ]
        echo_json({"id": v.id, "state": v.state, "events": timeline})
        return
    s = v.state
    typer.echo(f"{v.id}  {v.kind.value}  {s.get('value', '')!s}".replace("\n", ", "))
    typer.echo(f"party {s.get('party')}, source {s.get('source')}, {len(v.events)} events")
    if s.get("art14_notice_due"):
        typer.echo(f"Art. 14 notice owed: due {s['art14_notice_due'][:10]} (or at the first contact)")
    for e in v.events:
        detail = ", ".join(f"{k}={val}" for k, val in e.payload.items() if k not in ("kind", "value"))
        typer.echo(f"  {e.occurred_at:%Y-%m-%d %H:%M}  {e.type:28} {detail[:90]}")


@handled
def notices_due(
    before: Annotated[str | None, typer.Option(help="Only those due on or before this date.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the Art. 14 notices owed to people whose data did not come from themselves."""
    until = moment(before)
    items = notices.due(current(), until)
    if as_json:
        echo_json(
            [
                {
                    "contact_point": n.contact_point,
                    "value": n.value,
                    "source": n.source,
                    "due": n.due.isoformat(),
                }
                for n in items
            ]
        )
        return
    for n in items:
        typer.echo(f"{n.due:%Y-%m-%d}  {n.contact_point}  {n.source:32} {n.value.splitlines()[0]}")
    typer.echo(f"{len(items)} notice(s) owed")
