"""Bewaartermijnen (/admin/retention): the retention policies in force, a dry run, and the real run.

Privacy officer and beheerder. The dry run shows per policy how many contact points it would
erase today and the first of their ids (never an address); the real run asks for confirmation
first, erases, and is recorded in the admin audit log with its counts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse

from consentry.bootstrap import App
from consentry.domain.users import User
from consentry.entrypoints.web import admin_nav, admin_views, csrf
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.wired import AppDep
from consentry.services import retention, retention_policies
from consentry.services.retention import RunReport
from consentry.services.retention_erasure import eraser_for

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/retention"
Reader = Annotated[User, Depends(admin_nav.opens("retention"))]
Writer = Annotated[User, Depends(admin_nav.changes("retention"))]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]
#: The ids a dry run shows per policy.
FIRST_IDS = 10


@router.get(PATH, response_class=HTMLResponse)
def retention_page(request: Request, app: AppDep, user: Reader) -> HTMLResponse:
    """The policies in force, in the order they are tried, and the last real run."""
    return _page(request, app, user)


@router.post(PATH + "/dry-run", response_class=HTMLResponse)
def dry_run(request: Request, app: AppDep, user: Writer, token: Token = None) -> HTMLResponse:
    """What the policies would erase today, per policy; nothing is erased."""
    admin_views.check(app, request, user, token)
    found = _policies(app)
    report = retention.run(
        app, found.policies, None, dry_run=True, keep_ids=True, batch=app.settings.retention_batch
    )
    return _page(request, app, user, report=report)


@router.post(PATH + "/run", response_class=HTMLResponse)
def real_run(
    request: Request,
    app: AppDep,
    user: Writer,
    confirmed: Annotated[str, Form(max_length=10)] = "",
    token: Token = None,
) -> Response:
    """Without confirmation: the dry run and the question. Confirmed: erase, and record it."""
    admin_views.check(app, request, user, token)
    found = _policies(app)
    if confirmed != "yes":
        report = retention.run(
            app, found.policies, None, dry_run=True, keep_ids=True, batch=app.settings.retention_batch
        )
        return _page(request, app, user, report=report, confirm=True)
    done = retention.run(
        app, found.policies, eraser_for(app), batch=app.settings.retention_batch, actor=user.email
    )
    return admin_views.done(request, PATH, "run", erased=done.erased)


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
        erased=request.query_params.get("erased", ""),
    )
