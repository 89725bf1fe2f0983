"""The admin app's login, second factor, logout and overview (/admin): parse, call one service, render."""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from consentry.adapters.tokens import TokenInvalid, TokenUse
from consentry.bootstrap import App
from consentry.domain.users import User
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.web import admin_nav, admin_views, csrf, views
from consentry.entrypoints.web import admin_session as session
from consentry.entrypoints.web.admin_session import UserDep
from consentry.entrypoints.wired import AppDep
from consentry.services import errors, users
from consentry.services import overview as overview_service
from consentry.services.errors import InputError

LOGIN = "/admin/login"
LOGIN_SUBJECT = "admin:login"
CODE_SUBJECT = "admin:code"


class AdminRoute(views.PageRoute):
    """A page of the admin app: no session leads to the login page, a role too low to a 403."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the page route's handler (its error pages) with the session's outcomes."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except errors.SessionEnded:
                return RedirectResponse(views.action(request, LOGIN), status_code=303)
            except errors.NotAllowed:
                return views.error_page(request, "forbidden", 403)

        return guarded


router = APIRouter(route_class=AdminRoute, include_in_schema=False)
Field = Annotated[str, Form(max_length=1000)]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """The app's front door is the admin app."""
    return RedirectResponse("/admin", status_code=303)


@router.get("/admin", response_class=HTMLResponse)
def overview(request: Request, user: UserDep, app: AppDep) -> HTMLResponse:
    """Overzicht: ledger integrity, requests due, Art. 14 notices owed, campaigns running."""
    # Requests due are shown to the roles that may open Verzoeken (its menu entry).
    sees_requests = any(p.key == "requests" for p in admin_nav.menu(user))
    o = overview_service.overview(app, requests=sees_requests)
    return admin_views.page(request, app, user, "admin_overview.html", current="overview", o=o)


@router.get(LOGIN, response_class=HTMLResponse)
def login_page(request: Request, app: AppDep) -> HTMLResponse:
    """The login form."""
    return _login(request, app)


@router.post(LOGIN, response_class=HTMLResponse)
def login(
    request: Request, app: AppDep, email: Field = "", password: Field = "", token: Token = None
) -> Response:
    """Check the address and password; then the TOTP step, or straight to the overview."""
    csrf.check(app, request, token, LOGIN_SUBJECT)
    try:
        user = users.check_password(accounts(app), email, password, _client(request))
    except errors.LoginFailed:
        return _login(request, app, "failed", email, status=401)
    except errors.LockedOut as exc:
        return _locked(request, app, exc.until, email)
    except errors.TooManyAttempts as exc:
        return _locked(request, app, app.clock.now() + timedelta(seconds=exc.retry_after), email)
    if user.has_second_factor:
        return _code(request, app, session.pending(app, user))
    return _logged_in(request, app, user)


@router.post(f"{LOGIN}/code", response_class=HTMLResponse)
def login_code(
    request: Request,
    app: AppDep,
    pending: Annotated[str, Form(max_length=2000)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    token: Token = None,
) -> Response:
    """Check the TOTP code of a login whose password was right."""
    csrf.check(app, request, token, CODE_SUBJECT)
    user_id = session.pending_user_id(app, pending)
    try:
        user = users.check_code(accounts(app), user_id, code, _client(request))
    except errors.LoginFailed:
        return _code(request, app, pending, failed=True)
    except errors.LockedOut as exc:
        return _locked(request, app, exc.until, "")
    except errors.TooManyAttempts as exc:
        return _locked(request, app, app.clock.now() + timedelta(seconds=exc.retry_after), "")
    return _logged_in(request, app, user)


@router.post("/admin/logout")
def logout(request: Request, app: AppDep, user: UserDep, token: Token = None) -> Response:
    """End the user's sessions and remove the cookie."""
    csrf.check(app, request, token, session.form_subject(user))
    users.logout(accounts(app), user)
    response = RedirectResponse(views.action(request, LOGIN), status_code=303)
    session.end(app, response)
    return response


@router.get("/admin/account/totp", response_class=HTMLResponse)
def totp_page(request: Request, app: AppDep, user: UserDep) -> HTMLResponse:
    """Enrol a second factor: a new secret, shown once, confirmed with a code."""
    secret, uri = users.new_totp(accounts(app), user)
    return _totp(request, app, user, secret, uri)


@router.post("/admin/account/totp", response_class=HTMLResponse)
def totp_confirm(
    request: Request,
    app: AppDep,
    user: UserDep,
    enrol: Annotated[str, Form(max_length=2000)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    token: Token = None,
) -> Response:
    """Store the second factor once a code made with its secret is right."""
    csrf.check(app, request, token, session.form_subject(user))
    secret = _enrolled_secret(app, user, enrol)
    try:
        users.confirm_totp(accounts(app), user, secret, code)
    except InputError:
        uri = accounts(app).totp.uri(secret, user.email, "consentry")
        return _totp(request, app, user, secret, uri, failed=True)
    return RedirectResponse(views.action(request, "/admin") + "&done=totp", status_code=303)


def _enrolled_secret(app: App, user: User, enrol: str) -> str:
    try:
        claims = app.signer().read(TokenUse.ADMIN_TOTP, enrol)
    except TokenInvalid:
        raise errors.SessionEnded from None
    if claims.contact_point != user.id or not claims.purpose:
        raise errors.SessionEnded
    return claims.purpose


def _logged_in(request: Request, app: App, user: User) -> Response:
    response = RedirectResponse(views.action(request, "/admin"), status_code=303)
    session.start(app, response, user)
    return response


def _locked(request: Request, app: App, until: datetime, email: str) -> HTMLResponse:
    wait_s = max(1, math.ceil((until - app.clock.now()).total_seconds()))
    page = _login(request, app, "locked", email, status=429, minutes=math.ceil(wait_s / 60))
    page.headers["Retry-After"] = str(wait_s)
    return page


def _login(
    request: Request, app: App, error: str = "", email: str = "", status: int = 200, minutes: int = 0
) -> HTMLResponse:
    return views.render(
        request,
        "admin_login.html",
        status=status,
        error=error,
        email=email,
        minutes=minutes,
        csrf_field=csrf.FIELD,
        csrf_token=csrf.issue(app, LOGIN_SUBJECT),
        action=views.action(request, LOGIN),
    )


def _code(request: Request, app: App, pending: str, failed: bool = False) -> HTMLResponse:
    return views.render(
        request,
        "admin_code.html",
        status=401 if failed else 200,
        failed=failed,
        pending=pending,
        csrf_field=csrf.FIELD,
        csrf_token=csrf.issue(app, CODE_SUBJECT),
        action=views.action(request, f"{LOGIN}/code"),
    )


def _totp(
    request: Request, app: App, user: User, secret: str, uri: str, failed: bool = False
) -> HTMLResponse:
    enrol = app.signer().make(TokenUse.ADMIN_TOTP, user.id, secret)
    return admin_views.page(
        request,
        app,
        user,
        "admin_totp.html",
        status=422 if failed else 200,
        secret=secret,
        uri=uri,
        enrol=enrol,
        failed=failed,
        action=views.action(request, "/admin/account/totp"),
    )
