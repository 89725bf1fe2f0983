"""`consentry campaign`: define campaigns, send, pause and resume them, see where they stand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from consentry.domain.campaigns import CampaignStatus
from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import definition
from consentry.entrypoints.cli.output import echo_counts, echo_json, err, handled, progress
from consentry.services import campaigns, sending
from consentry.services.errors import InputError
from consentry.services.sending.queue import RANGE_BATCHES, RANGE_S

app = typer.Typer(help="Define campaigns and send them (e-mail, SMS, apps).", no_args_is_help=True)
CampaignKey = Annotated[str, typer.Argument(help="The campaign's key.")]
Concurrency = Annotated[int, typer.Option(help="SMTP connections at once (one event loop drives them all).")]
Rate = Annotated[float | None, typer.Option(help="Messages per second at most (default: no limit).")]
MaxErrors = Annotated[int, typer.Option(help="Errors (4xx and 5xx) after which the campaign pauses.")]
Batch = Annotated[
    int,
    typer.Option(
        help=f"Messages judged again per transaction (claimed ahead: up to {RANGE_BATCHES} batches at once, "
        f"or {RANGE_S:g} s of the --rate)."
    ),
]
MaxAttempts = Annotated[int, typer.Option(help="Attempts before a temporary failure counts as final.")]
RetryAfter = Annotated[float, typer.Option(help="Seconds before the first retry; it doubles each time.")]
NoWait = Annotated[bool, typer.Option("--no-wait", help="Leave retries that are not due yet for later.")]


@app.command("create")
@handled
def campaign_create(
    file: Annotated[Path, typer.Argument(help="The definition: a .json or .toml file.")],
    replace: Annotated[bool, typer.Option("--replace", help="Redefine a draft with the same key.")] = False,
) -> None:
    """Define a campaign as a draft; templates and the sender are checked now."""
    c = campaigns.define(current(), definition(file), replace=replace)
    typer.echo(f"campaign {c.key} saved as a draft: {c.name} ({c.channel.value}, purpose {c.purpose})")


@app.command("list")
@handled
def campaign_list() -> None:
    """Every campaign, newest first, with where its sending stands."""
    found = campaigns.list_all(current())
    if not found:
        typer.echo("no campaigns yet; define one with `consentry campaign create FILE`")
    for p in found:
        c = p.campaign
        typer.echo(f"{c.key:<24} {p.status.value:<8} {c.channel.value:<13} {c.purpose:<16} {_counts(p)}")


@app.command("show")
@handled
def campaign_show(key: CampaignKey) -> None:
    """A campaign's definition (as JSON) and where its sending stands."""
    p = campaigns.progress(current(), key)
    echo_json(p.campaign.to_json(), indent=2)
    _status(p)


@app.command("status")
@handled
def campaign_status(key: CampaignKey) -> None:
    """Where a campaign's sending stands: messages by status, exclusions by rule."""
    _status(campaigns.progress(current(), key))


def _sender(resume: bool) -> Callable[..., None]:
    """The `send` or `resume` command: both take the sending options, `resume` unpauses first."""

    def command(
        key: CampaignKey,
        concurrency: Concurrency = 8,
        rate: Rate = None,
        max_errors: MaxErrors = 100,
        batch: Batch = 200,
        max_attempts: MaxAttempts = 5,
        retry_after: RetryAfter = 60.0,
        no_wait: NoWait = False,
    ) -> None:
        if resume:
            sending.resume(current(), key)
        _send(key, _options(concurrency, rate, max_errors, batch, max_attempts, retry_after, no_wait))

    return handled(command)


app.command(
    "send",
    help="Send a campaign (or go on sending it): each allowed person gets it exactly once.\n\n"
    "Run it again after a crash or on another machine (PostgreSQL): workers share the work.",
)(_sender(resume=False))
app.command("resume", help="Resume a paused campaign (its error count starts again at 0) and send on.")(
    _sender(resume=True)
)


@app.command("pause")
@handled
def campaign_pause(key: CampaignKey) -> None:
    """Pause a campaign: its workers stop after the messages they are sending."""
    a = current()
    sending.pause(a, key, "paused by the operator")
    _status(campaigns.progress(a, key))


def _counts(p: campaigns.Progress) -> str:
    n = p.counts
    return (
        f"{n['sent']} sent, {n['queued']} queued, {n['claimed']} being sent, "
        f"{n['skipped']} skipped, {n['failed']} failed"
    )


def _status(p: campaigns.Progress) -> None:
    typer.echo(f"status: {p.status.value}" + (f" ({p.note})" if p.note else ""))
    typer.echo(f"messages: {p.total}: {_counts(p)}; errors since the last resume: {p.errors}")
    echo_counts("skipped", p.skipped_by_rule.items())


def _options(
    concurrency: int,
    rate: float | None,
    max_errors: int,
    batch: int,
    max_attempts: int,
    retry_after: float,
    no_wait: bool,
) -> sending.SendOptions:
    if rate is not None and rate <= 0:
        raise InputError("--rate", "must be more than 0")
    return sending.SendOptions(
        concurrency=concurrency,
        rate=rate,
        batch=batch,
        max_errors=max_errors,
        max_attempts=max_attempts,
        retry_after=timedelta(seconds=max(retry_after, 0.0)),
        wait_for_retries=not no_wait,
    )


def _send(key: str, options: sending.SendOptions) -> None:
    a = current()
    sending.start(a, key)
    before = campaigns.progress(a, key)
    todo = before.counts["queued"] + before.counts["claimed"]
    with progress("sending", todo, False) as advance:
        try:
            report = sending.send(a, key, options, progress=lambda status, n: advance(n))
        except KeyboardInterrupt:
            err(f"interrupted: `consentry campaign send {key}` goes on where this stopped")
            raise typer.Exit(130) from None
    typer.echo(
        f"{report.sent} sent, {report.skipped} skipped, {report.failed} failed, {report.retried} to retry; "
        f"campaign {key} is {report.status.value}" + (f" ({report.note})" if report.note else "")
    )
    if report.waiting and report.status is CampaignStatus.SENDING:
        typer.echo(f"{report.waiting} messages wait for a retry: run `consentry campaign send {key}` later")
    if report.status is CampaignStatus.PAUSED:
        raise typer.Exit(1)
