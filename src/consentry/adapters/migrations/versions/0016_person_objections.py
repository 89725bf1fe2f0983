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

On SQLite, a covering index of what an audience report reads (`ix_point_facts_judged`: the
kind, the point's number, the facts) lets a report read a third of each row, and only the rows
of the kind it asks about; the downgrade drops it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: SQLite's covering index of what an audience report reads (`tables.JUDGED` as of 0016).
_JUDGED = (
    "kind", "point_no", "party", "source", "erased", "person_objected_dm", "person_objected_profiling",
    "restricted", "suppressed", "published", "published_unproven", "outside_eea", "local_rules_met",
    "notice14", "bought_any", "consented_ever", "ended_day", "c_valid", "c_own", "c_pending",
    "c_defective", "subscribed", "opt_outs", "bought", "bought_ex", "listed", "suppressed_for", "c_fresh",
    "c_timed", "more", "tags", "selected_by",
)  # fmt: skip
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
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_point_facts_judged", "point_facts", list(_JUDGED))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_point_facts_judged", "point_facts")
    with op.batch_alter_table("point_facts") as batch:
        for _, _, column in reversed(_FLAGS):
            batch.drop_column(column)
