"""Bewaartermijnen (/admin/retention): the retention policies in force, a dry run, and the real run.

Privacy officer and beheerder. The dry run runs in the background (`admin_jobs`, its own job,
one at a time) while the page shows how many contact points it has read; when done, the page
shows everyone who opens it, per policy, how many contact points would be erased today and the
first of their ids (never an address), until the Dutch day ends or a real run starts. The real
run asks for confirmation first with that dry run's count (starting a dry run first when there
is none of today), then erases in the background (one run at a time, never beside a dry run)
while the page shows its progress, and is recorded in the admin audit log with its counts and
the user who started it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from consentry.bootstrap import App
from consentry.domain.state import local_day
from consentry.domain.users import User
from consentry.entrypoints.web import admin_nav, admin_views, csrf
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.web.admin_jobs import Job, jobs
from consentry.entrypoints.wired import AppDep
from consentry.services import retention, retention_policies
from consentry.services.retention import Erased, RunReport
from consentry.services.retention_erasure import eraser_for

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/retention"
Reader = Annotated[User, Depends(admin_nav.opens("retention"))]
Writer = Annotated[User, Depends(admin_nav.changes("retention"))]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]
#: The ids a dry run shows per policy.
FIRST_IDS = 10
#: The background job of the real run: one at a time, whoever started it.
JOB = "retention"
#: The background job of the dry run: one at a time, its report shown to everyone on the page.
DRY_JOB = "retention-dry-run"
#: The `done` values of the page a dry run's starter is sent back to.
_DRY = ("dry-run", "confirm")


@router.get(PATH, response_class=HTMLResponse)
def retention_page(request: Request, app: AppDep, user: Reader) -> HTMLResponse:
    """The policies in force in the order they are tried, the last real run, the dry run of today,
    and a run or dry run running now."""
    return _page(request, app, user)


@router.post(PATH + "/dry-run", response_class=HTMLResponse)
def dry_run(request: Request, app: AppDep, user: Writer, token: Token = None) -> Response:
    """Start the dry run in the background: what the policies would erase today; nothing is erased."""
    admin_views.check(app, request, user, token)
    _start_dry_run(request, app, user)
    return admin_views.done(request, PATH, "dry-run")


@router.post(PATH + "/run", response_class=HTMLResponse)
def real_run(
    request: Request,
    app: AppDep,
    user: Writer,
    confirmed: Annotated[str, Form(max_length=10)] = "",
    expected: Annotated[int, Form(ge=0, le=1_000_000_000)] = 0,
    token: Token = None,
) -> Response:
    """Without confirmation: the finished dry run's count and the question (a dry run is started
    first when there is none of today). Confirmed: erase in the background."""
    admin_views.check(app, request, user, token)
    if _busy(request):  # the page shows what runs; nothing starts beside it
        return admin_views.done(request, PATH, "busy")
    if confirmed != "yes":
        finished = _finished_dry_run(request, app, retention.last_run(app))
        if finished is not None:
            return _page(request, app, user, confirm=True)
        _start_dry_run(request, app, user)
        return admin_views.done(request, PATH, "confirm")
    policies = _policies(app).policies
    erase = eraser_for(app)

    def work(job: Job) -> RunReport:
        def counted(point_ids: Sequence[str], reason: str, now: datetime) -> Erased:
            done = erase(point_ids, reason, now)
            job.advance(done.erased + done.already)
            return done

        batch = app.settings.retention_batch
        return retention.run(app, policies, counted, batch=batch, actor=user.email)

    # `expected` (the confirmed dry run's count) only scales the progress bar.
    jobs(request).start(JOB, user.id, "run", work, total=expected)
    return admin_views.done(request, PATH, "run")


@router.get(PATH + "/progress")
def progress(
    request: Request, user: Reader, of: Annotated[str, Query(max_length=10)] = "run"
) -> JSONResponse:
    """How far the real run (`of=run`) or the dry run (`of=dry-run`) got, polled by the page."""
    job = jobs(request).get(DRY_JOB if of == "dry-run" else JOB)
    running = job is not None and job.running
    done, total = (job.done, max(job.total, job.done)) if job is not None else (0, 0)
    return JSONResponse(
        {"running": running, "done": done, "total": total}, headers={"Cache-Control": "no-store"}
    )


@dataclass(frozen=True, slots=True)
class DryRun:
    """A finished dry run and the user who started it."""

    report: RunReport
    by: str


def _start_dry_run(request: Request, app: App, user: User) -> None:
    """The dry run as a background job (one at a time: a second click joins the running one)."""
    if _busy(request):
        return
    policies = _policies(app).policies
    batch = app.settings.retention_batch

    def work(job: Job) -> DryRun:
        report = retention.run(
            app, policies, None, dry_run=True, keep_ids=True, batch=batch, on_batch=job.advance
        )
        return DryRun(report, user.email)

    jobs(request).start(DRY_JOB, user.id, "dry-run", work)


def _busy(request: Request) -> bool:
    """True while the real run or a dry run runs."""
    return any(j is not None and j.running for j in (jobs(request).get(JOB), jobs(request).get(DRY_JOB)))


def _finished_dry_run(request: Request, app: App, last: dict[str, object] | None) -> DryRun | None:
    """The last dry run, when it finished today (Dutch day) and no real run started after it
    (`last`: the summary of the last real run, `retention.last_run`)."""
    dry = jobs(request).get(DRY_JOB)
    if dry is None or dry.state != "done" or dry.ended is None or not isinstance(dry.result, DryRun):
        return None
    real = jobs(request).get(JOB)
    if real is not None and real.started >= dry.ended:
        return None
    report = dry.result.report
    if local_day(report.at) != local_day(app.clock.now()):
        return None
    if last and datetime.fromisoformat(str(last["at"])) > report.at:  # a run since, e.g. the CLI's
        return None
    return dry.result


def _policies(app: App) -> retention_policies.PolicySet:
    return retention_policies.load(app.settings.retention_policies_file)


def _page(request: Request, app: App, user: User, confirm: bool = False) -> HTMLResponse:
    found = _policies(app)
    last = retention.last_run(app)
    last_at = datetime.fromisoformat(str(last["at"])) if last else None
    policies = last.get("policies") if last else None
    last_erased = sum(int(c.get("erased", 0)) for c in policies.values()) if isinstance(policies, dict) else 0
    job = jobs(request).get(JOB)
    told = request.query_params.get("done")
    # A run's outcome is shown to whoever is sent back from starting it (`done=run`); one running
    # now is shown to everyone, instead of the buttons.
    shown = job if job is not None and (job.running or told == "run") else None
    # A dry run running is shown to everyone; a failed one to whoever started it; a finished one
    # of today, to everyone who opens the page (ids only, never an address), until a real run.
    dry = jobs(request).get(DRY_JOB)
    dry_shown = dry if dry is not None and (dry.running or (dry.state == "failed" and told in _DRY)) else None
    finished = _finished_dry_run(request, app, last)
    may_confirm = admin_nav.may_change(user, "retention") and finished is not None
    return admin_views.page(
        request,
        app,
        user,
        "admin_retention.html",
        current="retention",
        policies=found.policies,
        source=found.source,
        report=finished.report if finished is not None else None,
        report_by=finished.by if finished is not None else None,
        confirm=may_confirm and (confirm or told == "confirm"),
        first_ids=FIRST_IDS,
        last_at=last_at,
        last_erased=last_erased,
        job=shown,
        dry=dry_shown,
        progress_url=admin_views.link(request, PATH + "/progress", of="dry-run" if dry_shown else "run"),
    )
