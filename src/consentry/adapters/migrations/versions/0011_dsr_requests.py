"""Data-subject requests with their deadlines; restriction of processing in the audience facts.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-06

`dsr_requests` tracks each request (GDPR Art. 12(3), 15-21): ids, codes and
moments only; what people wrote stays in the ledger events the row names.
`point_facts` gains `restricted` (GDPR Art. 18); existing rows start unrestricted,
which is what their ledgers say (no `processing.restricted` event existed before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dsr_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("contact_point_id", sa.String(40), nullable=False),
        sa.Column("contact_ref", sa.Text, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("via", sa.String(32), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("received_event", sa.String(40), nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("extended_until", sa.DateTime, nullable=True),
        sa.Column("extension_event", sa.String(40), nullable=True),
        sa.Column("extension_notified_at", sa.DateTime, nullable=True),
        sa.Column("identity", sa.String(16), nullable=False),
        sa.Column("identity_method", sa.String(32), nullable=True),
        sa.Column("identity_checked_at", sa.DateTime, nullable=True),
        sa.Column("handler", sa.String(120), nullable=True),
        sa.Column("handled_at", sa.DateTime, nullable=True),
        sa.Column("outcome_event", sa.String(40), nullable=True),
        sa.Column("person_told_at", sa.DateTime, nullable=True),
        sa.Column("reminded_on", sa.Date, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_dsr_requests_state_due", "dsr_requests", ["state", "due_at"])
    op.create_index("ix_dsr_requests_point", "dsr_requests", ["contact_point_id"])
    op.add_column(
        "point_facts", sa.Column("restricted", sa.Boolean, nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("point_facts") as b:
        b.drop_column("restricted")
    op.drop_index("ix_dsr_requests_point", "dsr_requests")
    op.drop_index("ix_dsr_requests_state_due", "dsr_requests")
    op.drop_table("dsr_requests")
