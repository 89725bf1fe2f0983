"""Getting started: create the database, load the demo, serve the API and pages."""

from __future__ import annotations

import copy
import os
from typing import Annotated, Any

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import moment
from consentry.entrypoints.cli.output import handled
from consentry.services import checkpoints, retention_policies, setup
from consentry.services import decide as decide_service
from consentry.services import demo as demo_service
from consentry.services.retention_erasure import eraser_for


@handled
def init(
    name: Annotated[str | None, typer.Option(help="Controller (sender) name.")] = None,
    sector: Annotated[
        str | None, typer.Option(help="commercial, charity, charity_lottery or publisher.")
    ] = None,
    postal_sector: Annotated[
        str | None,
        typer.Option(
            help="The Postfilter sector of your addressed mail (e.g. goede-doelen); only listings "
            "for that sector block it. Empty clears it: every listing then blocks."
        ),
    ] = None,
) -> None:
    """Create or upgrade the database (migrations) and store the controller profile."""
    a = current()
    rev = setup.init(a, name, sector, postal_sector)
    made = a.store.vault.made_key_file
    if made is not None:
        typer.echo(
            f"keys made in {made}: keep this file with the database (and out of its backups); "
            "without it the contacts' data cannot be read (docs/privacy.md)"
        )
    typer.echo(f"database ready at {a.store.engine.url.render_as_string(hide_password=True)} (schema {rev})")


@handled
def demo() -> None:
    """Set up the database and load the demo (a coffee roaster and its contacts)."""
    a = current()
    report = demo_service.load(a)
    typer.echo(f"demo loaded: {report.registered} contact points, {report.appended} events")
    typer.echo("try:  consentry explain --contact sanne.visser@example.nl --channel email ")
    typer.echo("                          --purpose koffie-aanbiedingen")
    for contact, channel, purpose, kind, at in demo_service.TOUR:
        d = decide_service.decide(a, contact, channel, purpose, kind, at=moment(at))
        when = f" @ {at}" if at else ""
        typer.echo(f"  {d.verdict.value:6} {d.rule:22} {channel:6} {purpose:20} {contact}{when}")


@handled
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (use 1 with SQLite writes heavy).")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the public pages."""
    import uvicorn

    a = current()
    a.signer()  # fail now, not in a worker, when production has no secret key
    with a.store.reader():
        pass  # and when the database was never initialised
    if a.settings.checkpoint_every_s:
        checkpoints.signer_for(a.settings)  # and when periodic checkpoints have no key to sign with
    if a.settings.retention_schedule:  # and when the daily retention run has no usable policies
        retention_policies.load(a.settings.retention_policies_file)
        eraser_for(a)
    os.environ["CONSENTRY_DATABASE_URL"] = a.settings.database_url
    typer.echo(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "consentry.entrypoints.http:asgi",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        # uvicorn's access line holds the client's address and the path with its query
        # (an address, a token); ours holds the route's template (entrypoints/access_log.py).
        access_log=False,
        log_config=log_config(),
    )


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, with consentry's access log printed beside its messages."""
    from uvicorn.config import LOGGING_CONFIG

    from consentry.entrypoints.access_log import log as access_log  # the web stack: loaded to serve

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"][access_log.name] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
