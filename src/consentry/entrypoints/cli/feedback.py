"""`consentry feedback`: bounces, spam complaints and unsubscribe mails, recorded in the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import raw
from consentry.entrypoints.cli.output import handled
from consentry.services import feedback, feedback_files, replies

app = typer.Typer(
    help="Record bounces and spam complaints; a hard bounce or a complaint suppresses the address.",
    no_args_is_help=True,
)
FeedbackAddress = Annotated[str, typer.Argument(help="E-mail address, phone number or contact point id.")]
FeedbackCampaign = Annotated[str | None, typer.Option(help="Campaign key of the message it is about.")]
FeedbackMessageId = Annotated[
    str | None,
    typer.Option("--message-id", help="Message-ID of the message; the same feedback twice is recorded once."),
]
FeedbackId = Annotated[str | None, typer.Option("--id", help="Your own key for it; recorded once per key.")]
FeedbackAt = Annotated[
    str | None, typer.Option("--at", help="When it happened (ISO; default now; no zone = Amsterdam).")
]
ReportFile = Annotated[
    str, typer.Argument(help="The raw message (as received, headers and all), or - for stdin.")
]


@app.command("bounce")
@handled
def feedback_bounce(
    address: FeedbackAddress,
    kind: Annotated[
        str | None, typer.Option(help="hard or soft (default from --code: 5.x.x hard, 4.x.x soft).")
    ] = None,
    code: Annotated[str | None, typer.Option(help="SMTP status, e.g. 5.1.1 or 550.")] = None,
    reason: Annotated[str | None, typer.Option(help="The receiving server's diagnostic text.")] = None,
    campaign: FeedbackCampaign = None,
    message_id: FeedbackMessageId = None,
    id_: FeedbackId = None,
    at: FeedbackAt = None,
) -> None:
    """Record a bounce; a hard one (or too many soft ones) suppresses the address."""
    item = feedback.Bounce(address, kind, code, reason, campaign, message_id, id_, at)
    _print_feedback(feedback.record_one(current(), item))


@app.command("complaint")
@handled
def feedback_complaint(
    address: FeedbackAddress,
    feedback_type: Annotated[
        str, typer.Option("--type", help="ARF feedback type: abuse, fraud, virus or other.")
    ] = "abuse",
    source: Annotated[str | None, typer.Option(help="Who reported it (mailbox provider).")] = None,
    campaign: FeedbackCampaign = None,
    message_id: FeedbackMessageId = None,
    id_: FeedbackId = None,
    at: FeedbackAt = None,
) -> None:
    """Record a spam complaint; it suppresses the address."""
    item = feedback.Complaint(address, feedback_type, source, campaign, message_id, id_, at)
    _print_feedback(feedback.record_one(current(), item))


@app.command("import")
@handled
def feedback_import(
    file: Annotated[
        Path, typer.Argument(help="CSV: address,kind,code,reason,message_id (kind hard, soft or complaint).")
    ],
) -> None:
    """Record the bounces and complaints in a CSV file; all or nothing, problems by line."""
    _print_feedback(feedback_files.read_csv(current(), file))


@app.command("dsn")
@handled
def feedback_dsn(file: ReportFile) -> None:
    """Record the bounces of a delivery status notification (RFC 3464) in a raw message."""
    report = feedback_files.read_dsn(current(), raw(file))
    if not report.outcomes:
        typer.echo("nothing to record: the report names no failed or delayed recipient")
    _print_feedback(report)


@app.command("arf")
@handled
def feedback_arf(file: ReportFile) -> None:
    """Record the spam complaint of an abuse report (ARF, RFC 5965) in a raw message."""
    _print_feedback(feedback_files.read_arf(current(), raw(file)))


@app.command("unsubscribe-mail")
@handled
def feedback_unsubscribe_mail(file: ReportFile) -> None:
    """Record the unsubscribe a mail to the List-Unsubscribe mailto: address asks for."""
    done = replies.unsubscribe_by_mail(current(), raw(file))
    what = f"from {done.purpose}" if done.purpose else "from everything"
    typer.echo(f"unsubscribed {done.contact_point} {what} (mail from {done.sender or 'an unknown sender'})")


def _print_feedback(report: feedback.FeedbackReport) -> None:
    for o in report.outcomes:
        typer.echo(f"{'already recorded' if o.duplicate else 'recorded'} {o.event_id} for {o.contact_point}")
    derived = report.recorded - (len(report.outcomes) - report.duplicates)
    if derived:
        typer.echo(f"recorded {derived} hard bounce(s) derived from repeated soft bounces")
    for point in report.suppressed:
        typer.echo(f"{point} is now suppressed (rule OPS-SUPP-01)")
    if len(report.outcomes) > 1:
        typer.echo(f"{report.recorded} recorded, {report.duplicates} already recorded")
    if report.file is not None:
        typer.echo(report.accounting())
