"""Bewaartermijnen (/admin/retention): the retention policies in force, a dry run, and the real run.

Privacy officer and beheerder. The dry run shows per policy how many contact points it would
erase today and the first of their ids (never an address); the real run asks for confirmation
first, then erases in the background (`admin_jobs`, one run at a time) while the page shows its
progress, and is recorded in the admin audit log with its counts and the user who started it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from consentry.bootstrap import App
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


@router.get(PATH, response_class=HTMLResponse)
def retention_page(request: Request, app: AppDep, user: Reader) -> HTMLResponse:
    """The policies in force, in the order they are tried, the last real run, and one running now."""
    return _page(request, app, user)


@router.post(PATH + "/dry-run", response_class=HTMLResponse)
def dry_run(request: Request, app: AppDep, user: Writer, token: Token = None) -> HTMLResponse:
    """What the policies would erase today, per policy; nothing is erased."""
    admin_views.check(app, request, user, token)
    return _page(request, app, user, report=_dry_run(app))


@router.post(PATH + "/run", response_class=HTMLResponse)
def real_run(
    request: Request,
    app: AppDep,
    user: Writer,
    confirmed: Annotated[str, Form(max_length=10)] = "",
    expected: Annotated[int, Form(ge=0, le=1_000_000_000)] = 0,
    token: Token = None,
) -> Response:
    """Without confirmation: the dry run and the question. Confirmed: erase in the background."""
    admin_views.check(app, request, user, token)
    if confirmed != "yes":
        return _page(request, app, user, report=_dry_run(app), confirm=True)
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
def progress(request: Request, user: Reader) -> JSONResponse:
    """How far the real run got (polled by the page while it runs)."""
    job = jobs(request).get(JOB)
    running = job is not None and job.running
    done, total = (job.done, max(job.total, job.done)) if job is not None else (0, 0)
    return JSONResponse(
        {"running": running, "done": done, "total": total}, headers={"Cache-Control": "no-store"}
    )


def _dry_run(app: App) -> RunReport:
    found = _policies(app)
    return retention.run(
        app, found.policies, None, dry_run=True, keep_ids=True, batch=app.settings.retention_batch
    )


def _policies(app: App) -> retention_policies.PolicySet:
    return retention_policies.load(app.settings.retention_policies_file)


def _page(
    request: Request, app: App, user: User, report: RunReport | None = None, confirm: bool = False
) -> HTMLResponse:
    found = _policies(app)
    last = retention.last_run(app)
    last_at = datetime.fromisoformat(str(last["at"])) if last else None
    policies = last.get("policies") if last else None
    last_erased = sum(int(c.get("erased", 0)) for c in policies.values()) if isinstance(policies, dict) else 0
    job = jobs(request).get(JOB)
    # A run's outcome is shown to whoever is sent back from starting it (`done=run`); one running
    # now is shown to everyone, instead of the buttons.
    shown = job if job is not None and (job.running or request.query_params.get("done") == "run") else None
    return admin_views.page(
        request,
        app,
        user,
        "admin_retention.html",
        current="retention",
        policies=found.policies,
        source=found.source,
        report=report,
        confirm=confirm,
        first_ids=FIRST_IDS,
        last_at=last_at,
        last_erased=last_erased,
        job=shown,
        progress_url=admin_views.link(request, PATH + "/progress"),
    )
