"""The admin app's tables: its users and its hash-chained audit log (see `tables`)."""

from __future__ import annotations

import sqlalchemy as sa

from consentry.adapters.sql.columns import JSONType, UTCDateTime, metadata

#: The admin app's users; passwords only as Argon2 hashes.
admin_users = sa.Table(
    "admin_users",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("totp_secret", sa.String(64), nullable=True),
    #: The last TOTP time step accepted, so a code is never accepted twice.
    sa.Column("totp_last_step", sa.BigInteger, nullable=True),
    #: Raised by a logout or a disable: every session cookie of an older epoch stops working.
    sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("disabled_at", UTCDateTime(), nullable=True),
)

#: Who did what in the admin app, hash-chained in `seq` order (`domain/audit_chain.py`, `ledger verify`).
admin_audit = sa.Table(
    "admin_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(320), nullable=True),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(320), nullable=True),
    sa.Column("detail", JSONType, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_admin_audit_at", "at"),
    #: Overzicht's recent imports: the newest entries of one action, read backwards on this index.
    sa.Index("ix_admin_audit_action", "action", "id"),
    sa.Index("ix_admin_audit_seq", "seq", unique=True),
)

#: The audit log's head (last `seq` and `hash`, one row): appending locks it, not the ledger.
admin_audit_head = sa.Table(
    "admin_audit_head",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)
