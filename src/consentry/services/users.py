"""Who logs in to the admin app: users and roles, passwords, a second factor, lockout, sessions.

A login is checked in this order, and every outcome is written to the audit log:
1. the client's rate limit (too many attempts from one address: refused before any check);
2. the user: unknown or disabled addresses fail exactly like a wrong password (same message,
   and a hash is still checked so the answer takes as long);
3. the lockout: a user locked after too many failures in a row is refused until it ends;
4. the password (Argon2id; a hash made with older parameters is replaced now that the
   password is known);
5. the second factor, when the user enrolled one: a TOTP code, each accepted only once.
A failure at 4 or 5 counts towards the lockout; a success resets the count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from consentry.domain.clock import Clock
from consentry.domain.ids import IdFactory
from consentry.domain.limits import EMAIL as MAX_EMAIL
from consentry.domain.users import AuditAction, AuditEntry, Role, User
from consentry.services.errors import (
    AlreadyExists,
    InputError,
    LockedOut,
    LoginFailed,
    NotAllowed,
    SessionEnded,
    TooManyAttempts,
    choice,
)
from consentry.settings import Settings

MIN_PASSWORD = 12
MAX_PASSWORD = 1000


class UserStore(Protocol):
    """The port the users live behind (`adapters/sql/users.SqlUsers`)."""

    def user(self, user_id: str) -> User | None:
        """A user by id."""

    def user_by_email(self, email: str) -> User | None:
        """A user by normalised e-mail address."""

    def users(self) -> list[User]:
        """Every user, by e-mail address."""

    def add_user(self, user: User, audit: AuditEntry) -> None:
        """Store a new user (AlreadyExists when the address is taken) and the audit entry."""

    def update_user(self, user_id: str, audit: AuditEntry | None = None, **changes: object) -> None:
        """Change some of a user's columns, with an audit entry."""

    def end_sessions(self, user_id: str, audit: AuditEntry, **changes: object) -> None:
        """End every open session of the user, with other changes and an audit entry."""

    def count_failure(self, user_id: str, limit: int, lock_until: datetime, audit: AuditEntry) -> bool:
        """Count a failed login; True when it locked the user."""

    def record(self, entry: AuditEntry) -> None:
        """Add one entry to the audit log."""

    def audit_log(self, limit: int = 100, before: int | None = None) -> list[AuditEntry]:
        """The newest audit entries (older than entry `before`, if given), newest first."""


class Passwords(Protocol):
    """Password hashing (`adapters/passwords.Argon2Passwords`)."""

    def hash(self, password: str) -> str:
        """A new salted hash."""

    def verify(self, stored: str, password: str) -> bool:
        """True when the password matches."""

    def needs_rehash(self, stored: str) -> bool:
        """True when the hash's parameters are not the current ones."""


class SecondFactor(Protocol):
    """TOTP (`adapters/passwords.Totp`)."""

    def new_secret(self) -> str:
        """A fresh secret."""

    def uri(self, secret: str, account: str, issuer: str) -> str:
        """The otpauth:// URI."""

    def step(self, secret: str, code: str, at: float) -> int | None:
        """The time step of a valid code, or None."""


@dataclass(frozen=True, slots=True)
class Accounts:
    """What the login services work with (wired by `entrypoints/accounts.py`)."""

    users: UserStore
    passwords: Passwords
    totp: SecondFactor
    clock: Clock
    ids: IdFactory
    settings: Settings
    #: Counts an attempt under a rule, namespace and key: None while within the rule, else the
    #: seconds until the next attempt is allowed.
    attempt: Callable[[str, str, str], int | None]


def _entry(
    acc: Accounts, action: AuditAction, actor: str | None, subject: str | None = None, **detail: object
) -> AuditEntry:
    return AuditEntry(at=acc.clock.now(), actor=actor, action=action, subject=subject, detail=detail)


def normalise_email(raw: str) -> str:
    """An address as users are stored under it: trimmed, lower case; InputError when it is none."""
    email = raw.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > MAX_EMAIL or any(c.isspace() for c in email):
        raise InputError("email", f"{raw[:MAX_EMAIL]!r} is not an e-mail address")
    return email


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError("password", f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputError("password", f"a password has at most {MAX_PASSWORD} characters")


# -- managing users -----------------------------------------------------------------------------


def create_user(acc: Accounts, email: str, role: str | Role, password: str, actor: str | None) -> User:
    """Add a user (the first beheerder is made with the CLI, `actor` None)."""
    address = normalise_email(email)
    kind = choice(Role, "role", role)
    _check_password(password)
    user = User(
        id=acc.ids("u"),
        email=address,
        role=kind,
        password_hash=acc.passwords.hash(password),
        created_at=acc.clock.now(),
    )
    try:
        acc.users.add_user(
            user, _entry(acc, AuditAction.USER_CREATED, actor, user.email, role=user.role.value)
        )
    except AlreadyExists:
        raise InputError("email", f"a user {address!r} exists already") from None
    return user


def list_users(acc: Accounts) -> list[User]:
    """Every user, by e-mail address."""
    return acc.users.users()


def find(acc: Accounts, email: str) -> User:
    """A user by e-mail address; InputError naming the address when there is none."""
    user = acc.users.user_by_email(normalise_email(email))
    if user is None:
        raise InputError("email", f"no user {email.strip()!r}")
    return user


def disable_user(acc: Accounts, email: str, actor: str | None) -> User:
    """Disable a user: no more logins, and every open session ends now."""
    user = find(acc, email)
    if user.active:
        _keep_a_beheerder(acc, user, actor)
        acc.users.end_sessions(
            user.id, _entry(acc, AuditAction.USER_DISABLED, actor, user.email), disabled_at=acc.clock.now()
        )
    return find(acc, email)


def change_role(acc: Accounts, email: str, role: str | Role, actor: str | None) -> User:
    """Give a user another role (from their next page on: every request reads the role again)."""
    user = find(acc, email)
    kind = choice(Role, "role", role)
    if kind is not user.role:
        if kind is not Role.BEHEERDER:
            _keep_a_beheerder(acc, user, actor)
        entry = _entry(acc, AuditAction.ROLE_CHANGED, actor, user.email, old=user.role.value, new=kind.value)
        acc.users.update_user(user.id, entry, role=kind)
    return find(acc, email)


def reset_second_factor(acc: Accounts, email: str, actor: str | None) -> User:
    """Remove a user's second factor (a lost phone): their next login asks only for the password,
    and their open sessions end, so whoever holds the phone's codes is out too."""
    user = find(acc, email)
    if user.has_second_factor:
        entry = _entry(acc, AuditAction.TOTP_RESET, actor, user.email)
        acc.users.end_sessions(user.id, entry, totp_secret=None, totp_last_step=None)
    return find(acc, email)


def _keep_a_beheerder(acc: Accounts, user: User, actor: str | None) -> None:
    """In the app (an `actor`), refuse to take away the last active beheerder: nobody could manage
    users or settings there any more. The CLI (no actor) may: its operator can make another."""
    if actor is None or user.role is not Role.BEHEERDER or not user.active:
        return
    others = [u for u in acc.users.users() if u.role is Role.BEHEERDER and u.active and u.id != user.id]
    if not others:
        raise InputError("role", f"{user.email} is the last active beheerder; make another one first")


def audit_log(acc: Accounts, limit: int = 100, before: int | None = None) -> list[AuditEntry]:
    """The newest entries of the admin audit log (older than entry `before`, if given)."""
    return acc.users.audit_log(limit, before)


# -- logging in ---------------------------------------------------------------------------------

#: Checked against when the address is unknown, so that such a login takes as long as a real one.
_UNKNOWN = "$argon2id$v=19$m=65536,t=3,p=4$BoS+S8c0ariRbvTTwxkPjg$98CVONRixwbJ84R6UcLRjW7wv65y7D1ioV2LAcPyTbo"


def check_password(acc: Accounts, email: str, password: str, client: str) -> User:
    """Steps 1-4 of a login. The user is logged in unless `has_second_factor`: then `check_code`."""
    typed = email.strip().lower()[:MAX_EMAIL]
    _limit(acc, client, typed)
    user = acc.users.user_by_email(typed)
    if user is None or not user.active:
        acc.passwords.verify(_UNKNOWN, password[:MAX_PASSWORD])
        who = typed if user is not None else _not_a_user(typed)
        acc.users.record(_entry(acc, AuditAction.LOGIN_FAILED, None, who, reason="unknown", client=client))
        raise LoginFailed
    _refuse_locked(acc, user, client)
    if len(password) > MAX_PASSWORD or not acc.passwords.verify(user.password_hash, password):
        _failed(acc, user, "password", client)
    if acc.passwords.needs_rehash(user.password_hash):
        # The only moment the password is known: take the current parameters now.
        acc.users.update_user(user.id, password_hash=acc.passwords.hash(password))
    if not user.has_second_factor:
        _succeeded(acc, user, client)
    return user


def check_code(acc: Accounts, user_id: str, code: str, client: str) -> User:
    """Step 5: the TOTP code of a user whose password was right a moment ago."""
    _limit(acc, client, None)
    user = acc.users.user(user_id)
    if user is None or not user.active or user.totp_secret is None:
        raise LoginFailed
    _refuse_locked(acc, user, client)
    step = acc.totp.step(user.totp_secret, code, acc.clock.now().timestamp())
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        _failed(acc, user, "code", client)
    acc.users.update_user(user.id, totp_last_step=step)
    _succeeded(acc, user, client)
    return user


def _limit(acc: Accounts, client: str, typed: str | None) -> None:
    wait = acc.attempt(acc.settings.admin_login_limit_per_client, "admin-login", client)
    if wait is not None:
        known = typed is not None and acc.users.user_by_email(typed) is not None
        subject = typed if known or typed is None else _not_a_user(typed)
        acc.users.record(_entry(acc, AuditAction.RATE_LIMITED, None, subject, client=client))
        raise TooManyAttempts(wait)


def _not_a_user(typed: str) -> str | None:
    """What the audit log keeps of an address typed at the login that is no user's: its domain.

    The log is hash-chained and kept as long as the installation: an entry cannot be erased
    without breaking the chain, so it holds no one's address but the users' own (someone
    may type a customer's address, or their own private one, by mistake).
    """
    local, at, domain = typed.rpartition("@")
    return f"*@{domain[:200]}" if at and local else None


def _refuse_locked(acc: Accounts, user: User, client: str) -> None:
    if user.locked_until is not None and user.locked_until > acc.clock.now():
        acc.users.record(
            _entry(acc, AuditAction.LOGIN_FAILED, None, user.email, reason="locked", client=client)
        )
        raise LockedOut(user.locked_until)


def _failed(acc: Accounts, user: User, reason: str, client: str) -> None:
    until = acc.clock.now() + timedelta(minutes=acc.settings.admin_lockout_minutes)
    entry = _entry(acc, AuditAction.LOGIN_FAILED, None, user.email, reason=reason, client=client)
    if acc.users.count_failure(user.id, acc.settings.admin_login_max_failures, until, entry):
        raise LockedOut(until)
    raise LoginFailed


def _succeeded(acc: Accounts, user: User, client: str) -> None:
    acc.users.update_user(
        user.id,
        _entry(acc, AuditAction.LOGIN, user.email, user.email, client=client),
        failed_logins=0,
        locked_until=None,
    )


# -- sessions and roles -------------------------------------------------------------------------


def session_user(acc: Accounts, user_id: str, epoch: int, issued_at: datetime) -> User:
    """The user of a session that is still open; SessionEnded otherwise."""
    user = acc.users.user(user_id)
    age = acc.clock.now() - issued_at
    if user is None or not user.active or user.session_epoch != epoch:
        raise SessionEnded
    if age > timedelta(minutes=acc.settings.admin_session_minutes) or age < timedelta(minutes=-5):
        raise SessionEnded
    return user


def logout(acc: Accounts, user: User) -> None:
    """End every open session of `user` (a signed cookie cannot be taken back one by one)."""
    acc.users.end_sessions(user.id, _entry(acc, AuditAction.LOGOUT, user.email, user.email))


def require(user: User, *roles: Role) -> User:
    """`user` when their role is one of `roles` (a beheerder may do everything); NotAllowed otherwise."""
    if user.role is Role.BEHEERDER or user.role in roles:
        return user
    raise NotAllowed(user.role.value)


# -- the second factor --------------------------------------------------------------------------


def new_totp(acc: Accounts, user: User) -> tuple[str, str]:
    """A fresh TOTP secret for `user` and its otpauth:// URI; nothing is stored until confirmed."""
    secret = acc.totp.new_secret()
    return secret, acc.totp.uri(secret, user.email, "consentry")


def confirm_totp(acc: Accounts, user: User, secret: str, code: str) -> User:
    """Store `secret` as the user's second factor once a code made with it is right."""
    step = acc.totp.step(secret, code, acc.clock.now().timestamp())
    if step is None:
        raise InputError("code", "the code does not match the secret; try the next one")
    acc.users.update_user(
        user.id,
        _entry(acc, AuditAction.TOTP_ENROLLED, user.email, user.email),
        totp_secret=secret,
        totp_last_step=step,
    )
    return find(acc, user.email)


def record(
    acc: Accounts, user: User, action: AuditAction, subject: str | None = None, **detail: object
) -> None:
    """Write down in the audit log that `user` did `action` (an import, a send, a download)."""
    acc.users.record(_entry(acc, action, user.email, subject, **detail))
