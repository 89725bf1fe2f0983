"""Wiring the login services (`services/users.Accounts`) from an App, for the CLI and the pages."""

from __future__ import annotations

from collections.abc import Callable

from consentry.adapters.passwords import Argon2Passwords, Totp
from consentry.adapters.ratelimit import RateLimited, RateLimiter
from consentry.adapters.sql.users import SqlUsers
from consentry.bootstrap import App
from consentry.services.users import Accounts

_PASSWORDS = Argon2Passwords()
_TOTP = Totp()


def accounts(app: App) -> Accounts:
    """The users, hashes, second factor and rate limit of `app`."""
    return Accounts(
        users=SqlUsers(app.store.engine),
        passwords=_PASSWORDS,
        totp=_TOTP,
        clock=app.clock,
        ids=app.ids,
        settings=app.settings,
        attempt=_attempt(app.limiter),
    )


def _attempt(limiter: RateLimiter) -> Callable[[str, str, str], int | None]:
    def attempt(rule: str, namespace: str, key: str) -> int | None:
        try:
            limiter.hit(rule, namespace, key)
        except RateLimited as exc:
            return exc.retry_after
        return None

    return attempt
