"""Do-not-contact registers and their entries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registers",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("hashed", sa.Boolean, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=True),
        sa.Column("valid_until", sa.Date, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "register_entries",
        sa.Column("register", sa.String(64), primary_key=True),
        sa.Column("entry", sa.String(512), primary_key=True),
        sa.Column("listed_from", sa.Date, nullable=True),
        sa.Column("listed_until", sa.Date, nullable=True),
    )
    op.create_index("ix_register_entries_entry", "register_entries", ["entry"])


def downgrade() -> None:
    op.drop_table("register_entries")
    op.drop_table("registers")
