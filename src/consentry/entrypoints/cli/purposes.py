"""`consentry purposes`: define and list what contacts consent to."""

from __future__ import annotations

from typing import Annotated

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.output import echo_json, handled
from consentry.services import purposes

app = typer.Typer(help="Define and list purposes.", no_args_is_help=True)


@app.command("add")
@handled
def purposes_add(
    key: Annotated[str, typer.Argument(help="Key, e.g. nieuwsbrief.")],
    name_nl: Annotated[str, typer.Option("--name-nl", help="Dutch name.")],
    name_en: Annotated[str, typer.Option("--name-en", help="English name.")],
    kind: Annotated[str, typer.Option(help="commercial, ideal or charitable.")] = "commercial",
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Product category it promotes (repeat).")
    ] = None,
    third_party: Annotated[bool, typer.Option("--third-party", help="On behalf of a third party.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Redefine an existing purpose.")] = False,
) -> None:
    """Define a purpose."""
    p = purposes.define(current(), key, name_nl, name_en, kind, category or (), third_party, replace)
    typer.echo(
        f"purpose {p.key} defined ({p.kind.value}; categories: {', '.join(sorted(p.categories)) or '-'})"
    )


@app.command("list")
@handled
def purposes_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the defined purposes."""
    items = purposes.list_all(current())
    if as_json:
        echo_json([p.to_json() for p in items])
        return
    for p in items:
        extra = " (third party)" if p.third_party else ""
        typer.echo(f"{p.key:24} {p.name_nl} / {p.name_en}{extra}  [{', '.join(sorted(p.categories))}]")
