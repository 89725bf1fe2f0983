"""API keys: created and revoked by an operator, stored only as a hash, with scopes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from consentry.domain import limits
from consentry.domain.users import AuditAction, AuditEntry
from consentry.services.app import App
from consentry.services.errors import InputError


class Scope(StrEnum):
    """What a key may do; each scope includes the ones before it."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_RANK = {Scope.READ: 1, Scope.WRITE: 2, Scope.ADMIN: 3}


class NotAuthorised(Exception):
    """No key, an unknown or revoked key, or a key without the scope needed."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed (never with its secret)."""

    id: str
    name: str
    scopes: tuple[Scope, ...]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, needed: Scope) -> bool:
        """True when one of the key's scopes includes `needed`."""
        return self.revoked_at is None and any(_RANK[s] >= _RANK[needed] for s in self.scopes)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row: dict[str, object]) -> ApiKey:
    return ApiKey(
        id=str(row["id"]),
        name=str(row["name"]),
        scopes=tuple(Scope(s) for s in row["scopes"]),  # type: ignore[attr-defined]
        created_at=row["created_at"],  # type: ignore[arg-type]
        revoked_at=row["revoked_at"],  # type: ignore[arg-type]
    )


def create(app: App, name: str, scopes: list[str], actor: str | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns it and its token, which is shown once and never stored.

    With an `actor` (a user of the admin app) the admin audit log records who made it.
    """
    if not name.strip():
        raise InputError("name", "give the key a name (who or what uses it)")
    if len(name) > limits.NAME:
        raise InputError("name", limits.too_long(limits.NAME))
    try:
        parsed = sorted({Scope(s) for s in scopes}, key=_RANK.__getitem__)
    except ValueError:
        raise InputError("scope", "scopes are read, write and admin") from None
    if not parsed:
        raise InputError("scope", "give at least one scope: read, write or admin")
    key_id = f"k{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)
    with app.store.writer() as w:
        w.put_api_key(key_id, name.strip(), _hash(secret), [s.value for s in parsed])
        row = w.api_key(key_id)
        if actor is not None:
            detail = {"name": name.strip(), "scopes": [s.value for s in parsed]}
            w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.API_KEY_CREATED, key_id, detail))
    assert row is not None
    return _key(row), f"cs_{key_id}_{secret}"


def revoke(app: App, key_id: str, actor: str | None = None) -> None:
    """Revoke a key at once (recording who did, with an `actor`)."""
    with app.store.writer() as w:
        if not w.revoke_api_key(key_id):
            raise InputError("key", f"no active key {key_id!r}")
        if actor is not None:
            w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.API_KEY_REVOKED, key_id))


def list_all(app: App) -> list[ApiKey]:
    """Every key, revoked ones included."""
    with app.store.reader() as r:
        return [_key(row) for row in r.api_keys()]


def authenticate(app: App, token: str | None, needed: Scope) -> ApiKey:
    """The key a token belongs to, if it is active and has the scope; NotAuthorised otherwise."""
    if not token:
        raise NotAuthorised("an API key is required (Authorization: Bearer cs_...)")
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != "cs" or not key_id or not secret:
        raise NotAuthorised("malformed API key")
    with app.store.reader() as r:
        row = r.api_key(key_id)
    if row is None or not hmac.compare_digest(str(row["secret_hash"]), _hash(secret)):
        raise NotAuthorised("unknown API key")
    key = _key(row)
    if key.revoked_at is not None:
        raise NotAuthorised("this API key was revoked")
    if not key.allows(needed):
        raise NotAuthorised(f"this API key lacks the {needed.value} scope", status=403)
    return key
