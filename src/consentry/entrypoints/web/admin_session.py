"""The admin app's session: a signed cookie naming the user, and the guards pages depend on.

The cookie holds the user's id, their session epoch and when the session began,
signed with the app's secret key; it is HttpOnly, SameSite=Lax, limited to /admin
and Secure in production. Every request reads the user again, so a disabled user,
a logout (which raises the epoch) or an expired session ends it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request, Response

from consentry.adapters.tokens import TokenInvalid, TokenUse
from consentry.bootstrap import App
from consentry.domain.users import Role, User
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.wired import AppDep
from consentry.services import errors, users

COOKIE = "consentry_admin"
PATH = "/admin"
#: How long the step between a right password and its TOTP code may take.
PENDING_MAX_S = 5 * 60


def start(app: App, response: Response, user: User) -> None:
    """Give the response a fresh session cookie for `user`."""
    began = app.clock.now().timestamp()
    token = app.signer().make(TokenUse.ADMIN_SESSION, user.id, None, e=user.session_epoch, t=began)
    response.set_cookie(
        COOKIE,
        token,
        max_age=app.settings.admin_session_minutes * 60,
        path=PATH,
        httponly=True,
        samesite="lax",
        secure=app.settings.env == "production",
    )


def end(app: App, response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(
        COOKIE, path=PATH, httponly=True, samesite="lax", secure=app.settings.env == "production"
    )


def current_user(request: Request, app: AppDep) -> User:
    """The logged-in user; SessionEnded (a redirect to the login page) when there is none."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise errors.SessionEnded
    try:
        claims = app.signer().read(TokenUse.ADMIN_SESSION, token)
        epoch, began = int(claims.extra["e"]), float(claims.extra["t"])
    except (TokenInvalid, KeyError, TypeError, ValueError):
        raise errors.SessionEnded from None
    return users.session_user(accounts(app), claims.contact_point, epoch, datetime.fromtimestamp(began, UTC))


UserDep = Annotated[User, Depends(current_user)]


def allow(*roles: Role) -> Callable[[User], User]:
    """A dependency giving the logged-in user when their role is one of `roles` (or beheerder)."""

    def guard(user: UserDep) -> User:
        return users.require(user, *roles)

    return guard


def form_subject(user: User) -> str:
    """What the CSRF tokens of a logged-in user's forms are bound to: this user's open sessions."""
    return f"admin:{user.id}:{user.session_epoch}"


def pending(app: App, user: User) -> str:
    """A token saying `user`'s password was right just now (for the TOTP step)."""
    return app.signer().make(TokenUse.ADMIN_PENDING, user.id, None, t=app.clock.now().timestamp())


def pending_user_id(app: App, token: str) -> str:
    """The user whose password was right; SessionEnded when the token is forged or too old."""
    try:
        claims = app.signer().read(TokenUse.ADMIN_PENDING, token)
        age = app.clock.now().timestamp() - float(claims.extra["t"])
    except (TokenInvalid, KeyError, TypeError, ValueError):
        raise errors.SessionEnded from None
    if not 0 <= age <= PENDING_MAX_S:
        raise errors.SessionEnded
    return claims.contact_point
