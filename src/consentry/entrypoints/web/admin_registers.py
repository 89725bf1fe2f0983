"""Registers (/admin/registers): the do-not-contact registers decisions consult, and a new version.

Everyone who logs in reads the list (a marketer needs to know whether a register is current);
a privacy officer or a beheerder uploads a new version of a register file, in the formats
`consentry import register` takes (one entry per line, or a CSV column; clear or SHA-256
hashed). The upload is imported at once and its report shown: entries read, new, already
listed, and every rejection by line. Each upload is recorded in the admin audit log with its
counts and register key (never an entry). The file is deleted from the server's disk as soon as
it was read.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from consentry.adapters.uploads import UploadTooLarge
from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.users import AuditAction, User
from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.web import admin_nav, admin_views, csrf
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.web.admin_import import uploads
from consentry.entrypoints.wired import AppDep
from consentry.services import registers, users
from consentry.services.errors import InputError, choice
from consentry.services.registers import RegisterReport

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/registers"
Reader = Annotated[User, Depends(admin_nav.opens("registers"))]
Writer = Annotated[User, Depends(admin_nav.changes("registers"))]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]
Text = Annotated[str, Form(max_length=limits.LABEL)]
#: The rejections the report lists by line; the rest are counted.
SHOWN_REJECTIONS = 200


@router.get(PATH, response_class=HTMLResponse)
def registers_page(request: Request, app: AppDep, user: Reader) -> HTMLResponse:
    """Every register with its kind, period, size and last update."""
    return _page(request, app, user)


@router.post(PATH, response_class=HTMLResponse)
def upload(
    request: Request,
    app: AppDep,
    user: Writer,
    file: Annotated[UploadFile, File()],
    key: Annotated[str, Form(alias="register", max_length=limits.LABEL)] = "",
    name: Text = "",
    kind: Text = "",
    hashed: Text = "",
    column: Text = "",
    valid_from: Text = "",
    valid_until: Text = "",
    token: Token = None,
) -> Response:
    """Import the uploaded register file and show its report (nothing is kept of a refused file)."""
    admin_views.check(app, request, user, token)
    entered = {
        "register": key,
        "name": name,
        "kind": kind,
        "hashed": hashed,
        "column": column,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }
    if not file.filename:
        return _page(request, app, user, entered=entered, upload_error="empty", status=422)
    try:
        kept = uploads(request).save(file.file, file.filename, user.id, limits.REGISTER_UPLOAD_BYTES)
    except UploadTooLarge:
        return _page(request, app, user, entered=entered, upload_error="large", status=413)
    try:
        if kept.meta["bytes"] == 0:
            return _page(request, app, user, entered=entered, upload_error="empty", status=422)
        report = registers.import_file(
            app,
            kept.path,
            key.strip(),
            name=name.strip() or None,
            kind=choice(PointKind, "kind", kind) if kind else None,
            hashed=bool(hashed),
            column=column.strip() or None,
            valid_from=_day(valid_from, "from"),
            valid_until=_day(valid_until, "until"),
        )
    except InputError as exc:
        return _page(request, app, user, entered=entered, error=exc, status=422)
    finally:
        uploads(request).delete(kept.id)  # the file may hold numbers and addresses in clear
    users.record(
        accounts(app),
        user,
        AuditAction.REGISTER_IMPORTED,
        report.register,
        entries=report.entries,
        new=report.new,
        already=report.already,
        rejected=len({p.line for p in report.rejected}),
    )
    return _page(request, app, user, report=report)


def _day(value: str, field: str) -> date | None:
    """A date from the form's date field (ISO, as browsers send it), or None when left empty."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(field, f"{value!r} is not a date like 2021-06-30") from None


def _page(
    request: Request,
    app: App,
    user: User,
    report: RegisterReport | None = None,
    error: InputError | None = None,
    upload_error: str = "",
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return admin_views.page(
        request,
        app,
        user,
        "admin_registers.html",
        current="registers",
        status=status,
        registers=registers.list_all(app),
        presets=registers.PRESETS,
        kinds=[k.value for k in PointKind],
        report=report,
        rejected_lines=len({p.line for p in report.rejected}) if report else 0,
        shown_rejections=SHOWN_REJECTIONS,
        error=error,
        upload_error=upload_error,
        entered=entered or {},
        today=app.clock.now().date(),
    )
