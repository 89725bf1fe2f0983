"""Signed public links: what a token opens, what it says, and the port that makes and checks them.

`adapters/tokens.py` implements `Signer` with itsdangerous; a bad token raises the
services' `TokenInvalid` or `TokenExpired` (`services/errors.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class TokenUse(StrEnum):
    """What a token opens."""

    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    CSRF = "csrf"
    #: The admin app's session cookie, its login waiting for a second factor, a TOTP secret being enrolled.
    ADMIN_SESSION = "admin_session"
    ADMIN_PENDING = "admin_pending"
    ADMIN_TOTP = "admin_totp"


#: The shortest secret key accepted (an HMAC key much shorter is guessable).
MIN_SECRET_CHARS = 16


@dataclass(frozen=True, slots=True)
class Claims:
    """What a valid token says."""

    contact_point: str
    purpose: str | None
    extra: dict[str, Any]


class Signer(Protocol):
    """Makes and checks the tokens of public links; TokenInvalid or TokenExpired for a bad one."""

    def make(self, use: TokenUse, contact_point: str, purpose: str | None = None, **extra: Any) -> str:
        """A token for `use`, bound to a contact point (and purpose)."""

    def read(self, use: TokenUse, token: str, max_age_s: int | None = None) -> Claims:
        """Check a token and return its claims."""
