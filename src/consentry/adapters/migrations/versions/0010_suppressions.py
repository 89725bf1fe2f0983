"""The audience facts a suppression record that outlived an erased point gives a new point.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

0009 made `suppressions` (per erased address or number: its blind index, what, scope, since,
why) and `point_facts.suppressed_since`. The rule that keeps such an address suppressed asks
per channel and purpose, so `point_facts` gains `suppressed_for` (the channels the record
covers, `|*|` for all) and `c_fresh` (the purpose/channel pairs a fresh opt-in confirmed after
the suppression lifts it for), which the audience SQL tests on the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (SQLite too): no existing point carries a prior suppression's columns yet.
    op.add_column("point_facts", sa.Column("suppressed_for", sa.Text, nullable=False, server_default="|"))
    op.add_column("point_facts", sa.Column("c_fresh", sa.Text, nullable=False, server_default="|"))


def downgrade() -> None:
    with op.batch_alter_table("point_facts") as batch:
        batch.drop_column("c_fresh")
        batch.drop_column("suppressed_for")
