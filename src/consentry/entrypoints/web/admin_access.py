"""Who gets in: API keys (/admin/settings/keys) and users (/admin/settings/users). Beheerder only.

A new key's secret is shown once, on the answer to the post that made it, and never again.
Every change is recorded in the admin audit log with the acting user.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse

from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.users import Role, User
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.web import admin_views, csrf
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.web.admin_nav import Beheerder
from consentry.entrypoints.wired import AppDep
from consentry.services import apikeys, users
from consentry.services.errors import InputError

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
KEYS = "/admin/settings/keys"
USERS = "/admin/settings/users"
Email = Annotated[str, Form(max_length=limits.EMAIL)]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]


@router.get(KEYS, response_class=HTMLResponse)
def keys_page(request: Request, app: AppDep, user: Beheerder) -> HTMLResponse:
    """Every API key, revoked ones included; never a secret."""
    return _keys(request, app, user)


@router.post(KEYS, response_class=HTMLResponse)
def create_key(
    request: Request,
    app: AppDep,
    user: Beheerder,
    name: Annotated[str, Form(max_length=limits.NAME)] = "",
    scope: Annotated[str, Form(max_length=20)] = "read",
    token: Token = None,
) -> HTMLResponse:
    """Make a key and show its secret, this once."""
    admin_views.check(app, request, user, token)
    try:
        key, secret = apikeys.create(app, name, [scope], actor=user.email)
    except InputError as exc:
        return _keys(request, app, user, error=exc, entered={"name": name})
    return _keys(request, app, user, created=key, secret=secret)


@router.post(KEYS + "/{key_id}/revoke")
def revoke_key(key_id: str, request: Request, app: AppDep, user: Beheerder, token: Token = None) -> Response:
    """Revoke a key at once."""
    admin_views.check(app, request, user, token)
    try:
        apikeys.revoke(app, key_id, actor=user.email)
    except InputError as exc:
        return _keys(request, app, user, error=exc)
    return admin_views.done(request, KEYS, "revoked", key=key_id)


@router.get(USERS, response_class=HTMLResponse)
def users_page(request: Request, app: AppDep, user: Beheerder) -> HTMLResponse:
    """Every user with their role, second factor and state."""
    return _users(request, app, user)


@router.post(USERS, response_class=HTMLResponse)
def create_user(
    request: Request,
    app: AppDep,
    user: Beheerder,
    email: Email = "",
    role: Annotated[str, Form(max_length=20)] = "",
    password: Annotated[str, Form(max_length=users.MAX_PASSWORD + 1)] = "",
    token: Token = None,
) -> Response:
    """Add a user with a first password (they can add a second factor once logged in)."""
    admin_views.check(app, request, user, token)
    try:
        made = users.create_user(accounts(app), email, role, password, actor=user.email)
    except InputError as exc:
        return _users(request, app, user, error=exc, entered={"email": email, "role": role})
    return admin_views.done(request, USERS, "created", email=made.email)


@router.post(USERS + "/role", response_class=HTMLResponse)
def change_role(
    request: Request,
    app: AppDep,
    user: Beheerder,
    email: Email = "",
    role: Annotated[str, Form(max_length=20)] = "",
    token: Token = None,
) -> Response:
    """Give a user another role."""
    admin_views.check(app, request, user, token)
    return _change(
        request, app, user, "role", lambda: users.change_role(accounts(app), email, role, user.email)
    )


@router.post(USERS + "/disable", response_class=HTMLResponse)
def disable(
    request: Request, app: AppDep, user: Beheerder, email: Email = "", token: Token = None
) -> Response:
    """Disable a user: their sessions end and they cannot log in."""
    admin_views.check(app, request, user, token)
    return _change(
        request, app, user, "disabled", lambda: users.disable_user(accounts(app), email, user.email)
    )


@router.post(USERS + "/totp-reset", response_class=HTMLResponse)
def reset_totp(
    request: Request, app: AppDep, user: Beheerder, email: Email = "", token: Token = None
) -> Response:
    """Remove a user's second factor (a lost phone)."""
    admin_views.check(app, request, user, token)
    return _change(
        request, app, user, "totp", lambda: users.reset_second_factor(accounts(app), email, user.email)
    )


def _change(request: Request, app: App, user: User, what: str, change: Any) -> Response:
    try:
        changed: User = change()
    except InputError as exc:
        return _users(request, app, user, error=exc)
    return admin_views.done(request, USERS, what, email=changed.email)


def _keys(request: Request, app: App, user: User, **context: Any) -> HTMLResponse:
    error = context.setdefault("error", None)
    context.setdefault("entered", {})
    return admin_views.page(
        request,
        app,
        user,
        "admin_keys.html",
        current="settings",
        status=422 if error else 200,
        keys=apikeys.list_all(app),
        scopes=[s.value for s in apikeys.Scope],
        key_id=request.query_params.get("key", ""),
        action=admin_views.link(request, KEYS),
        revoke_action=lambda key_id: admin_views.link(request, f"{KEYS}/{key_id}/revoke"),
        **context,
    )


def _users(request: Request, app: App, user: User, **context: Any) -> HTMLResponse:
    error = context.setdefault("error", None)
    context.setdefault("entered", {})
    return admin_views.page(
        request,
        app,
        user,
        "admin_users.html",
        current="settings",
        status=422 if error else 200,
        people=users.list_users(accounts(app)),
        roles=[r.value for r in Role],
        email=request.query_params.get("email", ""),
        action=lambda part="": admin_views.link(request, USERS + part),
        **context,
    )
