"""The login services on an in-memory user store: the `UserStore` port is all they need.

The fake keeps users and the audit log in dicts and lists; the same behaviour on
SQLite and PostgreSQL is in tests/integration/test_admin_users.py.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from consentry.adapters.passwords import Argon2Passwords, Totp
from consentry.domain.clock import FixedClock
from consentry.domain.ids import counting_ids
from consentry.domain.users import AuditAction, AuditEntry, Role, User
from consentry.services import errors, users
from consentry.settings import Settings

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


class FakeUsers:
    """Users and the audit log in memory (implements services.users.UserStore)."""

    def __init__(self) -> None:
        self.rows: dict[str, User] = {}
        self.log: list[AuditEntry] = []

    def user(self, user_id: str) -> User | None:
        return self.rows.get(user_id)

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.rows.values() if u.email == email), None)

    def users(self) -> list[User]:
        return sorted(self.rows.values(), key=lambda u: u.email)

    def add_user(self, user: User, audit: AuditEntry) -> None:
        if self.user_by_email(user.email):
            raise errors.AlreadyExists(user.email)
        self.rows[user.id] = user
        self.log.append(audit)

    def update_user(self, user_id: str, audit: AuditEntry | None = None, **changes: Any) -> None:
        self.rows[user_id] = dataclasses.replace(self.rows[user_id], **changes)
        if audit is not None:
            self.log.append(audit)

    def end_sessions(self, user_id: str, audit: AuditEntry, **changes: Any) -> None:
        epoch = self.rows[user_id].session_epoch + 1
        self.update_user(user_id, audit, session_epoch=epoch, **changes)

    def count_failure(self, user_id: str, limit: int, lock_until: datetime, audit: AuditEntry) -> bool:
        self.log.append(audit)
        failed = self.rows[user_id].failed_logins + 1
        if failed < limit:
            self.update_user(user_id, failed_logins=failed)
            return False
        self.update_user(user_id, failed_logins=0, locked_until=lock_until)
        self.log.append(AuditEntry(audit.at, None, AuditAction.LOCKOUT, audit.subject))
        return True

    def record(self, entry: AuditEntry) -> None:
        self.log.append(entry)

    def audit_log(self, limit: int = 100, before: int | None = None) -> list[AuditEntry]:
        numbered = [dataclasses.replace(e, id=n) for n, e in enumerate(self.log, start=1)]
        return [e for e in reversed(numbered) if before is None or (e.id or 0) < before][:limit]


@pytest.fixture
def acc() -> users.Accounts:
    return users.Accounts(
        users=FakeUsers(),
        passwords=Argon2Passwords(),
        totp=Totp(),
        clock=FixedClock(NOW),
        ids=counting_ids(),
        settings=Settings(admin_login_max_failures=2),
        attempt=lambda rule, namespace, key: None,
    )


def test_a_user_is_created_logs_in_and_is_locked_out_without_a_database(acc: users.Accounts) -> None:
    users.create_user(acc, "anna@example.nl", Role.PRIVACY_OFFICER, PASSWORD, actor=None)
    with pytest.raises(errors.InputError, match="exists already"):
        users.create_user(acc, "anna@example.nl", Role.PRIVACY_OFFICER, PASSWORD, actor=None)
    assert users.check_password(acc, "anna@example.nl", PASSWORD, "10.0.0.1").role is Role.PRIVACY_OFFICER
    with pytest.raises(errors.LoginFailed):
        users.check_password(acc, "anna@example.nl", "not the password", "10.0.0.1")
    with pytest.raises(errors.LockedOut) as locked:
        users.check_password(acc, "anna@example.nl", "not the password", "10.0.0.1")
    assert locked.value.until == NOW + timedelta(minutes=acc.settings.admin_lockout_minutes)
    assert [e.action for e in reversed(users.audit_log(acc))] == [
        AuditAction.USER_CREATED,
        AuditAction.LOGIN,
        AuditAction.LOGIN_FAILED,
        AuditAction.LOGIN_FAILED,
        AuditAction.LOCKOUT,
    ]


def test_a_client_over_its_limit_is_told_how_long_to_wait_and_it_is_recorded(acc: users.Accounts) -> None:
    held = dataclasses.replace(acc, attempt=lambda rule, namespace, key: 42)
    with pytest.raises(errors.TooManyAttempts) as waiting:
        users.check_password(held, "anna@example.nl", PASSWORD, "10.0.0.1")
    assert waiting.value.retry_after == 42
    assert users.audit_log(acc)[0].action is AuditAction.RATE_LIMITED


def test_a_beheerder_changes_roles_and_removes_a_second_factor_but_never_leaves_the_app_without_one(
    acc: users.Accounts,
) -> None:
    users.create_user(acc, "anna@example.nl", Role.BEHEERDER, PASSWORD, actor=None)
    piet = users.create_user(acc, "piet@example.nl", Role.MARKETEER, PASSWORD, actor="anna@example.nl")
    assert (
        users.change_role(acc, "piet@example.nl", "privacy_officer", "anna@example.nl").role
        is Role.PRIVACY_OFFICER
    )
    with pytest.raises(errors.InputError, match="last active beheerder") as refused:
        users.change_role(acc, "anna@example.nl", "read_only", "anna@example.nl")
    assert refused.value.field == "role"
    with pytest.raises(errors.InputError, match="last active beheerder"):
        users.disable_user(acc, "anna@example.nl", "anna@example.nl")
    acc.users.update_user(piet.id, totp_secret=acc.totp.new_secret())
    reset = users.reset_second_factor(acc, "piet@example.nl", "anna@example.nl")
    assert not reset.has_second_factor and reset.session_epoch == piet.session_epoch + 1
    # With a second beheerder, the first may step down.
    users.change_role(acc, "piet@example.nl", Role.BEHEERDER, "anna@example.nl")
    assert users.change_role(acc, "anna@example.nl", "read_only", "piet@example.nl").role is Role.READ_ONLY
    assert [(e.action, e.actor) for e in reversed(users.audit_log(acc, limit=4))] == [
        (AuditAction.ROLE_CHANGED, "anna@example.nl"),
        (AuditAction.TOTP_RESET, "anna@example.nl"),
        (AuditAction.ROLE_CHANGED, "anna@example.nl"),
        (AuditAction.ROLE_CHANGED, "piet@example.nl"),
    ]
    # The CLI's operator (no actor) may disable the last beheerder: they can make another.
    users.disable_user(acc, "piet@example.nl", None)
    assert not users.find(acc, "piet@example.nl").active
