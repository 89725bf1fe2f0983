"""`consentry forms`: save, list and embed the hosted sign-up forms."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import json_file
from consentry.entrypoints.cli.output import handled
from consentry.services import forms

app = typer.Typer(help="Save and show sign-up forms (collection points).", no_args_is_help=True)


@app.command("save")
@handled
def forms_save(
    file: Annotated[Path, typer.Argument(help="JSON file with the form definition.")],
) -> None:
    """Save a form definition; a changed form becomes a new version, the old one is kept."""
    doc = json_file(file)
    a = current()
    form = forms.save(a, doc)
    typer.echo(f"form {form.key} is at version {form.version}: {a.settings.base_url}/f/{form.key}")


@app.command("list")
@handled
def forms_list() -> None:
    """List forms with their current version."""
    for f in forms.list_all(current()):
        typer.echo(f"{f.key:24} v{f.version}  {f.title_nl} / {f.title_en}  ({len(f.items)} purposes)")


@app.command("embed")
@handled
def forms_embed(key: Annotated[str, typer.Argument(help="Form key.")]) -> None:
    """Print the HTML snippet that embeds the hosted form in a website."""
    a = current()
    typer.echo(forms.embed_snippet(a, forms.get(a, key)))
