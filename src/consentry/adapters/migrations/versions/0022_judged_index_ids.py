"""SQLite's covering index of `point_facts` holds the point's id: a queue's fill reads the index.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

Starting a campaign fills its queue from the judged audience: every considered point's number, its
rule and, for a queued one, its id (`AudienceQuery.keyed`). The rule's columns are all in SQLite's
covering index of what a report reads (`ix_point_facts_judged`), the id was not, so the fill read
the table: every kind's rows with their blind indexes, sealed value and name and head, about three
times the index's pages. The index is made again with the id as its last column (`tables.COVERED`),
and the fill reads the kind's entries of it (docs/performance.md, session 12: at 1M ~12% of the
fill's INSERT in CPU; an entry ~91 -> ~130 bytes). No value changes. PostgreSQL has no such index:
nothing to do there. The downgrade makes 0021's index again.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

#: The index's columns as of 0021 (`tables.JUDGED`).
_JUDGED = (
    "kind", "point_no", "party", "source", "erased", "person_objected_dm", "person_objected_profiling",
    "restricted", "suppressed", "published", "published_unproven", "outside_eea", "local_rules_met",
    "notice14", "bought_any", "consented_ever", "ended_day", "c_valid", "c_own", "c_pending",
    "c_defective", "subscribed", "opt_outs", "bought", "bought_ex", "listed", "suppressed_for", "c_fresh",
    "c_timed", "more", "tags", "selected_by",
)  # fmt: skip


def _index(columns: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("ix_point_facts_judged", "point_facts")
    op.create_index("ix_point_facts_judged", "point_facts", list(columns))


def upgrade() -> None:
    _index((*_JUDGED, "contact_point_id"))


def downgrade() -> None:
    _index(_JUDGED)
