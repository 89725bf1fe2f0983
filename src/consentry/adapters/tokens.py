"""Signed tokens for public links (itsdangerous: HMAC-SHA1 under a key derived from the secret and the use).

A token names what it is for (its salt), the contact point, and the purpose
or consents it covers. Nothing in it is secret, but nothing in it can be
changed: a forged, truncated or re-purposed token fails its signature. The signer
implements `services.ports.Signer`: its errors are the services' own.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from itsdangerous import (
    BadSignature,
    Serializer,
    SignatureExpired,
    Signer,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)
from itsdangerous.encoding import base64_encode

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
        # two links a message, and building one costs as much as the signature). The plain
        # ones also keep one signer, its key derived once, and one JSON encoder, which
        # itsdangerous makes again for every token, and they skip its zlib attempt: the same
        # tokens, byte for byte, for any payload zlib cannot shorten (all real links), at a
        # fifth of the cost (see `_PlainSerializer`).
        self._timed_by_use = {
            u: URLSafeTimedSerializer(secret, salt=f"consentry.{u.value}", serializer=_CompactJSON)
            for u in TokenUse
        }
        self._plain_by_use = {u: _PlainSerializer(secret, f"consentry.{u.value}") for u in TokenUse}

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


class _CompactJSON:
    """itsdangerous' compact JSON (no spaces, not ASCII-escaped), its encoder made once, not per token."""

    _encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def loads(payload: str | bytes) -> Any:
        return json.loads(payload)

    @classmethod
    def dumps(cls, obj: Any) -> str:
        return cls._encoder.encode(obj)


class _KeyOnce(Signer):
    """itsdangerous' signer, its key derived once (itsdangerous derives it again for every token)."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is not None:
            return super().derive_key(secret_key)
        derived: bytes | None = self.__dict__.get("_derived")
        if derived is None:
            derived = self.__dict__["_derived"] = super().derive_key()
        return derived


class _PlainSerializer(URLSafeSerializer):
    """itsdangerous' URL-safe serializer with one signer (not a new one per token), never compressing.

    itsdangerous tries zlib on every payload and keeps the result when shorter. A link's
    payload (a point id, a purpose key, a campaign key: ~60-100 bytes of JSON) does not
    get shorter, and the attempt costs more than the rest of the token: zlib allocates
    ~260 KB for it, 6 to 60 µs a call depending on malloc's heap. So the payload is written
    as itsdangerous writes an incompressible one; `loads` still reads compressed tokens.
    """

    def __init__(self, secret: str, salt: str) -> None:
        # hashlib's own sha1, not itsdangerous' default (a Python function calling it): hmac
        # recognises OpenSSL's constructor and computes the HMAC in C (~1 µs a token less);
        # the same algorithm, so the same signatures.
        super().__init__(
            secret,
            salt=salt,
            serializer=_CompactJSON,
            signer=_KeyOnce,
            signer_kwargs={"digest_method": hashlib.sha1},
        )
        self._signer = super().make_signer()

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        return self._signer if salt is None else super().make_signer(salt)

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))
