"""`consentry dsr`: data-subject requests, their deadlines, and handling them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from consentry.domain.dsr import DsrRequest
from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.output import echo_json, err, handled
from consentry.entrypoints.dsr_hooks import hooks
from consentry.services import dsr, dsr_handling, dsr_mails
from consentry.services.errors import InputError

app = typer.Typer(
    help="Data-subject requests (GDPR Art. 15-21): open, list by deadline, extend, handle, remind.",
    no_args_is_help=True,
)

Id = Annotated[str, typer.Argument(help="The request's id (dsr_…).")]
By = Annotated[str, typer.Option("--by", help="Who does it: a user of the sender (e-mail or name).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _line(q: DsrRequest) -> str:
    now = current().clock.now()
    left = q.days_left(now)
    when = "closed" if q.closed else (f"{-left} d overdue" if q.overdue(now) else f"{left} d left")
    extended = " (extended)" if q.extended_until else ""
    return (
        f"{q.id}  {q.kind.value:13} {q.state.value:11} due {q.deadline_day.isoformat()}{extended} "
        f"[{when}]  identity {q.identity.value}  {q.contact_point_id}  {q.handler or '-'}"
    )


def _done(q: DsrRequest, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        echo_json({**q.to_json(current().clock.now()), **(extra or {})})
    else:
        typer.echo(_line(q))


@app.command("open")
@handled
def dsr_open(
    contact: Annotated[
        str, typer.Argument(help="Contact point id, e-mail address, phone number or postal:…")
    ],
    kind: Annotated[
        str,
        typer.Option("--kind", help="access, rectification, erasure, restriction, portability or objection."),
    ],
    via: Annotated[
        str, typer.Option("--via", help="How it came in: email, letter, phone, in_person, api.")
    ] = "email",
    note: Annotated[str | None, typer.Option("--note", help="The person's own words, if any.")] = None,
    received: Annotated[
        str | None, typer.Option("--received", help="When it was received (ISO date; default now).")
    ] = None,
    language: Annotated[
        str | None,
        typer.Option("--language", help="nl or en: the person's language (default theirs, else nl)."),
    ] = None,
    already_overdue: Annotated[
        bool, typer.Option("--already-overdue", help="Record a request whose month has already passed.")
    ] = False,
    as_json: Json = False,
) -> None:
    """Record a request a person made by mail, letter, phone or in person; it is due in one month."""
    q = dsr.open_request(
        current(),
        contact,
        kind,
        via=via,
        note=note,
        language=language,
        received_at=received,
        already_overdue=already_overdue,
    )
    _done(q, as_json)


@app.command("list")
@handled
def dsr_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those past their deadline.")] = False,
    due_within: Annotated[
        int | None, typer.Option("--due-within", help="Only those due within this many days (or overdue).")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Closed requests too.")] = False,
    as_json: Json = False,
) -> None:
    """List the open requests by deadline, earliest first."""
    found = dsr.list_requests(current(), overdue=overdue, due_within=due_within, include_closed=everything)
    if as_json:
        now = current().clock.now()
        echo_json([q.to_json(now) for q in found])
        return
    for q in found:
        typer.echo(_line(q))
    if not found:
        err("no requests")


@app.command("show")
@handled
def dsr_show(request_id: Id, as_json: Json = False) -> None:
    """Show a request and the ledger events that record it (with their texts)."""
    v = dsr.show(current(), request_id)
    events = [
        {"id": e.id, "seq": e.seq, "type": e.type, "at": e.recorded_at.isoformat(), **e.payload}
        for e in v.events
    ]
    if as_json:
        echo_json({**v.request.to_json(current().clock.now()), "events": events})
        return
    typer.echo(_line(v.request))
    for e in events:
        detail = ", ".join(f"{k}={val}" for k, val in e.items() if k not in ("id", "seq", "type", "at"))
        typer.echo(f"  {e['at'][:16]}  {e['type']:26} {detail}")


@app.command("verify-identity")
@handled
def dsr_verify(
    request_id: Id,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="signed_link, email_reply, call_back, document_seen, account_login or in_person.",
        ),
    ],
    by: By,
    failed: Annotated[
        bool, typer.Option("--failed", help="The check failed (the person is not who they say).")
    ] = False,
) -> None:
    """Record that the person's identity was checked, and how (GDPR Art. 12(6))."""
    _done(dsr.verify_identity(current(), request_id, method, by, failed), False)


@app.command("start")
@handled
def dsr_start(request_id: Id, by: By) -> None:
    """Take a request on: it is in progress, with you as its handler."""
    _done(dsr.start(current(), request_id, by), False)


@app.command("extend")
@handled
def dsr_extend(
    request_id: Id,
    reason: Annotated[str, typer.Option("--reason", help="Why it takes longer; told to the person.")],
    by: By,
    told_via: Annotated[
        str, typer.Option("--told-via", help="email (mailed now), or letter / phone (you told them).")
    ] = "email",
) -> None:
    """Extend the deadline once by two months, within the first month, telling the person why."""
    _done(dsr.extend(current(), request_id, reason, by, told_via), False)


def _pairs(values: list[str] | None) -> dict[str, str]:
    out = {}
    for v in values or []:
        name, sep, value = v.partition("=")
        if not sep or not name.strip():
            raise InputError("attribute", f"{v!r} is not NAME=VALUE")
        out[name.strip()] = value
    return out


def _report(result: dsr_handling.Handled) -> None:
    typer.echo(_line(result.request))
    if result.exported:
        typer.echo(f"copy: {result.exported}")
    if result.told:
        typer.echo("the person was told by e-mail")
    elif result.problem:
        err(f"warning: {result.problem}")


@app.command("handle")
@handled
def dsr_handle(
    request_id: Id,
    outcome: Annotated[str, typer.Option("--outcome", help="What was done; told to the person.")],
    by: By,
    attribute: Annotated[
        list[str] | None, typer.Option("--attribute", help="Rectification: NAME=VALUE (repeatable).")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Rectification: the corrected name.")
    ] = None,
) -> None:
    """Carry out a request (erase, export, correct, restrict, object), record it done, tell the person."""
    app = current()
    details = {"display_name": display_name} if display_name else None
    result = dsr_handling.handle(
        app, request_id, by, outcome, hooks(app), attributes=_pairs(attribute) or None, details=details
    )
    _report(result)


@app.command("close")
@handled
def dsr_close(
    request_id: Id,
    by: By,
    refused: Annotated[bool, typer.Option("--refused", help="Refuse it (the person is told why).")] = False,
    withdrawn: Annotated[bool, typer.Option("--withdrawn", help="The person withdrew it.")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why; told to the person.")] = None,
) -> None:
    """Close a request without carrying it out: refused, or withdrawn by the person."""
    if refused == withdrawn:
        raise InputError("outcome", "say --refused or --withdrawn")
    _report(dsr_handling.close(current(), request_id, "refused" if refused else "withdrawn", by, reason))


@app.command("tell")
@handled
def dsr_tell(request_id: Id) -> None:
    """Mail the person the outcome again, after the first mail failed."""
    _report(dsr_handling.tell(current(), request_id))


@app.command("lift")
@handled
def dsr_lift(request_id: Id, by: By) -> None:
    """Lift the restriction a handled restriction request put on the person, telling them first."""
    result = dsr_handling.lift_restriction(current(), request_id, by)
    typer.echo(f"lifted on {len(result.events)} contact point(s); the person was told by e-mail")


@app.command("remind")
@handled
def dsr_remind(
    within: Annotated[
        int | None,
        typer.Option("--within", help="Days before the deadline (default CONSENTRY_DSR_REMIND_DAYS)."),
    ] = None,
) -> None:
    """Mail the privacy officer the requests due soon or overdue (each at most once a day); run daily."""
    done = dsr_mails.remind(current(), within)
    typer.echo(f"reminded {done.to} of {len(done.requests)} request(s)")
