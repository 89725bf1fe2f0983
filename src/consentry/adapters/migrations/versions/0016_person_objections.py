"""The person's objections on every point: `point_facts.person_objected_dm` and `_profiling`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

An objection made on one point of a contact covers every point of that contact. The audience
SQL found the objecting contacts in `contact_objections` for every row it judged (a probe per
row into another table); the writer now keeps the answer on each row
(`adapters/sql/objections.py`). The columns are filled here from what the projection already
holds: a point's own objection, or one `contact_objections` lists under its contact, so no
point is folded again. The downgrade drops them (the audience SQL of 0015 reads
`contact_objections`, which this revision keeps as it is).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_FLAGS = (
    ("direct_marketing", "objected_dm", "person_objected_dm"),
    ("profiling", "objected_profiling", "person_objected_profiling"),
)


def upgrade() -> None:
    with op.batch_alter_table("point_facts") as batch:
        for _, _, column in _FLAGS:
            batch.add_column(sa.Column(column, sa.Boolean, nullable=False, server_default=sa.false()))
    # Only the rows of objecting persons are written (the rest keep the default, false).
    for scope, own, column in _FLAGS:
        op.execute(
            f"UPDATE point_facts SET {column} = TRUE WHERE {own} OR contact_id IN "
            f"(SELECT o.contact_id FROM contact_objections o WHERE o.scope = '{scope}')"
        )


def downgrade() -> None:
    with op.batch_alter_table("point_facts") as batch:
        for _, _, column in reversed(_FLAGS):
            batch.drop_column(column)
