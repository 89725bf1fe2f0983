"""Storage v2: personal data sealed per contact, blind-index lookups, lean projections (issue #16).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

This revision creates the v2 schema on a database whose ledger is empty (a new database,
or one initialised but never written to): the changed tables are dropped and created
anew. A database with events is refused with a clear message; the upgrade of a populated
database (resealing every event, the new chain recording the old head) is a later
revision's work. Self-contained on purpose, as every migration (see 0001).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class PopulatedLedger(RuntimeError):
    """The database holds events: this revision creates the v2 schema on an empty ledger only."""


def _refuse_populated() -> None:
    n = op.get_bind().execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    if n:
        raise PopulatedLedger(
            f"this database's ledger holds {n} events; storage v2 (revision 0009) is created on an "
            "empty ledger only. Keep running the previous consentry version on it until the "
            "migration of populated databases is released (issue #16), or start a new database."
        )


def upgrade() -> None:
    _refuse_populated()
    op.drop_index("ix_events_point_time", "events")
    op.drop_table("events")
    op.drop_table("contact_points")
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
        sa.Column("sealed", sa.LargeBinary, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_events_point_time", "events", ["contact_point_id", "occurred_at", "seq"])
    op.create_table(
        "contact_points",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lookup", sa.LargeBinary(16), nullable=True),
        sa.Column("contact_ref", sa.String(40), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("kind", "lookup", name="uq_contact_points_kind_lookup"),
    )


def downgrade() -> None:
    _refuse_populated()
    op.drop_table("contact_points")
    op.drop_index("ix_events_point_time", "events")
    op.drop_table("events")
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
    op.create_table(
        "contact_points",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("kind", "value", name="uq_contact_points_kind_value"),
    )
