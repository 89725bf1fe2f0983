"""Contacten (/admin/contacts): the search, a contact point's page (its person's points, the
permission matrix, the ledger timeline), its proof of consent and access export, an
objection taken by phone, a note, and the person's erasure (privacy officer and beheerder,
after a confirmation step that names what goes and asks for the reason)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse

from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.clock import LOCAL_TZ
from consentry.domain.users import User
from consentry.entrypoints.web import admin_nav, admin_views, csrf, views
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.web.report_texts import word
from consentry.entrypoints.web.reports import render
from consentry.entrypoints.wired import AppDep
from consentry.i18n import N_
from consentry.services import consent_proof, contact_page, search
from consentry.services.errors import InputError

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/contacts"
Reader = Annotated[User, Depends(admin_nav.opens("contacts"))]
Writer = Annotated[User, Depends(admin_nav.changes("contacts"))]
Eraser = Annotated[User, Depends(admin_nav.erases())]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]
#: The erasure reasons the page offers (codes as the ledger keeps them), by name.
REASONS = {
    "request": N_("The person asked for it (GDPR Art. 17)"),
    "no_basis": N_("No basis left to keep the data"),
    "unlawful": N_("The data was obtained or kept unlawfully"),
    "duplicate": N_("A duplicate or mistaken entry"),
}
assert tuple(REASONS) == contact_page.ERASURE_REASONS
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
    return _contact(request, app, user, point_id, then, at)


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


@router.post(PATH + "/{point_id}/note", response_class=HTMLResponse)
def note(
    point_id: str,
    request: Request,
    app: AppDep,
    user: Writer,
    text: Annotated[str, Form(alias="note", max_length=limits.TEXT + 1000)] = "",
    token: Token = None,
) -> Response:
    """Add a note to the point's timeline (sealed in the ledger; the audit log says who wrote it)."""
    admin_views.check(app, request, user, token)
    try:
        contact_page.record_note(app, point_id, text, user.email)
    except InputError as exc:
        return _contact(request, app, user, point_id, error=exc, note_text=text)
    return admin_views.done(request, f"{PATH}/{point_id}", "note")


@router.get(PATH + "/{point_id}/erase", response_class=HTMLResponse)
def erase_page(point_id: str, request: Request, app: AppDep, user: Eraser) -> HTMLResponse:
    """The confirmation step: which points go, that their suppression records stay, and why."""
    return _erase_page(request, app, user, point_id)


@router.post(PATH + "/{point_id}/erase", response_class=HTMLResponse)
def erase(
    point_id: str,
    request: Request,
    app: AppDep,
    user: Eraser,
    reason: Annotated[str, Form(max_length=40)] = "",
    token: Token = None,
) -> Response:
    """Erase the person of the point, recorded in the audit log with the user; then the point's page."""
    admin_views.check(app, request, user, token)
    try:
        contact_page.erase_person(app, point_id, reason, user.email)
    except InputError as exc:
        return _erase_page(request, app, user, point_id, exc)
    return admin_views.done(request, f"{PATH}/{point_id}", "erased")


def _contact(
    request: Request,
    app: App,
    user: User,
    point_id: str,
    then: datetime | None = None,
    at: str = "",
    error: InputError | None = None,
    note_text: str = "",
) -> HTMLResponse:
    shown = contact_page.view(app, point_id, then)
    erased = isinstance(shown, contact_page.ErasedView)
    return _page(
        request,
        app,
        user,
        "admin_contact_erased.html" if erased else "admin_contact.html",
        current="contacts",
        status=422 if error else 200,
        c=shown,
        at=at,
        today=app.clock.now().astimezone(LOCAL_TZ).date().isoformat(),
        may_erase=admin_nav.may_erase(user),
        error=error,
        note_text=note_text[: limits.TEXT + 1000],
        note_limit=limits.TEXT,
        reasons=REASONS,
    )


def _erase_page(
    request: Request, app: App, user: User, point_id: str, error: InputError | None = None
) -> HTMLResponse:
    shown = contact_page.view(app, point_id)
    if isinstance(shown, contact_page.ErasedView):
        return _contact(request, app, user, point_id)
    return _page(
        request,
        app,
        user,
        "admin_contact_erase.html",
        current="contacts",
        status=422 if error else 200,
        c=shown,
        error=error,
        reasons=REASONS,
        person_cap=contact_page.PERSON_POINTS,
    )


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
