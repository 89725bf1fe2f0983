"""The send queue keyed by integers and claimed as ranges of its key.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

`campaigns` gets a number (`no`: 1, 2, ... in the order they were created). `campaign_messages`
was keyed by (campaign key, contact point id), text, with two more indexes (claim order; point);
it becomes keyed by (campaign number, point number: `contact_points.registered_seq`, the
projection's `point_no`), on SQLite WITHOUT ROWID, with one partial index holding only the
rows claimed one by one (`waiting`, `claimed`). `campaign_claims` holds the ranges of the key
workers claimed (`adapters/sql/campaign_queue.py` says what each stored status means).

Existing queues are converted row by row: a queued row never tried is `queued` (claimed by
range); a queued row tried before is `waiting` (due at its `next_attempt_at`); a claimed row
stays `claimed` by its worker (handed back when that worker is found dead, as before); the
rest keep their status. The downgrade writes the old shape back: a `queued` row inside a
claimed range is `claimed` by that range's worker, a `waiting` row `queued`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_DUE = "status = 'waiting' OR status = 'claimed'"
_REST = "attempts, next_attempt_at, worker, claimed_at, sent_at, message_id, art14, error"


def _outcome_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(40), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("worker", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime, nullable=True),
        sa.Column("sent_at", sa.DateTime, nullable=True),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("art14", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    ]


def _count(table: str) -> int:
    return int(op.get_bind().exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def _replace(built: str, rows: int) -> None:
    """`built`, holding every one of the queue's `rows`, becomes `campaign_messages` (PostgreSQL:
    its key's name too)."""
    if _count(built) != rows:
        raise RuntimeError("a send queue row names a campaign or contact point the database does not hold")
    op.drop_table("campaign_messages")
    op.rename_table(built, "campaign_messages")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE campaign_messages RENAME CONSTRAINT {built}_pkey TO campaign_messages_pkey")


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("campaigns", sa.Column("no", sa.Integer, nullable=True))
    keys = conn.exec_driver_sql("SELECT key FROM campaigns ORDER BY created_at, key").scalars().all()
    for no, key in enumerate(keys, 1):
        conn.execute(sa.text("UPDATE campaigns SET no = :no WHERE key = :key"), {"no": no, "key": key})
    with op.batch_alter_table("campaigns") as batch:
        batch.alter_column("no", existing_type=sa.Integer, nullable=False)
        batch.create_unique_constraint("uq_campaigns_no", ["no"])
    op.create_table(
        "campaign_claims",
        sa.Column("campaign_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("upto", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("above", sa.BigInteger, nullable=False),
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "campaign_messages_v17",
        sa.Column("campaign_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("point_no", sa.BigInteger, primary_key=True, autoincrement=False),
        *_outcome_columns(),
        sqlite_with_rowid=False,
    )
    before = _count("campaign_messages")
    conn.exec_driver_sql(
        f"INSERT INTO campaign_messages_v17 (campaign_no, point_no, status, rule, {_REST}) "
        "SELECT c.no, p.registered_seq, "
        "CASE WHEN m.status = 'queued' AND m.attempts > 0 THEN 'waiting' ELSE m.status END, m.rule, "
        f"{', '.join('m.' + col.strip() for col in _REST.split(','))} "
        "FROM campaign_messages m JOIN campaigns c ON c.key = m.campaign "
        "JOIN contact_points p ON p.id = m.contact_point_id ORDER BY c.no, p.registered_seq"
    )
    _replace("campaign_messages_v17", before)
    op.create_index(
        "ix_campaign_messages_due",
        "campaign_messages",
        ["campaign_no", "status", "next_attempt_at"],
        sqlite_where=sa.text(_DUE),
        postgresql_where=sa.text(_DUE),
    )


def downgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "campaign_messages_v15",
        sa.Column("campaign", sa.String(64), primary_key=True),
        sa.Column("contact_point_id", sa.String(40), primary_key=True),
        *_outcome_columns(),
    )
    before = _count("campaign_messages")
    ranged = "m.status = 'queued' AND k.worker IS NOT NULL"
    conn.exec_driver_sql(
        f"INSERT INTO campaign_messages_v15 (campaign, contact_point_id, status, rule, {_REST}) "
        "SELECT c.key, p.id, "
        f"CASE WHEN {ranged} THEN 'claimed' WHEN m.status = 'waiting' THEN 'queued' ELSE m.status END, "
        f"m.rule, m.attempts, m.next_attempt_at, CASE WHEN {ranged} THEN k.worker ELSE m.worker END, "
        f"CASE WHEN {ranged} THEN k.claimed_at ELSE m.claimed_at END, "
        "m.sent_at, m.message_id, m.art14, m.error "
        "FROM campaign_messages m JOIN campaigns c ON c.no = m.campaign_no "
        "JOIN contact_points p ON p.registered_seq = m.point_no "
        "LEFT JOIN campaign_claims k ON k.campaign_no = m.campaign_no "
        "AND m.point_no > k.above AND m.point_no <= k.upto"
    )
    _replace("campaign_messages_v15", before)
    op.create_index(
        "ix_campaign_messages_claim", "campaign_messages", ["campaign", "status", "next_attempt_at"]
    )
    op.create_index("ix_campaign_messages_point", "campaign_messages", ["contact_point_id"])
    op.drop_table("campaign_claims")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint("uq_campaigns_no", type_="unique")
        batch.drop_column("no")
