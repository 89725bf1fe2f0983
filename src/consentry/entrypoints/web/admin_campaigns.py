"""Doelgroepen en campagnes: define a campaign, read who it may reach and why not, preview, test, send.

The pages: the list (with the call and postal lists to download); a new campaign's form;
a campaign's page with its exclusion report per rule (or, once started, its progress and
outcome: sent, skipped by rule, failed, unsubscribed since), each rule's contact points
paged, and CSV downloads; the preview as a recipient gets it; a test to the logged-in
user's own address; the send, in the background, with its progress shown. Every
download, test and send is written to the audit log. Marketeers and beheerders only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from consentry.adapters import spreadsheet
from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.campaigns import SEND_CHANNELS, CampaignStatus
from consentry.domain.users import AuditAction, User
from consentry.domain.vocabulary import Channel, MessageKind
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.web import admin_nav, admin_views, views
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.web.admin_jobs import Job, jobs
from consentry.entrypoints.wired import AppDep
from consentry.services import audience, campaign_preview, campaigns, export, purposes, sending, users
from consentry.services.errors import InputError, MailError

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
Marketer = Annotated[User, Depends(admin_nav.opens("campaigns"))]
Token = Annotated[str | None, Form(alias="csrf", max_length=2000)]
Short = Annotated[str, Form(max_length=limits.LABEL)]
BASE = "/admin/campaigns"
#: Contact points on one page of a rule's drill-down.
PAGE = 50
#: The form's fields, in the order a definition names them (InputError's field is one of these).
TEXTS = ("key", "name", "purpose", "channel", "kind", "selection.tag")
SENDER = ("name", "legal_name", "address", "kvk", "email", "reply_to")
CONTENT = ("nl.subject", "nl.body", "en.subject", "en.body")


@router.get(BASE, response_class=HTMLResponse)
def campaign_list(request: Request, app: AppDep, user: Marketer) -> HTMLResponse:
    """Every campaign, newest first, and the call and postal lists."""
    return _page(
        request, app, user, "admin_campaigns.html", found=campaigns.list_all(app),
        purposes=purposes.list_all(app), channels=[c.value for c in Channel],
    )  # fmt: skip


@router.get(BASE + "/_new", response_class=HTMLResponse)
def new_page(request: Request, app: AppDep, user: Marketer) -> HTMLResponse:
    """A new campaign's form."""
    values = {"channel": "email", "kind": "marketing", "sender.email": app.settings.mail_from}
    return _form(request, app, user, values)


@router.post(BASE + "/_new", response_class=HTMLResponse)
async def create(request: Request, app: AppDep, user: Marketer) -> Response:
    """Store the campaign as a draft; the form again, saying what is wrong, otherwise."""
    form = await request.form()
    values = {k: str(v)[: limits.BODY] for k, v in form.items() if isinstance(v, str)}
    admin_views.check(app, request, user, values.get("csrf"))
    try:
        c = campaigns.define(app, _definition(values), actor=user.email)
    except InputError as exc:
        return _form(request, app, user, values, exc, status=422)
    return admin_views.done(request, f"{BASE}/{c.key}", "saved")


@router.post(BASE + "/_lists.csv")
def list_csv(
    request: Request,
    app: AppDep,
    user: Marketer,
    channel: Short = "",
    purpose: Short = "",
    kind: Short = "marketing",
    token: Token = None,
) -> Response:
    """A call list, postal list or mailing list: who may be reached, with rule and obligations."""
    admin_views.check(app, request, user, token)
    with _temp() as (out, path):
        found = export.reachable(app, out, channel, purpose, kind)
    users.record(accounts(app), user, AuditAction.LIST_EXPORTED, f"{channel}:{purpose}", rows=found.included)
    return _download(path, f"{channel}-{purpose}.csv")


@router.get(BASE + "/{key}", response_class=HTMLResponse)
def campaign_page(request: Request, app: AppDep, user: Marketer, key: str) -> HTMLResponse:
    """The campaign: its definition, who it may reach and why not (or how its send went).

    A draft's exclusion report judges the whole audience (seconds at a million contact
    points), so it is made in the background once and shown from then on, with when it
    was made; the page asks for it again on request.
    """
    p = campaigns.progress(app, key)
    job = jobs(request).get(f"campaign:{key}")
    # A send just begun fills the queue in its own thread: the campaign may still be a draft.
    starting = job is not None and job.running
    judged = _report(request, app, user, p) if p.status is CampaignStatus.DRAFT and not starting else None
    # One look at the report's job: it may finish while the page is written.
    state = judged.state if judged is not None else ""
    return _page(
        request, app, user, "admin_campaign.html", p=p, job=job, judged=judged, judging=state == "running",
        report=judged.result if judged is not None and state == "done" else None,
        running=_running(p, job) or state == "running",
        progress_url=admin_views.link(request, f"{BASE}/{key}/progress"), base=f"{BASE}/{key}",
    )  # fmt: skip


@router.post(BASE + "/{key}/report")
def report_again(request: Request, app: AppDep, user: Marketer, key: str, token: Token = None) -> Response:
    """Judge the audience again (the ledger changed since the report was made)."""
    admin_views.check(app, request, user, token)
    _report(request, app, user, campaigns.progress(app, key), again=True)
    return RedirectResponse(admin_views.link(request, f"{BASE}/{key}"), status_code=303)


def _report(request: Request, app: App, user: User, p: campaigns.Progress, again: bool = False) -> Job:
    c = p.campaign
    key = f"report:{c.key}"
    found = jobs(request).get(key)
    if found is not None and not again:
        return found
    target = audience.Target(c.channel, c.purpose, c.kind)
    return jobs(request).start(key, user.id, "report", lambda job: audience.report(app, target, c.selection))


@router.get(BASE + "/{key}/rules/{rule}", response_class=HTMLResponse)
def rule_page(
    request: Request, app: AppDep, user: Marketer, key: str, rule: str, after: str = ""
) -> HTMLResponse:
    """The contact points one rule decided, a page at a time."""
    target, selection = audience.of_campaign(app, key)
    found = list(audience.members(app, target, selection, rule=rule, after=after or None, limit=PAGE + 1))
    more = found[PAGE - 1].contact_point_id if len(found) > PAGE else None
    rule_of = found[0].rule if found else None
    return _page(
        request, app, user, "admin_campaign_rule.html", key=key, rule=rule, rule_of=rule_of,
        members=found[:PAGE], next_after=more, base=f"{BASE}/{key}",
    )  # fmt: skip


@router.post(BASE + "/{key}/audience.csv")
def audience_csv(
    request: Request, app: AppDep, user: Marketer, key: str, rule: Short = "", token: Token = None
) -> Response:
    """The campaign's judged contact points (all, or one rule's) as CSV."""
    admin_views.check(app, request, user, token)
    target, selection = audience.of_campaign(app, key)
    rows = audience.members(app, target, selection, rule=rule or None)
    with _temp() as (out, path):
        n = audience.write_csv(out, rows, views.page_lang(request))
    users.record(accounts(app), user, AuditAction.LIST_EXPORTED, key, rule=rule or None, rows=n)
    return _download(path, f"{key}{'-' + rule if rule else ''}.csv")


@router.get(BASE + "/{key}/preview", response_class=HTMLResponse)
def preview_page(
    request: Request, app: AppDep, user: Marketer, key: str, message_lang: str = ""
) -> HTMLResponse:
    """The message as its first recipient gets it, in Dutch or in English."""
    lang = message_lang if message_lang in ("nl", "en") else None
    shown = campaign_preview.preview(app, key, lang)
    return _page(request, app, user, "admin_campaign_preview.html", shown=shown, base=f"{BASE}/{key}")


@router.post(BASE + "/{key}/test")
def send_test(request: Request, app: AppDep, user: Marketer, key: str, token: Token = None) -> Response:
    """Send the preview's message to the logged-in user's own address."""
    admin_views.check(app, request, user, token)
    try:
        campaign_preview.send_test(app, key, user.email)
    except MailError:
        return admin_views.done(request, f"{BASE}/{key}", "test-failed")
    users.record(accounts(app), user, AuditAction.TEST_SENT, key, to=user.email)
    return admin_views.done(request, f"{BASE}/{key}", "test-sent")


@router.post(BASE + "/{key}/send")
def send(request: Request, app: AppDep, user: Marketer, key: str, token: Token = None) -> Response:
    """Send the campaign in the background; its page shows the progress."""
    admin_views.check(app, request, user, token)
    c = campaigns.get(app, key)
    if c.channel not in SEND_CHANNELS:
        raise InputError("channel", f"{c.channel.value} is not sent by consentry")

    def work(job: Job) -> sending.SendReport:
        return sending.send(app, key, progress=lambda status, n: job.advance(n))

    users.record(accounts(app), user, AuditAction.CAMPAIGN_SENT, key)
    jobs(request).start(f"campaign:{key}", user.id, "send", work)
    return RedirectResponse(admin_views.link(request, f"{BASE}/{key}"), status_code=303)


@router.post(BASE + "/{key}/pause")
def pause(request: Request, app: AppDep, user: Marketer, key: str, token: Token = None) -> Response:
    """Pause the send: the worker stops after the messages it is sending."""
    admin_views.check(app, request, user, token)
    sending.pause(app, key, f"paused by {user.email}")
    users.record(accounts(app), user, AuditAction.CAMPAIGN_PAUSED, key)
    return RedirectResponse(admin_views.link(request, f"{BASE}/{key}"), status_code=303)


@router.post(BASE + "/{key}/resume")
def resume(request: Request, app: AppDep, user: Marketer, key: str, token: Token = None) -> Response:
    """Resume a paused send (its error count starts again at 0) and send on in the background."""
    admin_views.check(app, request, user, token)
    sending.resume(app, key)
    return send(request, app, user, key, token)


@router.get(BASE + "/{key}/progress")
def progress(request: Request, app: AppDep, user: Marketer, key: str) -> JSONResponse:
    """How far the send (or the draft's exclusion report) got: polled by the campaign's page."""
    p = campaigns.progress(app, key)
    n = p.counts
    done = n["sent"] + n["skipped"] + n["failed"]
    running = _running(p, jobs(request).get(f"campaign:{key}"))
    judged = jobs(request).get(f"report:{key}")
    if p.status is CampaignStatus.DRAFT and judged is not None and judged.running:
        running = True
    return JSONResponse(
        {"running": running, "done": done, "total": p.total}, headers={"Cache-Control": "no-store"}
    )


def _running(p: campaigns.Progress, job: Job | None) -> bool:
    return job is not None and job.running and p.status is not CampaignStatus.PAUSED


def _definition(values: dict[str, str]) -> dict[str, Any]:
    """A campaign definition (as `campaigns.define` takes it) from the form's fields."""

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    sender = {name: get(f"sender.{name}") for name in SENDER}
    content = {}
    for lang in ("nl", "en"):
        body, subject = values.get(f"content.{lang}.body", ""), get(f"content.{lang}.subject")
        if lang == "nl" or body.strip() or subject:
            content[lang] = {"body": body, **({"subject": subject} if subject else {})}
    doc: dict[str, Any] = {
        "key": get("key") or "",
        "name": get("name"),
        "purpose": get("purpose") or "",
        "channel": get("channel") or "email",
        "kind": get("kind") or "marketing",
        "sender": {k: v for k, v in sender.items() if v is not None},
        "content": content,
    }
    if get("selection.tag"):
        doc["selection"] = {"tag": get("selection.tag")}
    return doc


def _form(
    request: Request,
    app: App,
    user: User,
    values: dict[str, str],
    error: InputError | None = None,
    status: int = 200,
) -> HTMLResponse:
    return _page(
        request, app, user, "admin_campaign_new.html", status=status, values=values, error=error,
        purposes=purposes.list_all(app), channels=sorted(c.value for c in SEND_CHANNELS),
        kinds=[k.value for k in MessageKind],
    )  # fmt: skip


@contextmanager
def _temp() -> Iterator[tuple[TextIO, Path]]:
    """A file to write a download to; removed again when writing it fails (else after sending it)."""
    fd, name = tempfile.mkstemp(suffix=".csv")
    path = Path(name)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle, path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _download(path: Path, filename: str) -> FileResponse:
    return FileResponse(
        path,
        media_type=spreadsheet.MEDIA_TYPE,
        filename=filename,
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def _page(
    request: Request, app: App, user: User, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    return admin_views.page(request, app, user, template, current="campaigns", status=status, **context)
