"""The projection keeps no sealed copy of a point's attributes: `point_facts.attrs_ct` dropped.

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-06

A point's attributes are in the ledger, sealed in its events; every reader (the contact page,
an access export, the composer, the selection terms) takes them from the point's folded
state. `attrs_ct` was a second sealed copy on the projection's row that nothing read but the
projection check, which compared it with the fold: about 200 bytes a Mailchimp member
(its merge fields and system columns as JSON, sealed), a sixth of the row. The selection
terms (`selected_by`, blind indexes) still say which attributes a point has for the audience
SQL.

The downgrade adds the column back, empty: the older revision's projection check reports
each point with attributes as differing until its row is written again (the point's next
event, or `consentry ledger rebuild-projection` with that revision's code, which fills it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite (3.35 and later) drops a column that no index or constraint names in place; the
    # batch mode's copy of the table would rebuild its indexes (the report's covering one too).
    op.execute("ALTER TABLE point_facts DROP COLUMN attrs_ct")


def downgrade() -> None:
    op.add_column("point_facts", sa.Column("attrs_ct", sa.LargeBinary, nullable=True))
