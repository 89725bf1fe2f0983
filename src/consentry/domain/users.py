"""The admin app's users, their roles, and the audit log's entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """What a user of the admin app may do (DESIGN.md, "Admin pages")."""

    #: Everything, users and settings included.
    BEHEERDER = "beheerder"
    #: Contacts, imports, forms, audiences, campaigns.
    MARKETEER = "marketeer"
    #: Contacts, proof, requests, retention, audit; no sending.
    PRIVACY_OFFICER = "privacy_officer"
    #: Reads what the others see; changes nothing.
    READ_ONLY = "read_only"


@dataclass(frozen=True, slots=True)
class User:
    """A user as stored (the password only as its hash)."""

    id: str
    email: str
    role: Role
    password_hash: str
    created_at: datetime
    totp_secret: str | None = None
    totp_last_step: int | None = None
    session_epoch: int = 0
    failed_logins: int = 0
    locked_until: datetime | None = None
    disabled_at: datetime | None = None

    @property
    def active(self) -> bool:
        """True unless the user was disabled."""
        return self.disabled_at is None

    @property
    def has_second_factor(self) -> bool:
        """True when a login also needs a TOTP code."""
        return self.totp_secret is not None


class AuditAction(StrEnum):
    """What the admin audit log records."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKOUT = "lockout"
    RATE_LIMITED = "rate_limited"
    LOGOUT = "logout"
    USER_CREATED = "user_created"
    USER_DISABLED = "user_disabled"
    TOTP_ENROLLED = "totp_enrolled"
    TOTP_RESET = "totp_reset"
    ROLE_CHANGED = "role_changed"
    PURPOSE_SAVED = "purpose_saved"
    FORM_SAVED = "form_saved"
    API_KEY_CREATED = "api_key_created"
    API_KEY_REVOKED = "api_key_revoked"
    SETTINGS_CHANGED = "settings_changed"
    IMPORTED = "imported"
    CAMPAIGN_SAVED = "campaign_saved"
    TEST_SENT = "test_sent"
    CAMPAIGN_SENT = "campaign_sent"
    CAMPAIGN_PAUSED = "campaign_paused"
    LIST_EXPORTED = "list_exported"
    OBJECTION_RECORDED = "objection_recorded"
    ACCESS_EXPORTED = "access_exported"
    REQUEST_CHANGED = "request_changed"
    RETENTION_RUN = "retention_run"
    CONTACT_ERASED = "contact_erased"
    NOTE_RECORDED = "note_recorded"
    REGISTER_IMPORTED = "register_imported"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action: who (`actor`, None before anyone logged in) did what to whom."""

    at: datetime
    actor: str | None
    action: AuditAction
    subject: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    #: Its place in the log (set once stored; the audit page pages by it).
    id: int | None = None
