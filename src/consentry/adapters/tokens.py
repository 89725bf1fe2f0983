"""Signed tokens for public links (itsdangerous, HMAC-SHA256).

A token names what it is for (its salt), the contact point, and the purpose
or consents it covers. Nothing in it is secret, but nothing in it can be
changed: a forged, truncated or re-purposed token fails its signature. The signer
implements `services.ports.Signer`: its errors are the services' own.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from consentry.services.errors import TokenExpired, TokenInvalid
from consentry.services.tokens import MIN_SECRET_CHARS, Claims, TokenUse

__all__ = ["MIN_SECRET_CHARS", "Claims", "TokenExpired", "TokenInvalid", "TokenSigner", "TokenUse"]


class TokenSigner:
    """Makes and checks tokens with one secret key."""

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"the secret key must be at least {MIN_SECRET_CHARS} characters")
        self._secret = secret
        # Serializers hold no per-call state: made once, shared by every thread (campaigns sign
        # two links a message, and building one costs as much as the signature).
        self._timed_by_use = {
            u: URLSafeTimedSerializer(secret, salt=f"consentry.{u.value}") for u in TokenUse
        }
        self._plain_by_use = {u: URLSafeSerializer(secret, salt=f"consentry.{u.value}") for u in TokenUse}

    def _timed(self, use: TokenUse) -> URLSafeTimedSerializer:
        return self._timed_by_use[use]

    def _plain(self, use: TokenUse) -> URLSafeSerializer:
        return self._plain_by_use[use]

    def make(self, use: TokenUse, contact_point: str, purpose: str | None = None, **extra: Any) -> str:
        """A token for `use`, bound to a contact point (and purpose)."""
        body = {"c": contact_point, "p": purpose, **({"x": extra} if extra else {})}
        if use in (TokenUse.CONFIRM, TokenUse.CSRF):
            return str(self._timed(use).dumps(body))
        return str(self._plain(use).dumps(body))

    def read(self, use: TokenUse, token: str, max_age_s: int | None = None) -> Claims:
        """Check a token and return its claims; TokenInvalid or TokenExpired otherwise."""
        try:
            if use in (TokenUse.CONFIRM, TokenUse.CSRF):
                body = self._timed(use).loads(token, max_age=max_age_s)
            else:
                body = self._plain(use).loads(token)
        except SignatureExpired:
            raise TokenExpired(use.value) from None
        except BadSignature:
            raise TokenInvalid(use.value) from None
        if not isinstance(body, dict) or not isinstance(body.get("c"), str):
            raise TokenInvalid(use.value)
        purpose = body.get("p")
        extra = body.get("x") or {}
        return Claims(body["c"], purpose if isinstance(purpose, str) else None, extra)
