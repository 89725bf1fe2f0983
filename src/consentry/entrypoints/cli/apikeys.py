"""`consentry apikey`: create, list and revoke the HTTP API's keys."""

from __future__ import annotations

from typing import Annotated

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.output import handled
from consentry.services import apikeys

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@app.command("create")
@handled
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key, e.g. webshop.")],
    scope: Annotated[list[str], typer.Option("--scope", help="read, write or admin (repeat).")],
) -> None:
    """Create an API key; its token is printed once and stored only as a hash."""
    key, token = apikeys.create(current(), name, scope)
    typer.echo(f"created {key.id} ({', '.join(key.scopes)}) for {key.name}")
    typer.echo(token)


@app.command("list")
@handled
def apikey_list() -> None:
    """List API keys (never their secrets)."""
    for k in apikeys.list_all(current()):
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        typer.echo(f"{k.id}  {k.name:24} {','.join(k.scopes):18} {state}")


@app.command("revoke")
@handled
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (k...).")]) -> None:
    """Revoke an API key at once."""
    apikeys.revoke(current(), key_id)
    typer.echo(f"revoked {key_id}")
