"""Instellingen (/admin/settings): the sender's identity and the confirmation mail's sender.

Beheerder only, like the API keys and users (admin_access.py). The public pages show the
identity through `brand.py`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse

from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.users import User
from consentry.entrypoints.web import admin_views, csrf
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.web.admin_nav import Beheerder
from consentry.entrypoints.wired import AppDep
from consentry.services import sender
from consentry.services.errors import InputError

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/settings"
Line = Annotated[str, Form(max_length=limits.URL)]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]


@router.get(PATH, response_class=HTMLResponse)
def settings_page(request: Request, app: AppDep, user: Beheerder) -> HTMLResponse:
    """The sender's identity and the confirmation mail's sender, as stored."""
    return _page(request, app, user)


@router.post(PATH + "/identity", response_class=HTMLResponse)
def save_identity(
    request: Request,
    app: AppDep,
    user: Beheerder,
    name: Line = "",
    kvk: Annotated[str, Form(max_length=20)] = "",
    address: Line = "",
    privacy_url: Line = "",
    colour: Annotated[str, Form(max_length=20)] = "",
    remove_logo: Annotated[str, Form(max_length=10)] = "",
    logo: Annotated[UploadFile | None, File()] = None,
    token: Token = None,
) -> Response:
    """Store the identity the public pages and mails show (and a new logo)."""
    admin_views.check(app, request, user, token)
    data = logo.file.read(sender.LOGO_MAX_BYTES + 1) if logo is not None and logo.filename else None
    try:
        sender.save_identity(
            app, user.email, name, kvk, address, privacy_url, colour, data, remove_logo=bool(remove_logo)
        )
    except InputError as exc:
        entered = {"name": name, "kvk": kvk, "address": address, "privacy_url": privacy_url, "colour": colour}
        return _page(request, app, user, error=exc, entered=entered)
    return admin_views.done(request, PATH, "identity")


@router.post(PATH + "/mail", response_class=HTMLResponse)
def save_mail_sender(
    request: Request,
    app: AppDep,
    user: Beheerder,
    mail_from_name: Line = "",
    mail_from: Annotated[str, Form(max_length=limits.EMAIL)] = "",
    token: Token = None,
) -> Response:
    """Store the From of confirmation mails."""
    admin_views.check(app, request, user, token)
    try:
        sender.save_mail_sender(app, user.email, mail_from_name, mail_from)
    except InputError as exc:
        entered = {"mail_from_name": mail_from_name, "mail_from": mail_from}
        return _page(request, app, user, error=exc, entered=entered)
    return admin_views.done(request, PATH, "mail")


def _page(
    request: Request,
    app: App,
    user: User,
    error: InputError | None = None,
    entered: dict[str, str] | None = None,
) -> HTMLResponse:
    who = sender.identity(app)
    mail = sender.mail_sender(app)
    values: dict[str, Any] = {
        **who.to_json(),
        "name": who.name or sender.controller_name(app),
        "mail_from_name": mail.name if mail else app.settings.mail_from_name,
        "mail_from": mail.email if mail else app.settings.mail_from,
        **(entered or {}),
    }
    return admin_views.page(
        request,
        app,
        user,
        "admin_settings.html",
        current="settings",
        status=422 if error else 200,
        identity=who,
        values=values,
        error=error,
        identity_action=admin_views.link(request, PATH + "/identity"),
        mail_action=admin_views.link(request, PATH + "/mail"),
    )
