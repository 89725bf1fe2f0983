"""The ledger, its projection, purposes and settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Self-contained on purpose: a migration must keep working when the application's
table definitions move on, so it imports nothing from consentry.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("contact_point_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("schema_version", sa.SmallInteger, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_events_point_time", "events", ["contact_point_id", "occurred_at", "seq"])
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    op.create_table(
        "contact_points",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("kind", "value", name="uq_contact_points_kind_value"),
    )
    op.create_table(
        "contact_state",
        sa.Column("contact_point_id", sa.String(40), primary_key=True),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("erased", sa.Boolean, nullable=False),
        sa.Column("objected_dm", sa.Boolean, nullable=False),
        sa.Column("objected_profiling", sa.Boolean, nullable=False),
        sa.Column("suppressed", sa.Boolean, nullable=False),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_event_at", sa.DateTime, nullable=True),
        sa.Column("state", JSON, nullable=False),
    )
    op.create_table(
        "purposes",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("name_nl", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("third_party", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", JSON, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "settings",
        "purposes",
        "contact_state",
        "contact_points",
        "ledger_head",
        "events",
    ):
        op.drop_table(name)
