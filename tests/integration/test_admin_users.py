"""The admin app's users on both stores: roles, passwords, rehashing, TOTP, lockout, sessions, audit."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from conftest import NOW
from consentry.adapters.passwords import Argon2Passwords, Totp
from consentry.bootstrap import App
from consentry.domain.clock import FixedClock
from consentry.domain.users import AuditAction, Role
from consentry.entrypoints.accounts import accounts
from consentry.services import errors, users
from consentry.services.errors import InputError
from consentry.services.users import Accounts

PASSWORD = "correct horse battery staple"


@pytest.fixture
def acc(app: App) -> Accounts:
    return accounts(app)


def _advance(app: App, **delta: float) -> None:
    assert isinstance(app.clock, FixedClock)
    app.clock.moment += timedelta(**delta)


def _actions(acc: Accounts) -> list[AuditAction]:
    return [e.action for e in reversed(users.audit_log(acc))]


def test_a_beheerder_is_created_listed_and_stored_only_as_an_argon2_hash(acc: Accounts) -> None:
    made = users.create_user(acc, " Anna@Example.NL ", "beheerder", PASSWORD, actor=None)
    assert made.email == "anna@example.nl" and made.role is Role.BEHEERDER
    assert made.password_hash.startswith("$argon2id$") and PASSWORD not in made.password_hash
    assert [u.email for u in users.list_users(acc)] == ["anna@example.nl"]
    assert _actions(acc) == [AuditAction.USER_CREATED]


def test_a_second_user_with_the_same_address_a_bad_role_or_a_short_password_is_refused(acc: Accounts) -> None:
    users.create_user(acc, "anna@example.nl", Role.MARKETEER, PASSWORD, actor=None)
    with pytest.raises(InputError, match="exists already"):
        users.create_user(acc, "ANNA@example.nl", Role.READ_ONLY, PASSWORD, actor=None)
    with pytest.raises(InputError, match="role"):
        users.create_user(acc, "bob@example.nl", "admin", PASSWORD, actor=None)
    with pytest.raises(InputError, match="12 characters"):
        users.create_user(acc, "bob@example.nl", "read_only", "short", actor=None)
    with pytest.raises(InputError, match="not an e-mail address"):
        users.create_user(acc, "bob", "read_only", PASSWORD, actor=None)


def test_the_right_password_logs_in_and_a_wrong_one_or_an_unknown_address_fails_alike(acc: Accounts) -> None:
    users.create_user(acc, "anna@example.nl", Role.PRIVACY_OFFICER, PASSWORD, actor=None)
    assert users.check_password(acc, "anna@example.nl", PASSWORD, "10.0.0.1").email == "anna@example.nl"
    with pytest.raises(errors.LoginFailed):
        users.check_password(acc, "anna@example.nl", PASSWORD + "!", "10.0.0.1")
    with pytest.raises(errors.LoginFailed):
        users.check_password(acc, "nobody@example.nl", PASSWORD, "10.0.0.1")
    log = users.audit_log(acc)
    assert [e.action for e in log[:3]] == [AuditAction.LOGIN_FAILED] * 2 + [AuditAction.LOGIN]
    assert log[2].actor == "anna@example.nl" and log[0].detail["reason"] == "unknown"
    assert log[0].subject == "*@example.nl"  # an address that is no user's is not kept in the log
    assert log[1].subject == "anna@example.nl"


def test_a_hash_with_older_parameters_is_replaced_at_the_next_login(acc: Accounts) -> None:
    weak = dataclasses.replace(acc, passwords=Argon2Passwords(PasswordHasher(time_cost=1, memory_cost=8192)))
    old = users.create_user(weak, "anna@example.nl", Role.MARKETEER, PASSWORD, actor=None)
    assert acc.passwords.needs_rehash(old.password_hash)
    users.check_password(acc, "anna@example.nl", PASSWORD, "10.0.0.1")
    new = users.find(acc, "anna@example.nl").password_hash
    assert new != old.password_hash and not acc.passwords.needs_rehash(new)
    assert acc.passwords.verify(new, PASSWORD)


def test_failures_in_a_row_lock_the_user_out_even_with_the_right_password_until_the_lock_ends(
    app: App, acc: Accounts
) -> None:
    users.create_user(acc, "anna@example.nl", Role.MARKETEER, PASSWORD, actor=None)
    limit = app.settings.admin_login_max_failures
    for _ in range(limit - 1):
        with pytest.raises(errors.LoginFailed):
            users.check_password(acc, "anna@example.nl", "wrong password!", "10.0.0.1")
    with pytest.raises(errors.LockedOut) as locked:
        users.check_password(acc, "anna@example.nl", "wrong password!", "10.0.0.1")
    assert locked.value.until == NOW + timedelta(minutes=app.settings.admin_lockout_minutes)
    with pytest.raises(errors.LockedOut):
        users.check_password(acc, "anna@example.nl", PASSWORD, "10.0.0.1")
    assert AuditAction.LOCKOUT in _actions(acc)
    _advance(app, minutes=app.settings.admin_lockout_minutes, seconds=1)
    assert users.check_password(acc, "anna@example.nl", PASSWORD, "10.0.0.1").email == "anna@example.nl"
    assert users.find(acc, "anna@example.nl").failed_logins == 0


def test_a_success_resets_the_count_of_failures(app: App, acc: Accounts) -> None:
    users.create_user(acc, "anna@example.nl", Role.MARKETEER, PASSWORD, actor=None)
    for _ in range(app.settings.admin_login_max_failures - 1):
        with pytest.raises(errors.LoginFailed):
            users.check_password(acc, "anna@example.nl", "wrong password!", "10.0.0.1")
    users.check_password(acc, "anna@example.nl", PASSWORD, "10.0.0.1")
    with pytest.raises(errors.LoginFailed):
        users.check_password(acc, "anna@example.nl", "wrong password!", "10.0.0.1")


def test_one_client_is_rate_limited_whichever_addresses_it_tries(app: App) -> None:
    app.settings = app.settings.model_copy(update={"admin_login_limit_per_client": "3/hour"})
    acc = accounts(app)
    for n in range(3):
        with pytest.raises(errors.LoginFailed):
            users.check_password(acc, f"guess{n}@example.nl", PASSWORD, "10.0.0.9")
    with pytest.raises(errors.TooManyAttempts):
        users.check_password(acc, "guess9@example.nl", PASSWORD, "10.0.0.9")
    assert _actions(acc)[-1] is AuditAction.RATE_LIMITED
    # the addresses tried are no user's: the (never erased) audit log keeps their domain only
    assert {e.subject for e in users.audit_log(acc)} == {"*@example.nl"}
    with pytest.raises(errors.LoginFailed):  # another client is not held back
        users.check_password(acc, "guess9@example.nl", PASSWORD, "10.0.0.10")


def test_a_second_factor_is_enrolled_with_a_code_and_then_asked_for_each_code_once(
    app: App, acc: Accounts
) -> None:
    anna = users.create_user(acc, "anna@example.nl", Role.BEHEERDER, PASSWORD, actor=None)
    secret, uri = users.new_totp(acc, anna)
    assert uri.startswith("otpauth://totp/consentry:anna%40example.nl?secret=" + secret)
    first = Totp().code(secret, NOW.timestamp())
    with pytest.raises(InputError, match="code"):
        users.confirm_totp(acc, anna, secret, f"{(int(first) + 1) % 1_000_000:06d}")
    anna = users.confirm_totp(acc, anna, secret, first)
    assert anna.has_second_factor

    _advance(app, seconds=30)
    user = users.check_password(acc, "anna@example.nl", PASSWORD, "10.0.0.1")
    assert user.has_second_factor
    assert _actions(acc)[-1] is AuditAction.TOTP_ENROLLED  # the password alone is no login
    code = Totp().code(secret, app.clock.now().timestamp())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(errors.LoginFailed):
        users.check_code(acc, user.id, wrong, "10.0.0.1")
    assert users.check_code(acc, user.id, code, "10.0.0.1").email == "anna@example.nl"
    with pytest.raises(errors.LoginFailed):  # the same code, replayed
        users.check_code(acc, user.id, code, "10.0.0.1")
    assert _actions(acc)[-3:] == [AuditAction.LOGIN_FAILED, AuditAction.LOGIN, AuditAction.LOGIN_FAILED]


def test_a_session_ends_when_it_expires_at_logout_and_when_its_user_is_disabled(
    app: App, acc: Accounts
) -> None:
    anna = users.create_user(acc, "anna@example.nl", Role.MARKETEER, PASSWORD, actor=None)
    began = app.clock.now()
    assert users.session_user(acc, anna.id, 0, began) == anna
    _advance(app, minutes=app.settings.admin_session_minutes, seconds=1)
    with pytest.raises(errors.SessionEnded):
        users.session_user(acc, anna.id, 0, began)

    users.logout(acc, anna)
    with pytest.raises(errors.SessionEnded):
        users.session_user(acc, anna.id, 0, app.clock.now())
    assert users.session_user(acc, anna.id, 1, app.clock.now()).session_epoch == 1

    users.disable_user(acc, "anna@example.nl", actor="boss@example.nl")
    with pytest.raises(errors.SessionEnded):
        users.session_user(acc, anna.id, 2, app.clock.now())
    with pytest.raises(errors.LoginFailed):
        users.check_password(acc, "anna@example.nl", PASSWORD, "10.0.0.1")
    disabled = users.audit_log(acc)[1]
    assert (disabled.action, disabled.actor, disabled.subject) == (
        AuditAction.USER_DISABLED,
        "boss@example.nl",
        "anna@example.nl",
    )


def test_the_role_guard_lets_a_role_through_and_the_beheerder_everywhere(acc: Accounts) -> None:
    made = {r: users.create_user(acc, f"{r.value}@example.nl", r, PASSWORD, actor=None) for r in Role}
    assert users.require(made[Role.PRIVACY_OFFICER], Role.PRIVACY_OFFICER)
    assert users.require(made[Role.BEHEERDER], Role.PRIVACY_OFFICER)
    for role in (Role.MARKETEER, Role.READ_ONLY):
        with pytest.raises(errors.NotAllowed):
            users.require(made[role], Role.PRIVACY_OFFICER)
