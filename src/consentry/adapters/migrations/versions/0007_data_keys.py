"""Per-contact data keys and the master keys that wrap them (storage v2's foundation).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

`data_keys` holds each contact's data key wrapped under a master key; deleting a row
crypto-shreds the contact. `master_keys` holds a key check value per master key, so
a wrong master key is refused at start (see consentry.adapters.crypto and docs/privacy.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("contact_id", sa.Text, primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "master_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("key_check", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("master_keys")
    op.drop_table("data_keys")
