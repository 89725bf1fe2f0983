"""Audit (/admin/audit): the admin audit log, newest first, a page at a time. Privacy officer
and beheerder."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from consentry.domain.users import AuditAction, User
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.web import admin_nav, admin_views
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.wired import AppDep
from consentry.i18n import N_
from consentry.services import users

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/audit"
PAGE_SIZE = 50
Reader = Annotated[User, Depends(admin_nav.opens("audit"))]

#: Each action as the page names it.
ACTIONS: dict[AuditAction, str] = {
    AuditAction.LOGIN: N_("Logged in"),
    AuditAction.LOGIN_FAILED: N_("Login failed"),
    AuditAction.LOCKOUT: N_("Locked out"),
    AuditAction.RATE_LIMITED: N_("Too many login attempts"),
    AuditAction.LOGOUT: N_("Logged out"),
    AuditAction.USER_CREATED: N_("User added"),
    AuditAction.USER_DISABLED: N_("User disabled"),
    AuditAction.TOTP_ENROLLED: N_("Second factor switched on"),
    AuditAction.TOTP_RESET: N_("Second factor removed"),
    AuditAction.ROLE_CHANGED: N_("Role changed"),
    AuditAction.PURPOSE_SAVED: N_("Purpose saved"),
    AuditAction.FORM_SAVED: N_("Form version saved"),
    AuditAction.API_KEY_CREATED: N_("API key made"),
    AuditAction.API_KEY_REVOKED: N_("API key revoked"),
    AuditAction.SETTINGS_CHANGED: N_("Settings changed"),
    AuditAction.OBJECTION_RECORDED: N_("Objection recorded by phone"),
    AuditAction.ACCESS_EXPORTED: N_("Access export opened"),
    AuditAction.REQUEST_CHANGED: N_("Request step taken"),
    AuditAction.RETENTION_RUN: N_("Retention run"),
    AuditAction.CONTACT_ERASED: N_("Person erased"),
    AuditAction.NOTE_RECORDED: N_("Note added"),
    AuditAction.REGISTER_IMPORTED: N_("Register file imported"),
}


@router.get(PATH, response_class=HTMLResponse)
def audit_page(
    request: Request,
    app: AppDep,
    user: Reader,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    """A page of the audit log: the newest entries, or those older than entry `before`."""
    entries = users.audit_log(accounts(app), PAGE_SIZE + 1, before)
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    return admin_views.page(
        request,
        app,
        user,
        "admin_audit.html",
        current="audit",
        entries=entries[:PAGE_SIZE],
        actions=ACTIONS,
        older=older,
        first=before is None,
    )
