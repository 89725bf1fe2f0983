"""The admin audit log hash-chained, so that `consentry ledger verify` covers it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

Each entry gets its place in the chain (`seq`), the previous entry's hash and its own hash
over its canonical content (`consentry.domain.audit_chain`); `admin_audit_head` keeps the
last entry's number and hash. The entries recorded before are chained in the order they
were written (by id). The canonical form and the hash are written out here as
`domain/audit_chain.py` has them, without importing the application; a test holds the
two equal (a database migrated with entries in it verifies).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_GENESIS = "0" * 64
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _canonical(seq: int, at: datetime, actor: Any, action: str, subject: Any, detail: Any) -> bytes:
    body = {
        "action": action,
        "actor": actor,
        "at": at.replace(tzinfo=UTC).isoformat(),  # stored as naive UTC
        "detail": detail,
        "seq": seq,
        "subject": subject,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _link(prev_hash: str, canonical: bytes) -> str:
    h = hashlib.sha256(prev_hash.encode("ascii"))
    h.update(canonical)
    return h.hexdigest()


def upgrade() -> None:
    op.add_column("admin_audit", sa.Column("seq", sa.BigInteger, nullable=True))
    op.add_column("admin_audit", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("admin_audit", sa.Column("hash", sa.String(64), nullable=True))
    audit = sa.table(
        "admin_audit",
        sa.column("id", sa.Integer),
        sa.column("at", sa.DateTime),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("subject", sa.String),
        sa.column("detail", _JSON),
        sa.column("seq", sa.BigInteger),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(audit.c.id, audit.c.at, audit.c.actor, audit.c.action, audit.c.subject, audit.c.detail)
        .order_by(audit.c.id)
    ).all()  # fmt: skip
    prev, seq = _GENESIS, 0
    chained = []
    for row in rows:
        seq += 1
        digest = _link(prev, _canonical(seq, row.at, row.actor, row.action, row.subject, row.detail))
        chained.append({"row_id": row.id, "s": seq, "p": prev, "h": digest})
        prev = digest
    if chained:
        conn.execute(
            audit.update()
            .where(audit.c.id == sa.bindparam("row_id"))
            .values(seq=sa.bindparam("s"), prev_hash=sa.bindparam("p"), hash=sa.bindparam("h")),
            chained,
        )
    with op.batch_alter_table("admin_audit") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger, nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
    op.create_index("ix_admin_audit_seq", "admin_audit", ["seq"], unique=True)
    op.create_index("ix_admin_audit_action", "admin_audit", ["action", "id"])
    head = op.create_table(
        "admin_audit_head",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": prev}])


def downgrade() -> None:
    op.drop_table("admin_audit_head")
    op.drop_index("ix_admin_audit_action", "admin_audit")
    op.drop_index("ix_admin_audit_seq", "admin_audit")
    with op.batch_alter_table("admin_audit") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
