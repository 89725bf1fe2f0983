"""Typed facts: `point_facts` keeps what the rules ask per purpose and channel as bit masks.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

The token strings of `point_facts` (`c_valid = '|nieuwsbrief/email|'`, ...) that the audience
SQL searched on every row become BIGINT bit masks tested by one integer comparison,
`(c_valid & :bit) <> 0`: the sets of purpose/channel pairs (valid, collected by the sender,
pending, defective, opted out, freshly confirmed after a suppression), of purposes
(subscribed), categories (bought), registers (listed) and suppressed channels. Each column
numbers its own tokens in the new table `fact_bits` on first sight; tokens numbered beyond a
mask's 63 bits are kept as `|<column>.<number>|` in the new text column `more`
(`policy.factrows.Numbering`). Tags and the end days of consents given for a time stay text.
`value_hash` (the SHA-256 hashed registers list) keeps its 32 bytes instead of 64 hex characters.

The projection is derived from the ledger: the projection tables are emptied here (terms,
listings and objections too, as the rebuild writes every point's rows afresh), and
`schema.upgrade` projects every contact point again once the last migration has run, in the
same transaction (`upgrade_v2.rebuild_emptied_projection`; it needs the keys: without them
this migration refuses before it changes anything). The tables are spelled out as they are at
this revision.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from consentry.adapters.sql import upgrade_v2
from consentry.adapters.sql.migration_context import keys, now

revision = "0014"
down_revision = "0013"
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
_MASKS = (
    "c_valid",
    "c_own",
    "c_pending",
    "c_defective",
    "subscribed",
    "opt_outs",
    "bought",
    "bought_ex",
    "listed",
    "suppressed_for",
    "c_fresh",
)
#: The token columns of revision 0013, in its order.
_TOKENS_0013 = (
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


def _point_facts(typed: bool) -> None:
    facts: list[sa.Column[Any]] = (
        [
            *(sa.Column(name, sa.BigInteger, nullable=False) for name in _MASKS),
            sa.Column("tags", sa.Text, nullable=False),
            sa.Column("c_timed", sa.Text, nullable=False),
        ]
        if typed
        else [sa.Column(name, sa.Text, nullable=False) for name in _TOKENS_0013]
    )
    tail: list[sa.Column[Any]] = (
        [
            sa.Column("restricted", sa.Boolean, nullable=False),
            sa.Column("more", sa.Text, nullable=False),
        ]
        if typed
        else [
            sa.Column("suppressed_for", sa.Text, nullable=False, server_default="|"),
            sa.Column("c_fresh", sa.Text, nullable=False, server_default="|"),
            sa.Column("restricted", sa.Boolean, nullable=False, server_default=sa.false()),
        ]
    )
    op.create_table(
        "point_facts",
        # SQLite: INTEGER PRIMARY KEY, the rowid itself.
        sa.Column(
            "point_no",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("contact_point_id", sa.String(40), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value_hash", sa.LargeBinary(32) if typed else sa.String(64), nullable=False),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        *(sa.Column(name, sa.Boolean, nullable=False) for name in _FLAGS),
        sa.Column("ended_day", sa.Date, nullable=True),
        *facts,
        sa.Column("contact_id", sa.String(40), nullable=False),
        sa.Column("lookup", sa.LargeBinary(16), nullable=False),
        sa.Column("value_ct", sa.LargeBinary, nullable=False),
        sa.Column("name_ct", sa.LargeBinary, nullable=True),
        sa.Column("attrs_ct", sa.LargeBinary, nullable=True),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_event_at", sa.DateTime, nullable=True),
        sa.Column("suppressed_since", sa.DateTime, nullable=True),
        *tail,
        sa.Column("selected_by", sa.Text, nullable=False),
    )
    op.create_index("ix_point_facts_contact", "point_facts", ["contact_id"])


def _drop_projection() -> None:
    op.drop_index("ix_point_facts_contact", "point_facts")
    op.drop_table("point_facts")
    for table in ("point_terms", "point_listings", "contact_objections"):
        op.execute(f"DELETE FROM {table}")


def upgrade() -> None:
    # Refused before anything changes when points are left to project and the keys are not given.
    upgrade_v2.keys_to_project(op.get_bind(), keys, now())
    _drop_projection()
    _point_facts(typed=True)
    op.create_table(
        "fact_bits",
        sa.Column("col", sa.String(32), primary_key=True),
        sa.Column("token", sa.Text, primary_key=True),
        sa.Column("bit", sa.Integer, nullable=False),
        sa.UniqueConstraint("col", "bit", name="uq_fact_bits_col_bit"),
    )


def downgrade() -> None:
    """Back to the 0013 tables, empty: rebuild the projection with that version's code."""
    op.drop_table("fact_bits")
    _drop_projection()
    _point_facts(typed=False)
