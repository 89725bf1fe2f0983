"""Lean search terms: `point_terms` names a point by its number and keeps 8-byte terms.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

`point_facts` is keyed by `point_no` (the point's `contact_points.registered_seq`; on SQLite
the rowid itself, so no index of its own; `contact_point_id` stays unique) and gains
`selected_by` (the blind indexes of what a campaign selects by: selectable attributes and
the source detail, as tokens in the row the audience query reads anyway), and
`point_terms` becomes (point_no, term) with 8-byte blind indexes instead of (26-character
point id, 16-byte term), for what the admin app searches by (name words, tags) only.
Attributes that name a person, an address, a number, a birthday or notes, and long
values, get no term at all (`policy.factrows.attribute_unselectable`).

The projection is derived from the ledger, and which terms a point keeps cannot be told
from the stored blind indexes: the projection tables are emptied here, and
`schema.upgrade` projects every contact point again once the last migration has run, in
the same transaction (`upgrade_v2.rebuild_emptied_projection`; it needs the keys, as the
fold opens the sealed fields: without them this migration refuses before it changes
anything). The tables are spelled out as they are at this revision.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from consentry.adapters.sql import upgrade_v2
from consentry.adapters.sql.migration_context import keys, now

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_FLAGS = (
    "erased",
    "objected_dm",
    "objected_profiling",
    "suppressed",
    "published",
    "published_unproven",
    "outside_eea",
    "local_rules_met",
    "notice14",
    "bought_any",
    "consented_ever",
)
_TOKENS = (
    "c_valid",
    "c_own",
    "c_pending",
    "c_defective",
    "subscribed",
    "opt_outs",
    "bought",
    "bought_ex",
    "tags",
    "listed",
    "c_timed",
)


def _point_facts(numbered: bool) -> None:
    key: list[sa.Column[Any]] = (
        [
            # SQLite: INTEGER PRIMARY KEY, the rowid itself.
            sa.Column(
                "point_no",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                primary_key=True,
                autoincrement=False,
            ),
            sa.Column("contact_point_id", sa.String(40), nullable=False, unique=True),
        ]
        if numbered
        else [sa.Column("contact_point_id", sa.String(40), primary_key=True)]
    )
    op.create_table(
        "point_facts",
        *key,
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value_hash", sa.String(64), nullable=False),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        *(sa.Column(name, sa.Boolean, nullable=False) for name in _FLAGS),
        sa.Column("ended_day", sa.Date, nullable=True),
        *(sa.Column(name, sa.Text, nullable=False) for name in _TOKENS),
        sa.Column("contact_id", sa.String(40), nullable=False),
        sa.Column("lookup", sa.LargeBinary(16), nullable=False),
        sa.Column("value_ct", sa.LargeBinary, nullable=False),
        sa.Column("name_ct", sa.LargeBinary, nullable=True),
        sa.Column("attrs_ct", sa.LargeBinary, nullable=True),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_event_at", sa.DateTime, nullable=True),
        sa.Column("suppressed_since", sa.DateTime, nullable=True),
        sa.Column("suppressed_for", sa.Text, nullable=False, server_default="|"),
        sa.Column("c_fresh", sa.Text, nullable=False, server_default="|"),
        sa.Column("restricted", sa.Boolean, nullable=False, server_default=sa.false()),
        *([sa.Column("selected_by", sa.Text, nullable=False)] if numbered else []),
    )
    op.create_index("ix_point_facts_contact", "point_facts", ["contact_id"])


def _drop_projection() -> None:
    op.drop_index("ix_point_terms_term", "point_terms")
    op.drop_table("point_terms")
    op.drop_index("ix_point_facts_contact", "point_facts")
    op.drop_table("point_facts")
    op.execute("DELETE FROM point_listings")
    op.execute("DELETE FROM contact_objections")


def upgrade() -> None:
    # Refused before anything changes when points are left to project and the keys are not given.
    upgrade_v2.keys_to_project(op.get_bind(), keys, now())
    _drop_projection()
    _point_facts(numbered=True)
    op.create_table(
        "point_terms",
        sa.Column("point_no", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("term", sa.LargeBinary(8), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_point_terms_term", "point_terms", ["term"])


def downgrade() -> None:
    """Back to the 0010 tables, empty: rebuild the projection with that version's code."""
    _drop_projection()
    _point_facts(numbered=False)
    op.create_table(
        "point_terms",
        sa.Column("contact_point_id", sa.String(40), primary_key=True),
        sa.Column("term", sa.LargeBinary(16), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_point_terms_term", "point_terms", ["term"])
