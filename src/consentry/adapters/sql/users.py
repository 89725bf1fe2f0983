"""The admin app's users and audit log on SQLite and PostgreSQL (the `UserStore` port).

Each method is one short transaction of its own, apart from the ledger's lock:
a login must not wait behind an import. A change and its audit entry are
written in the same transaction, so neither is ever recorded without the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from consentry.adapters.sql import tables as t
from consentry.domain.audit_chain import canonical, link
from consentry.domain.users import AuditAction, AuditEntry, Role, User
from consentry.services.errors import AlreadyExists, LedgerDamaged

_U = t.admin_users


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        role=Role(row.role),
        password_hash=row.password_hash,
        created_at=row.created_at,
        totp_secret=row.totp_secret,
        totp_last_step=row.totp_last_step,
        session_epoch=row.session_epoch,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        disabled_at=row.disabled_at,
    )


class SqlUsers:
    """Users and the audit log in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def user(self, user_id: str) -> User | None:
        """A user by id."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_U).where(_U.c.id == user_id)).first()
        return None if row is None else _user(row)

    def user_by_email(self, email: str) -> User | None:
        """A user by (normalised) e-mail address."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_U).where(_U.c.email == email)).first()
        return None if row is None else _user(row)

    def users(self) -> list[User]:
        """Every user, by e-mail address."""
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(sa.select(_U).order_by(_U.c.email))]

    def add_user(self, user: User, audit: AuditEntry) -> None:
        """Store a new user; AlreadyExists when the address is taken."""
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(
                    _U.insert().values(
                        id=user.id,
                        email=user.email,
                        role=user.role.value,
                        password_hash=user.password_hash,
                        totp_secret=user.totp_secret,
                        session_epoch=user.session_epoch,
                        failed_logins=0,
                        created_at=user.created_at,
                    )
                )
                record_audit(conn, audit)
        except IntegrityError:
            raise AlreadyExists(f"user {user.email}") from None

    def update_user(self, user_id: str, audit: AuditEntry | None = None, **changes: Any) -> None:
        """Change some of a user's columns (and record why, when `audit` is given)."""
        with write_transaction(self.engine) as conn:
            conn.execute(_U.update().where(_U.c.id == user_id).values(**changes))
            if audit is not None:
                record_audit(conn, audit)

    def end_sessions(self, user_id: str, audit: AuditEntry, **changes: Any) -> None:
        """Raise the user's session epoch (every open session ends), with other changes."""
        self.update_user(user_id, audit, session_epoch=_U.c.session_epoch + 1, **changes)

    def count_failure(self, user_id: str, limit: int, lock_until: datetime, audit: AuditEntry) -> bool:
        """Count a failed login; at `limit` in a row the user is locked until `lock_until`.

        True when this failure locked the user. The increment is one UPDATE, so two
        concurrent failures are both counted.
        """
        with write_transaction(self.engine) as conn:
            record_audit(conn, audit)
            conn.execute(_U.update().where(_U.c.id == user_id).values(failed_logins=_U.c.failed_logins + 1))
            failed = conn.execute(sa.select(_U.c.failed_logins).where(_U.c.id == user_id)).scalar_one()
            if failed < limit:
                return False
            conn.execute(
                _U.update().where(_U.c.id == user_id).values(failed_logins=0, locked_until=lock_until)
            )
            record_audit(
                conn,
                AuditEntry(
                    at=audit.at,
                    actor=None,
                    action=AuditAction.LOCKOUT,
                    subject=audit.subject,
                    detail={"until": lock_until.isoformat(), "failures": failed},
                ),
            )
            return True

    def record(self, entry: AuditEntry) -> None:
        """Add one entry to the audit log."""
        with write_transaction(self.engine) as conn:
            record_audit(conn, entry)

    def audit_log(self, limit: int = 100, before: int | None = None) -> list[AuditEntry]:
        """The newest entries of the audit log (older than entry `before`, if given), newest first."""
        a = t.admin_audit
        q = sa.select(a).order_by(a.c.id.desc()).limit(limit)
        if before is not None:
            q = q.where(a.c.id < before)
        with self.engine.connect() as conn:
            return [
                AuditEntry(
                    at=r.at,
                    actor=r.actor,
                    action=AuditAction(r.action),
                    subject=r.subject,
                    detail=dict(r.detail),
                    id=r.id,
                )
                for r in conn.execute(q)
            ]


def record_audit(conn: Connection, entry: AuditEntry) -> None:
    """Add `entry` to the audit log in the transaction of `conn` (with the change it records).

    Chained to the head, which is locked until the transaction ends: entries are appended one
    at a time, in the order of their numbers. `conn` must be a write transaction (on SQLite
    BEGIN IMMEDIATE, `write_transaction`), or two appends could read the same head.
    """
    h = t.admin_audit_head
    head = conn.execute(sa.select(h.c.seq, h.c.hash).where(h.c.id == 1).with_for_update()).first()
    if head is None:
        raise LedgerDamaged(
            "the admin audit log's head is missing: the audit log was wiped or damaged; "
            "run `consentry ledger verify`"
        )
    seq = int(head.seq) + 1
    digest = link(
        head.hash, canonical(seq, entry.at, entry.actor, entry.action.value, entry.subject, entry.detail)
    )
    conn.execute(
        t.admin_audit.insert().values(
            at=entry.at,
            actor=entry.actor,
            action=entry.action.value,
            subject=entry.subject,
            detail=entry.detail,
            seq=seq,
            prev_hash=head.hash,
            hash=digest,
        )
    )
    conn.execute(h.update().where(h.c.id == 1).values(seq=seq, hash=digest))


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction of its own (BEGIN IMMEDIATE on SQLite: the audit head is read, then written)."""
    with engine.connect().execution_options(consentry_write=True) as conn, conn.begin():
        yield conn
