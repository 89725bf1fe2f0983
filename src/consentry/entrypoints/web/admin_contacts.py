"""Contacten (/admin/contacts): the search, a contact point's page (its person's points, the
permission matrix, the ledger timeline), its proof of consent and access export, and an
objection taken by phone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from consentry.bootstrap import App
from consentry.domain.clock import LOCAL_TZ
from consentry.domain.users import User
from consentry.entrypoints.web import admin_nav, admin_views, csrf, views
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.web.report_texts import word
from consentry.entrypoints.web.reports import render
from consentry.entrypoints.wired import AppDep
from consentry.services import consent_proof, contact_page, search
from consentry.services.errors import InputError

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/contacts"
Reader = Annotated[User, Depends(admin_nav.opens("contacts"))]
Writer = Annotated[User, Depends(admin_nav.changes("contacts"))]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]
#: A report's only resource is its own inline style: no script, no fetch.
_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@router.get(PATH, response_class=HTMLResponse)
def contacts_page(
    request: Request,
    app: AppDep,
    user: Reader,
    q: Annotated[str, Query(max_length=600)] = "",
    by: Annotated[str, Query(max_length=10)] = "auto",
) -> HTMLResponse:
    """The search form and, once something was typed, the contact points it finds."""
    found: search.Found | None = None
    error: InputError | None = None
    if q.strip():
        try:
            found = search.search(app, q, by)
        except InputError as exc:
            error = exc
    return _page(
        request,
        app,
        user,
        "admin_contacts.html",
        current="contacts",
        status=422 if error else 200,
        q=q,
        by=by if by in search.WAYS else "auto",
        found=found,
        error=error,
    )


@router.get(PATH + "/{point_id}", response_class=HTMLResponse)
def contact(
    point_id: str,
    request: Request,
    app: AppDep,
    user: Reader,
    at: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    """One contact point: its person's points, the permission matrix (now and as of `at`), its timeline."""
    then = _end_of_day(at, app.clock.now()) if at else None
    shown = contact_page.view(app, point_id, then)
    return _page(
        request,
        app,
        user,
        "admin_contact.html",
        current="contacts",
        c=shown,
        at=at,
        today=app.clock.now().astimezone(LOCAL_TZ).date().isoformat(),
    )


@router.get(PATH + "/{point_id}/proof", response_class=HTMLResponse)
def proof(point_id: str, request: Request, app: AppDep, user: Reader) -> HTMLResponse:
    """The proof of consent report of the point's person, as the API and CLI make it."""
    return _report(request, "proof", consent_proof.proof(app, point_id))


@router.post(PATH + "/{point_id}/access", response_class=HTMLResponse)
def access_export(
    point_id: str, request: Request, app: AppDep, user: Writer, token: Token = None
) -> Response:
    """The access export of the point's person (GDPR Art. 15), recorded in the audit log with the user."""
    admin_views.check(app, request, user, token)
    return _report(request, "access", contact_page.access_export(app, point_id, user.email))


@router.post(PATH + "/{point_id}/objection", response_class=HTMLResponse)
def objection(
    point_id: str,
    request: Request,
    app: AppDep,
    user: Writer,
    scope: Annotated[str, Form(max_length=40)] = "",
    token: Token = None,
) -> Response:
    """Record an objection the person made by phone (the ledger says via phone, the audit log who took it)."""
    admin_views.check(app, request, user, token)
    contact_page.record_objection(app, point_id, scope, user.email)
    return admin_views.done(request, f"{PATH}/{point_id}", "objection")


def _page(request: Request, app: App, user: User, template: str, **context: Any) -> HTMLResponse:
    """An admin page with the ledger's terms (events, channels, verdicts) in the page's language."""
    lang = views.page_lang(request)
    return admin_views.page(
        request, app, user, template, word=lambda kind, value: word(lang, kind, value), **context
    )


def _report(request: Request, name: str, doc: dict[str, object]) -> HTMLResponse:
    lang = views.page_lang(request)
    headers = {
        "Cache-Control": "no-store",
        "Content-Language": lang,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _REPORT_CSP,
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(render(name, doc, lang), headers=headers)


def _end_of_day(text: str, now: datetime) -> datetime:
    """The end of a day (YYYY-MM-DD) in Dutch time, as a UTC moment; no later than now."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError("at", f"{text!r} is not a date (YYYY-MM-DD)") from None
    if day > now.astimezone(LOCAL_TZ).date():
        raise InputError("at", "choose a day up to today: the matrix tells what was allowed")
    end = datetime.combine(day, time(23, 59, 59), LOCAL_TZ).astimezone(UTC)
    return min(end, now)
