"""Verzoeken (/admin/requests): the data-subject requests by deadline, and one request's steps.

Privacy officer and beheerder change them; read-only users see them. Each step is one post
with the form token, done by the request services with the user as handler and recorded in
the admin audit log in the step's own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.dsr import IdentityMethod, Outcome, ToldVia
from consentry.domain.users import User
from consentry.entrypoints import dsr_hooks
from consentry.entrypoints.web import admin_nav, admin_views, csrf
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.wired import AppDep
from consentry.services import dsr, dsr_handling
from consentry.services.errors import InputError

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/requests"
Reader = Annotated[User, Depends(admin_nav.opens("requests"))]
Writer = Annotated[User, Depends(admin_nav.changes("requests"))]
Text = Annotated[str, Form(max_length=limits.TEXT)]
Code = Annotated[str, Form(max_length=40)]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]
#: The list's filters: the open requests, the overdue ones, those due within a number of days.
SHOWS = ("open", "overdue", "due", "all")
#: Requests a page of the list shows.
PAGE_SIZE = 100


@router.get(PATH, response_class=HTMLResponse)
def requests_page(
    request: Request,
    app: AppDep,
    user: Reader,
    show: Annotated[str, Query(max_length=10)] = "open",
    days: Annotated[int, Query(ge=0, le=3660)] = 7,
    start: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The requests by deadline, earliest first, filtered."""
    if show not in SHOWS:
        raise InputError("show", f"show one of {', '.join(SHOWS)}")
    found = dsr.page_of_requests(
        app,
        overdue=show == "overdue",
        due_within=days if show == "due" else None,
        include_closed=show == "all",
        start=start,
        size=PAGE_SIZE,
    )
    return admin_views.page(
        request,
        app,
        user,
        "admin_requests.html",
        current="requests",
        requests=found.requests,
        total=found.total,
        start=start,
        page_size=PAGE_SIZE,
        show=show,
        days=days,
        now=app.clock.now(),
        action=admin_views.link(request, PATH),
    )


@router.get(PATH + "/{request_id}", response_class=HTMLResponse)
def request_page(request_id: str, request: Request, app: AppDep, user: Reader) -> HTMLResponse:
    """One request: its deadline, state, identity check, its events, and the steps left."""
    return _show(request, app, user, request_id)


@router.post(PATH + "/{request_id}/identity", response_class=HTMLResponse)
def verify(
    request_id: str,
    request: Request,
    app: AppDep,
    user: Writer,
    method: Code = "",
    failed: Code = "",
    token: Token = None,
) -> Response:
    """Record the identity check: verified, or failed."""

    def act() -> None:
        dsr.verify_identity(app, request_id, method, user.email, bool(failed), actor=user.email)

    return _step(request, app, user, request_id, token, "identity", act)


@router.post(PATH + "/{request_id}/start", response_class=HTMLResponse)
def start(request_id: str, request: Request, app: AppDep, user: Writer, token: Token = None) -> Response:
    """Take the request on: it is in progress, with this user as handler."""

    def act() -> None:
        dsr.start(app, request_id, user.email, actor=user.email)

    return _step(request, app, user, request_id, token, "started", act)


@router.post(PATH + "/{request_id}/extend", response_class=HTMLResponse)
def extend(
    request_id: str,
    request: Request,
    app: AppDep,
    user: Writer,
    reason: Text = "",
    told_via: Code = "email",
    token: Token = None,
) -> Response:
    """Extend the deadline once by two months, telling the person the reasons."""

    def act() -> None:
        dsr.extend(app, request_id, reason, user.email, told_via, actor=user.email)

    return _step(request, app, user, request_id, token, "extended", act)


@router.post(PATH + "/{request_id}/handle", response_class=HTMLResponse)
def handle(
    request_id: str,
    request: Request,
    app: AppDep,
    user: Writer,
    outcome: Text = "",
    corrections: Text = "",
    token: Token = None,
) -> Response:
    """Do what the request asks (erase, export, restrict, correct, object) and tell the person."""

    def act() -> Mapping[str, object]:
        done = dsr_handling.handle(
            app,
            request_id,
            user.email,
            outcome,
            dsr_hooks.hooks(app),
            attributes=_corrections(corrections),
            actor=user.email,
        )
        return {"told": int(done.told)}

    return _step(request, app, user, request_id, token, "handled", act)


@router.post(PATH + "/{request_id}/close", response_class=HTMLResponse)
def close(
    request_id: str,
    request: Request,
    app: AppDep,
    user: Writer,
    outcome: Code = "",
    reason: Text = "",
    token: Token = None,
) -> Response:
    """Close the request without doing it: refused (with the reasons) or withdrawn."""

    def act() -> Mapping[str, object]:
        done = dsr_handling.close(app, request_id, outcome, user.email, reason, actor=user.email)
        return {"told": int(done.told) if outcome == Outcome.REFUSED else None}

    return _step(request, app, user, request_id, token, "closed", act)


def _step(
    request: Request,
    app: App,
    user: User,
    request_id: str,
    token: str | None,
    notice: str,
    act: Callable[[], Mapping[str, object] | None],
) -> Response:
    """A step on a request: the form token checked, the step taken, then back to the request's
    page saying what was done (with `act`'s query values), or the page again with the refusal."""
    admin_views.check(app, request, user, token)
    try:
        query = act() or {}
    except InputError as exc:
        return _show(request, app, user, request_id, exc)
    return admin_views.done(request, f"{PATH}/{request_id}", notice, **query)


def _corrections(text: str) -> dict[str, str] | None:
    """A rectification's corrections, one `name=value` a line."""
    found: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise InputError("corrections", f"line {n}: write a correction as name=value")
        found[name.strip()] = value.strip()
    return found or None


def _show(
    request: Request, app: App, user: User, request_id: str, error: InputError | None = None
) -> HTMLResponse:
    view = dsr.show(app, request_id)
    return admin_views.page(
        request,
        app,
        user,
        "admin_request.html",
        current="requests",
        status=422 if error else 200,
        req=view.request,
        events=view.events,
        now=app.clock.now(),
        error=error,
        methods=[m.value for m in IdentityMethod],
        told_vias=[v.value for v in ToldVia],
        closings=[o.value for o in Outcome if o is not Outcome.DONE],
        told=request.query_params.get("told", ""),
        base=f"{PATH}/{request_id}",
    )
