"""The send queue carries each queued point's id, so a claim reads its range alone.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

`campaign_messages.contact_point_id`: the point's id, written by the fill on each row it queues
(not on those it skips) and cleared when the point is erased (a claim then finds no point to
send to, as before). Before, every claim looked each of its rows' ids up in `point_facts`
(docs/performance.md). The upgrade writes the id on every row of existing queues a claim may
still read (`queued`, `waiting`, `claimed`) from `point_facts` (a point erased since gets none);
the downgrade drops the column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("campaign_messages", sa.Column("contact_point_id", sa.String(40), nullable=True))
    op.execute(
        "UPDATE campaign_messages SET contact_point_id = (SELECT f.contact_point_id FROM point_facts f "
        "WHERE f.point_no = campaign_messages.point_no) "
        "WHERE status IN ('queued', 'waiting', 'claimed')"
    )


def downgrade() -> None:
    # Both databases drop a plain column in place (SQLite since 3.35): a batch copy would lose
    # the table's WITHOUT ROWID.
    op.execute("ALTER TABLE campaign_messages DROP COLUMN contact_point_id")
