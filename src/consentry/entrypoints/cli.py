"""The `consentry` command line: parse, call one service, print."""

from __future__ import annotations

import functools
import json
import os
import sys
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from consentry.adapters.sql.engine import SchemaMissing
from consentry.bootstrap import App, MissingSecret, bootstrap
from consentry.domain.campaigns import CampaignStatus
from consentry.domain.clock import LOCAL_TZ, MomentError, parse_moment
from consentry.domain.vocabulary import ConsentMethod, PartyKind, PointKind, Source
from consentry.entrypoints.render import decision_json, decision_text
from consentry.services import (
    apikeys,
    audience,
    campaigns,
    contacts,
    export,
    feedback,
    forms,
    imports,
    integrity,
    ledger,
    notices,
    purposes,
    registers,
    replies,
    sending,
    setup,
)
from consentry.services import decide as decide_service
from consentry.services import demo as demo_service
from consentry.services.errors import FileRejected, InputError, choice
from consentry.services.imports import mailchimp
from consentry.settings import Settings

app = typer.Typer(
    help="consentry: bewijs elke toestemming, verklaar elk besluit. "
    "Prove every consent, explain every decision.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ledger_app = typer.Typer(help="Append to, verify and rebuild the ledger.", no_args_is_help=True)
purposes_app = typer.Typer(help="Define and list purposes.", no_args_is_help=True)
apikey_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
forms_app = typer.Typer(help="Save and show sign-up forms (collection points).", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
app.add_typer(purposes_app, name="purposes")
app.add_typer(apikey_app, name="apikey")
import_app = typer.Typer(
    help="Import contacts from files, with their provenance and proof.", no_args_is_help=True
)
app.add_typer(forms_app, name="forms")
app.add_typer(import_app, name="import")
contacts_app = typer.Typer(help="Look up contact points and what is owed to them.", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")

F = TypeVar("F", bound=Callable[..., Any])


def _err(message: str) -> None:
    typer.echo(message, err=True)


def handled(fn: F) -> F:
    """Turn the services' input errors into a clear message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FileRejected as exc:
            for p in exc.problems:
                _err(f"error: {p}")
            _err(f"error: {exc}")
            raise typer.Exit(2) from None
        except (InputError, MomentError, SchemaMissing, MissingSecret) as exc:
            _err(f"error: {exc}")
            raise typer.Exit(2) from None
        except UnicodeDecodeError as exc:
            _err(f"error: FILE: not UTF-8 text (byte {exc.start}); save it as UTF-8")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


_state: dict[str, App] = {}


def _app() -> App:
    if "app" not in _state:
        _state["app"] = bootstrap(Settings())
    return _state["app"]


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
    _state.pop("app", None)
    if database_url:
        _state["app"] = bootstrap(Settings(database_url=database_url))


@app.command()
@handled
def init(
    name: Annotated[str | None, typer.Option(help="Controller (sender) name.")] = None,
    sector: Annotated[
        str | None, typer.Option(help="commercial, charity, charity_lottery or publisher.")
    ] = None,
) -> None:
    """Create or upgrade the database (migrations) and store the controller profile."""
    a = _app()
    rev = setup.init(a, name, sector)
    typer.echo(f"database ready at {a.store.engine.url.render_as_string(hide_password=True)} (schema {rev})")


@app.command()
@handled
def demo() -> None:
    """Set up the database and load the demo (a coffee roaster and its contacts)."""
    a = _app()
    report = demo_service.load(a)
    typer.echo(f"demo loaded: {report.registered} contact points, {report.appended} events")
    typer.echo("try:  consentry explain --contact sanne.visser@example.nl --channel email ")
    typer.echo("                          --purpose koffie-aanbiedingen")
    for contact, channel, purpose, kind, at in demo_service.TOUR:
        moment = parse_moment(at) if at else None
        d = decide_service.decide(a, contact, channel, purpose, kind, at=moment)
        when = f" @ {at}" if at else ""
        typer.echo(f"  {d.verdict.value:6} {d.rule:22} {channel:6} {purpose:20} {contact}{when}")


@ledger_app.command("append")
@handled
def ledger_append(
    file: Annotated[str, typer.Argument(help="JSON lines file (one event per line), or - for stdin.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Append documented events (docs/events.md); all or nothing."""
    a = _app()
    with _lines(file) as (lines, total), _progress("appending", total, quiet) as advance:
        report = ledger.append_lines(a, lines, advance)
    typer.echo(
        f"appended {report.appended} events ({report.registered} new contact points)"
        + (f", seq {report.first_seq}-{report.last_seq}" if report.first_seq else "")
    )


@ledger_app.command("verify")
@handled
def ledger_verify(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Recompute the hash chain; report every edited, removed or reordered event."""
    a = _app()
    with _progress("verifying", None, quiet) as advance:
        report = integrity.verify_ledger(a, advance)
    if report.ok:
        typer.echo(f"ledger intact: {report.events} events, head at seq {report.head_seq}")
        return
    for p in report.problems:
        _err(f"seq {p.seq} ({p.event_id}): {p.problem}")
    _err(f"ledger NOT intact: {len(report.problems)} problem(s) in {report.events} events")
    raise typer.Exit(1)


@ledger_app.command("rebuild")
@handled
def ledger_rebuild() -> None:
    """Rebuild every contact point's current state from the ledger."""
    n = integrity.rebuild_projection(_app())
    typer.echo(f"rebuilt the state of {n} contact points from the ledger")


Contact = Annotated[str, typer.Option("--contact", help="Contact point id, e-mail address or phone number.")]
Channel = Annotated[
    str,
    typer.Option("--channel", help="email, sms, messaging_app, phone, automated_call, post, fax"),
]
PurposeOpt = Annotated[str, typer.Option("--purpose", help="Purpose key.")]
Kind = Annotated[str, typer.Option("--kind", help="marketing, service or personal.")]
ActivityOpt = Annotated[str, typer.Option("--activity", help="contact or profiling.")]
At = Annotated[
    str | None,
    typer.Option("--at", help="ISO date or time to judge as of (default now; no zone = Amsterdam)."),
]
Lang = Annotated[str, typer.Option("--lang", help="nl or en.")]


def _decide(
    contact: str, channel: str, purpose: str, kind: str, activity: str, at: str | None, lang: str
) -> Any:
    if lang not in ("nl", "en"):
        raise InputError("lang", "must be nl or en")
    moment = parse_moment(at) if at else None
    return decide_service.decide(_app(), contact, channel, purpose, kind, activity, moment)


@app.command()
@handled
def decide(
    contact: Contact,
    channel: Channel,
    purpose: PurposeOpt,
    kind: Kind = "marketing",
    activity: ActivityOpt = "contact",
    at: At = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    lang: Lang = "nl",
) -> None:
    """May we contact this person, over this channel, for this purpose, now (or --at)?"""
    d = _decide(contact, channel, purpose, kind, activity, at, lang)
    if as_json:
        typer.echo(json.dumps(decision_json(d, lang), ensure_ascii=False))
    else:
        typer.echo(f"{d.verdict.value} ({d.rule}): {d.reasons[0].text(lang)}")


@app.command()
@handled
def explain(
    contact: Contact,
    channel: Channel,
    purpose: PurposeOpt,
    kind: Kind = "marketing",
    activity: ActivityOpt = "contact",
    at: At = None,
    lang: Lang = "nl",
) -> None:
    """The same question as `decide`, answered in full: rules, citations, obligations."""
    d = _decide(contact, channel, purpose, kind, activity, at, lang)
    typer.echo(decision_text(d, lang))


@purposes_app.command("add")
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
    p = purposes.define(_app(), key, name_nl, name_en, kind, category or (), third_party, replace)
    typer.echo(
        f"purpose {p.key} defined ({p.kind.value}; categories: {', '.join(sorted(p.categories)) or '-'})"
    )


@purposes_app.command("list")
@handled
def purposes_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the defined purposes."""
    items = purposes.list_all(_app())
    if as_json:
        typer.echo(json.dumps([p.to_json() for p in items], ensure_ascii=False))
        return
    for p in items:
        extra = " (third party)" if p.third_party else ""
        typer.echo(f"{p.key:24} {p.name_nl} / {p.name_en}{extra}  [{', '.join(sorted(p.categories))}]")


@app.command()
@handled
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (use 1 with SQLite writes heavy).")] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the public pages."""
    import uvicorn

    a = _app()
    a.signer()  # fail now, not in a worker, when production has no secret key
    with a.store.reader():
        pass  # and when the database was never initialised
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
    )


@apikey_app.command("create")
@handled
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key, e.g. webshop.")],
    scope: Annotated[list[str], typer.Option("--scope", help="read, write or admin (repeat).")],
) -> None:
    """Create an API key; its token is printed once and stored only as a hash."""
    key, token = apikeys.create(_app(), name, scope)
    typer.echo(f"created {key.id} ({', '.join(key.scopes)}) for {key.name}")
    typer.echo(token)


@apikey_app.command("list")
@handled
def apikey_list() -> None:
    """List API keys (never their secrets)."""
    for k in apikeys.list_all(_app()):
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        typer.echo(f"{k.id}  {k.name:24} {','.join(k.scopes):18} {state}")


@apikey_app.command("revoke")
@handled
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (k...).")]) -> None:
    """Revoke an API key at once."""
    apikeys.revoke(_app(), key_id)
    typer.echo(f"revoked {key_id}")


@forms_app.command("save")
@handled
def forms_save(
    file: Annotated[Path, typer.Argument(help="JSON file with the form definition.")],
) -> None:
    """Save a form definition; a changed form becomes a new version, the old one is kept."""
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError("FILE", f"cannot read {file} as JSON: {exc}") from None
    form = forms.save(_app(), doc)
    typer.echo(f"form {form.key} is at version {form.version}: {_app().settings.base_url}/f/{form.key}")


@forms_app.command("list")
@handled
def forms_list() -> None:
    """List forms with their current version."""
    for f in forms.list_all(_app()):
        typer.echo(f"{f.key:24} v{f.version}  {f.title_nl} / {f.title_en}  ({len(f.items)} purposes)")


@forms_app.command("embed")
@handled
def forms_embed(key: Annotated[str, typer.Argument(help="Form key.")]) -> None:
    """Print the HTML snippet that embeds the hosted form in a website."""
    a = _app()
    typer.echo(forms.embed_snippet(a, forms.get(a, key)))


DryRun = Annotated[bool, typer.Option("--dry-run", help="Report what would happen; write nothing.")]
Strict = Annotated[bool, typer.Option("--strict", help="Write nothing if any row has a problem.")]
Encoding = Annotated[str | None, typer.Option(help="File encoding (default: detected, UTF-8 or cp1252).")]
Delimiter = Annotated[str | None, typer.Option(help="Column delimiter (default: detected).")]


@import_app.command("csv")
@handled
def import_csv(
    file: Annotated[Path, typer.Argument(help="The CSV file.")],
    source: Annotated[str, typer.Option(help="Where the whole batch came from (web_form, purchase, ...).")],
    basis: Annotated[str, typer.Option(help="Legal basis stated: consent, legitimate_interest, contract.")],
    map_: Annotated[
        list[str],
        typer.Option(
            "--map",
            help="field=Column: email, phone, postal, name, party, country, "
            "consent_at, consent_ip, tags (repeat).",
        ),
    ],
    purpose: Annotated[
        str | None, typer.Option(help="Purpose the consents are for (with --basis consent).")
    ] = None,
    method: Annotated[str, typer.Option(help="How the consents were collected (default import).")] = "import",
    party: Annotated[str | None, typer.Option(help="Party kind of every row, unless a column says.")] = None,
    source_detail: Annotated[str | None, typer.Option(help="Which fair, which list seller ...")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Tag every imported contact (repeat).")
    ] = None,
    dry_run: DryRun = False,
    strict: Strict = False,
    encoding: Encoding = None,
    delimiter: Delimiter = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Import contacts from a CSV; re-importing the same file adds nothing."""
    a = _app()
    spec = imports.CsvSpec(
        source=choice(Source, "source", source),
        basis=basis,
        columns=imports.parse_map(map_),
        purpose=purpose,
        consent_method=choice(ConsentMethod, "method", method),
        party=choice(PartyKind, "party", party) if party else None,
        source_detail=source_detail,
        tags=tuple(tag or ()),
    )
    mapper = imports.CsvMapper(a, spec)
    with _progress("importing", None, as_json) as advance:
        report = imports.run(
            a,
            file,
            mapper,
            dry_run=dry_run,
            strict=strict,
            encoding=encoding,
            delimiter=delimiter,
            progress=advance,
        )
    _print_import(report, as_json)
    if report.rejected and strict:
        raise typer.Exit(1)


@import_app.command("mailchimp")
@handled
def import_mailchimp(
    file: Annotated[Path, typer.Argument(help="The audience export: the ZIP, or one of its CSV files.")],
    purpose: Annotated[str, typer.Option(help="The purpose this audience's consents are for.")],
    audience: Annotated[str | None, typer.Option(help="The audience's name, kept as provenance.")] = None,
    status: Annotated[
        str | None, typer.Option(help="subscribed, unsubscribed or cleaned (default: from the file name).")
    ] = None,
    dry_run: DryRun = False,
    strict: Strict = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON lines.")] = False,
) -> None:
    """Import a Mailchimp audience export with its opt-in evidence, unsubscribes and cleaned addresses."""
    a = _app()
    with _progress("importing", None, as_json) as advance:
        result = mailchimp.run(
            a,
            file,
            purpose,
            audience=audience,
            status=status,
            dry_run=dry_run,
            strict=strict,
            progress=advance,
        )
    failed = False
    for name, file_status, report in result.files:
        if not as_json:
            typer.echo(f"== {name} ({file_status})")
        _print_import(report, as_json)
        failed = failed or bool(report.rejected and strict)
    if failed:
        raise typer.Exit(1)


@import_app.command("register")
@handled
def import_register(
    file: Annotated[Path, typer.Argument(help="One entry per line, or a CSV with --column.")],
    register: Annotated[
        str, typer.Option(help="Register key: bel-me-niet, postfilter, bel-me-niet-meer, tps ...")
    ],
    name: Annotated[str | None, typer.Option(help="Display name (known registers have one).")] = None,
    kind: Annotated[str | None, typer.Option(help="What it lists: phone, email or postal.")] = None,
    hashed: Annotated[
        bool, typer.Option("--hashed", help="Entries are SHA-256 of the normalised value.")
    ] = False,
    column: Annotated[str | None, typer.Option(help="The CSV column holding the entries.")] = None,
    valid_from: Annotated[str | None, typer.Option("--from", help="First day the register applies.")] = None,
    valid_until: Annotated[str | None, typer.Option("--until", help="Last day the register applies.")] = None,
) -> None:
    """Import a do-not-contact register file; decisions consult it on the decision's date."""
    report = registers.import_file(
        _app(),
        file,
        register,
        name=name,
        kind=choice(PointKind, "kind", kind) if kind else None,
        hashed=hashed,
        column=column,
        valid_from=_day(valid_from, "from"),
        valid_until=_day(valid_until, "until"),
    )
    for p in report.rejected:
        _err(f"rejected: line {p.line}: {p.field}: {p.message}")
    typer.echo(
        f"register {report.register}: {report.entries} entries read, {report.new} new"
        + (f", {len(report.rejected)} rejected" if report.rejected else "")
    )


@app.command("registers")
@handled
def registers_list() -> None:
    """List the do-not-contact registers with their period and size."""
    for reg in registers.list_all(_app()):
        period = f"{reg['valid_from'] or '…'} – {reg['valid_until'] or '…'}"
        hashed = " (hashed)" if reg["hashed"] else ""
        typer.echo(
            f"{reg['key']:20} {reg['name']:36} {reg['kind']:7} {period:25} {reg['entries']} entries{hashed}"
        )


@contacts_app.command("show")
@handled
def contacts_show(
    contact: Annotated[
        str, typer.Argument(help="Contact point id, e-mail address, phone number or postal:…")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print state and timeline as JSON.")] = False,
) -> None:
    """Show a contact point's current state and its ledger timeline."""
    v = contacts.view(_app(), contact)
    if as_json:
        timeline = [
            {"seq": e.seq, "id": e.id, "type": e.type, "occurred_at": e.occurred_at.isoformat(), **e.payload}
            for e in v.events
        ]
        typer.echo(json.dumps({"id": v.id, "state": v.state, "events": timeline}, ensure_ascii=False))
        return
    s = v.state
    typer.echo(f"{v.id}  {v.kind.value}  {s.get('value', '')!s}".replace("\n", ", "))
    typer.echo(f"party {s.get('party')}, source {s.get('source')}, {len(v.events)} events")
    if s.get("art14_notice_due"):
        typer.echo(f"Art. 14 notice owed: due {s['art14_notice_due'][:10]} (or at the first contact)")
    for e in v.events:
        detail = ", ".join(f"{k}={val}" for k, val in e.payload.items() if k not in ("kind", "value"))
        typer.echo(f"  {e.occurred_at:%Y-%m-%d %H:%M}  {e.type:28} {detail[:90]}")


@app.command("notices")
@handled
def notices_due(
    before: Annotated[str | None, typer.Option(help="Only those due on or before this date.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
    """List the Art. 14 notices owed to people whose data did not come from themselves."""
    until = parse_moment(before) if before else None
    items = notices.due(_app(), until)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "contact_point": n.contact_point,
                        "value": n.value,
                        "source": n.source,
                        "due": n.due.isoformat(),
                    }
                    for n in items
                ],
                ensure_ascii=False,
            )
        )
        return
    for n in items:
        typer.echo(f"{n.due:%Y-%m-%d}  {n.contact_point}  {n.source:32} {n.value.splitlines()[0]}")
    typer.echo(f"{len(items)} notice(s) owed")


TagOpt = Annotated[str | None, typer.Option("--tag", help="Only contact points with this tag.")]
AttributeOpt = Annotated[
    str | None, typer.Option("--attribute", help="Only contact points whose attribute NAME=VALUE.")
]
SubscribersOpt = Annotated[
    str | None,
    typer.Option("--subscribers-of", help="Only contact points that consented to this purpose."),
]
SourceDetailOpt = Annotated[
    str | None,
    typer.Option("--source-detail", help="Only contact points registered with this source detail (a list)."),
]
LaterAt = Annotated[
    str | None,
    typer.Option("--at", help="Judge for this moment, now or later (e.g. a planned send day)."),
]


@app.command("export")
@handled
def export_reachable(
    channel: Channel,
    purpose: PurposeOpt,
    kind: Kind = "marketing",
    at: LaterAt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="CSV file (default: stdout).")] = None,
    no_links: Annotated[bool, typer.Option("--no-links", help="Leave out the personal links.")] = False,
    tag: TagOpt = None,
    attribute: AttributeOpt = None,
    subscribers_of: SubscribersOpt = None,
    source_detail: SourceDetailOpt = None,
) -> None:
    """Export as CSV who a message, call or letter may reach: a mail, call or postal list.

    Each row carries the rule that allows it and the obligations (a call list: offer
    the right to object in each call); everyone else is counted by the rule that
    excludes them.
    """
    a = _app()
    moment = parse_moment(at) if at else None
    sel = audience.parse_selection(tag, attribute, subscribers_of, source_detail)
    if output is None:
        report = export.reachable(
            a, sys.stdout, channel, purpose, kind, moment, links=not no_links, selection=sel
        )
    else:
        with output.open("w", encoding="utf-8", newline="") as fh, _progress("writing", None, False) as adv:
            report = export.reachable(a, fh, channel, purpose, kind, moment, not no_links, adv, sel)
    _err(f"{report.included} of {report.considered} may be reached")
    for rule, n in report.excluded.most_common():
        _err(f"  excluded {n:>7}  {rule}")
    for rule, n in report.review.most_common():
        _err(f"  review   {n:>7}  {rule} (not exported: a person must judge these)")


@app.command("audience")
@handled
def audience_report(
    campaign: Annotated[
        str | None, typer.Argument(help="A campaign's key; or ask with --channel and --purpose.")
    ] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="email, sms, phone, post ...")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Purpose key.")] = None,
    kind: Kind = "marketing",
    tag: TagOpt = None,
    attribute: AttributeOpt = None,
    subscribers_of: SubscribersOpt = None,
    source_detail: SourceDetailOpt = None,
    at: LaterAt = None,
    rule: Annotated[
        str | None, typer.Option("--rule", help="List the contact points this rule decided.")
    ] = None,
    verdict: Annotated[
        str | None, typer.Option("--verdict", help="List the contact points with this verdict.")
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the (listed) contact points to this CSV file.")
    ] = None,
    lang: Lang = "nl",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Who a campaign (or a question) may reach, and why each of the rest may not, counted by rule."""
    a = _app()
    if campaign is not None:
        if channel or purpose or tag or attribute or subscribers_of or source_detail:
            raise InputError(
                "campaign", "give a campaign, or --channel and --purpose with a selection; not both"
            )
        target, sel = audience.of_campaign(a, campaign)
    else:
        if not channel or not purpose:
            raise InputError("campaign", "give a campaign's key, or --channel and --purpose")
        target = audience.Target.of(channel, purpose, kind)
        sel = audience.parse_selection(tag, attribute, subscribers_of, source_detail)
    moment = parse_moment(at) if at else None
    if csv_file is not None or rule is not None or verdict is not None:
        rows = audience.members(a, target, sel, moment, rule=rule, verdict=verdict)
        if csv_file is None:
            for m in rows:
                typer.echo(f"{m.contact_point_id}  {m.verdict.value:6}  {m.rule.id:24} {m.value}")
            return
        with csv_file.open("w", encoding="utf-8", newline="") as fh:
            n = audience.write_csv(fh, rows, lang)
        _err(f"wrote {n} contact point(s) to {csv_file}")
        return
    rep = audience.report(a, target, sel, moment)
    if as_json:
        typer.echo(json.dumps(audience.report_json(rep, lang), ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"{rep.target.channel.value} for {rep.target.purpose} ({rep.target.kind.value}), "
        f"as of {rep.at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}; considered: {rep.selection.describe()}"
    )
    typer.echo(f"{rep.considered:>10,}  considered")
    for title, counts in (("may be reached", rep.included), ("excluded", rep.excluded)):
        typer.echo(f"{sum(c.count for c in counts):>10,}  {title}")
        for c in counts:
            typer.echo(f"{c.count:>14,}  {c.rule.en if lang == 'en' else c.rule.nl} — {c.rule.id}")
    if rep.review:
        typer.echo(f"{rep.review_count:>10,}  to review (a person must judge these; never sent)")
        for c in rep.review:
            typer.echo(f"{c.count:>14,}  {c.rule.en if lang == 'en' else c.rule.nl} — {c.rule.id}")
    rate = f" ({rep.considered / rep.seconds:,.0f} decisions/s)" if rep.seconds and rep.considered else ""
    _err(f"judged in {rep.seconds:.2f} s{rate}")


feedback_app = typer.Typer(
    help="Record bounces and spam complaints; a hard bounce or a complaint suppresses the address.",
    no_args_is_help=True,
)
app.add_typer(feedback_app, name="feedback")
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


@feedback_app.command("bounce")
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
    _print_feedback(feedback.record_one(_app(), item))


@feedback_app.command("complaint")
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
    _print_feedback(feedback.record_one(_app(), item))


@feedback_app.command("import")
@handled
def feedback_import(
    file: Annotated[
        Path, typer.Argument(help="CSV: address,kind,code,reason,message_id (kind hard, soft or complaint).")
    ],
) -> None:
    """Record the bounces and complaints in a CSV file; all or nothing, problems by line."""
    _print_feedback(feedback.read_csv(_app(), file))


ReportFile = Annotated[
    str, typer.Argument(help="The raw message (as received, headers and all), or - for stdin.")
]


@feedback_app.command("dsn")
@handled
def feedback_dsn(file: ReportFile) -> None:
    """Record the bounces of a delivery status notification (RFC 3464) in a raw message."""
    report = feedback.read_dsn(_app(), _raw(file))
    if not report.outcomes:
        typer.echo("nothing to record: the report names no failed or delayed recipient")
    _print_feedback(report)


@feedback_app.command("arf")
@handled
def feedback_arf(file: ReportFile) -> None:
    """Record the spam complaint of an abuse report (ARF, RFC 5965) in a raw message."""
    _print_feedback(feedback.read_arf(_app(), _raw(file)))


@feedback_app.command("unsubscribe-mail")
@handled
def feedback_unsubscribe_mail(file: ReportFile) -> None:
    """Record the unsubscribe a mail to the List-Unsubscribe mailto: address asks for."""
    done = replies.unsubscribe_by_mail(_app(), _raw(file))
    what = f"from {done.purpose}" if done.purpose else "from everything"
    typer.echo(f"unsubscribed {done.contact_point} {what} (mail from {done.sender or 'an unknown sender'})")


def _raw(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(file).read_bytes()
    except OSError as exc:
        raise InputError("FILE", f"cannot read {file}: {exc.strerror}") from None


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


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(field, f"{value!r} is not a date like 2021-06-30") from None


def _print_import(r: imports.ImportReport, as_json: bool) -> None:
    if as_json:
        doc = {
            "encoding": r.format.encoding if r.format else None,
            "delimiter": r.format.delimiter if r.format else None,
            "rows": r.rows,
            "accepted": r.accepted,
            "rejected": [{"line": p.line, "field": p.field, "message": p.message} for p in r.rejected],
            "notes": [{"line": p.line, "field": p.field, "message": p.message} for p in r.notes],
            "file_notes": r.file_notes,
            "new_contact_points": r.new_points,
            "existing_contact_points": r.existing_points,
            "events": r.events,
            "already_imported": r.already_imported,
            "suggested_party": r.suggestions,
            "dry_run": r.dry_run,
            "committed": r.committed,
        }
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    fmt = r.format
    if fmt:
        delim = {"\t": "tab"}.get(repr(fmt.delimiter)[1:-1], fmt.delimiter)
        typer.echo(f"file: {fmt.encoding}, delimiter {delim!r}, columns: {', '.join(fmt.header)}")
    for note in r.file_notes:
        typer.echo(f"note: {note}")
    for p in r.notes:
        typer.echo(f"note: line {p.line}: {p.field}: {p.message}")
    for p in r.rejected:
        _err(f"rejected: line {p.line}: {p.field}: {p.message}")
    verb = "would import" if r.dry_run else ("imported" if r.committed else "imported nothing of")
    typer.echo(
        f"{verb} {r.accepted} of {r.rows} rows: {r.new_points} new contact points, "
        f"{r.existing_points} already known, {r.events} events, {r.already_imported} already imported"
        + (f"; {len({p.line for p in r.rejected})} rows rejected" if r.rejected else "")
    )
    if r.suggestions:
        hints = ", ".join(f"{k} {v}" for k, v in sorted(r.suggestions.items()))
        typer.echo(f"suggested party kinds (stated kinds win): {hints}")
    if r.rejected and not r.committed and not r.dry_run:
        _err("strict: nothing was written")


@contextmanager
def _lines(file: str) -> Iterator[tuple[Any, int | None]]:
    if file == "-":
        yield sys.stdin, None
        return
    path = Path(file)
    if not path.is_file():
        raise InputError("FILE", f"{file} does not exist or is not a file")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        total = sum(1 for _ in fh)
    with path.open(encoding="utf-8-sig") as fh:
        yield fh, total


@contextmanager
def _progress(label: str, total: int | None, quiet: bool) -> Iterator[Callable[[int], None]]:
    if quiet or not sys.stderr.isatty():
        yield lambda _n: None
        return
    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


# -- campaigns ---------------------------------------------------------------------------------

campaign_app = typer.Typer(help="Define campaigns and send them (e-mail, SMS, apps).", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")
CampaignKey = Annotated[str, typer.Argument(help="The campaign's key.")]


def _definition(file: Path) -> Any:
    if not file.is_file():
        raise InputError("FILE", f"{file} does not exist or is not a file")
    text = file.read_text(encoding="utf-8-sig")
    try:
        if file.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            "FILE", f"{file} is not valid {file.suffix.lstrip('.').upper() or 'JSON'}: {exc}"
        ) from None


@campaign_app.command("create")
@handled
def campaign_create(
    file: Annotated[Path, typer.Argument(help="The definition: a .json or .toml file.")],
    replace: Annotated[bool, typer.Option("--replace", help="Redefine a draft with the same key.")] = False,
) -> None:
    """Define a campaign as a draft; templates and the sender are checked now."""
    c = campaigns.define(_app(), _definition(file), replace=replace)
    typer.echo(f"campaign {c.key} saved as a draft: {c.name} ({c.channel.value}, purpose {c.purpose})")


def _counts(p: campaigns.Progress) -> str:
    n = p.counts
    return (
        f"{n['sent']} sent, {n['queued']} queued, {n['claimed']} being sent, "
        f"{n['skipped']} skipped, {n['failed']} failed"
    )


@campaign_app.command("list")
@handled
def campaign_list() -> None:
    """Every campaign, newest first, with where its sending stands."""
    found = campaigns.list_all(_app())
    if not found:
        typer.echo("no campaigns yet; define one with `consentry campaign create FILE`")
    for p in found:
        c = p.campaign
        typer.echo(f"{c.key:<24} {p.status.value:<8} {c.channel.value:<13} {c.purpose:<16} {_counts(p)}")


def _status(p: campaigns.Progress) -> None:
    typer.echo(f"status: {p.status.value}" + (f" ({p.note})" if p.note else ""))
    typer.echo(f"messages: {p.total}: {_counts(p)}; errors since the last resume: {p.errors}")
    for rule, n in p.skipped_by_rule.items():
        typer.echo(f"  skipped {n:>7}  {rule}")


@campaign_app.command("show")
@handled
def campaign_show(key: CampaignKey) -> None:
    """A campaign's definition (as JSON) and where its sending stands."""
    p = campaigns.progress(_app(), key)
    typer.echo(json.dumps(p.campaign.to_json(), ensure_ascii=False, indent=2))
    _status(p)


@campaign_app.command("status")
@handled
def campaign_status(key: CampaignKey) -> None:
    """Where a campaign's sending stands: messages by status, exclusions by rule."""
    _status(campaigns.progress(_app(), key))


Concurrency = Annotated[int, typer.Option(help="SMTP connections at once (one event loop drives them all).")]
Rate = Annotated[float | None, typer.Option(help="Messages per second at most (default: no limit).")]
MaxErrors = Annotated[int, typer.Option(help="Errors (4xx and 5xx) after which the campaign pauses.")]
Batch = Annotated[int, typer.Option(help="Messages claimed (and judged again) per transaction.")]
MaxAttempts = Annotated[int, typer.Option(help="Attempts before a temporary failure counts as final.")]
RetryAfter = Annotated[float, typer.Option(help="Seconds before the first retry; it doubles each time.")]
NoWait = Annotated[bool, typer.Option("--no-wait", help="Leave retries that are not due yet for later.")]


def _send(key: str, options: sending.SendOptions) -> None:
    a = _app()
    sending.start(a, key)
    before = campaigns.progress(a, key)
    todo = before.counts["queued"] + before.counts["claimed"]
    with _progress("sending", todo, False) as advance:
        try:
            report = sending.send(a, key, options, progress=lambda status, n: advance(n))
        except KeyboardInterrupt:
            _err(f"interrupted: `consentry campaign send {key}` goes on where this stopped")
            raise typer.Exit(130) from None
    typer.echo(
        f"{report.sent} sent, {report.skipped} skipped, {report.failed} failed, {report.retried} to retry; "
        f"campaign {key} is {report.status.value}" + (f" ({report.note})" if report.note else "")
    )
    if report.waiting and report.status is CampaignStatus.SENDING:
        typer.echo(f"{report.waiting} messages wait for a retry: run `consentry campaign send {key}` later")
    if report.status is CampaignStatus.PAUSED:
        raise typer.Exit(1)


@campaign_app.command("send")
@handled
def campaign_send(
    key: CampaignKey,
    concurrency: Concurrency = 8,
    rate: Rate = None,
    max_errors: MaxErrors = 100,
    batch: Batch = 200,
    max_attempts: MaxAttempts = 5,
    retry_after: RetryAfter = 60.0,
    no_wait: NoWait = False,
) -> None:
    """Send a campaign (or go on sending it): each allowed person gets it exactly once.

    Run it again after a crash or on another machine (PostgreSQL): workers share the work.
    """
    _send(key, _options(concurrency, rate, max_errors, batch, max_attempts, retry_after, no_wait))


@campaign_app.command("resume")
@handled
def campaign_resume(
    key: CampaignKey,
    concurrency: Concurrency = 8,
    rate: Rate = None,
    max_errors: MaxErrors = 100,
    batch: Batch = 200,
    max_attempts: MaxAttempts = 5,
    retry_after: RetryAfter = 60.0,
    no_wait: NoWait = False,
) -> None:
    """Resume a paused campaign (its error count starts again at 0) and send on."""
    sending.resume(_app(), key)
    _send(key, _options(concurrency, rate, max_errors, batch, max_attempts, retry_after, no_wait))


@campaign_app.command("pause")
@handled
def campaign_pause(key: CampaignKey) -> None:
    """Pause a campaign: its workers stop after the messages they are sending."""
    sending.pause(_app(), key, "paused by the operator")
    _status(campaigns.progress(_app(), key))


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


def main() -> None:
    """Entry point of the `consentry` command."""
    app()
