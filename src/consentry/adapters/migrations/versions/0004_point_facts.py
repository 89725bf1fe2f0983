"""The audience projection: one narrow row of facts per contact point, and ledger listings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

The rows are filled from the ledger by `consentry init` after the upgrade (see
consentry.services.setup), since they are computed by the rules' fact code.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_FLAGS = (
    "erased", "objected_dm", "objected_profiling", "suppressed", "published", "published_unproven",
    "outside_eea", "local_rules_met", "notice14", "bought_any", "consented_ever",
)  # fmt: skip
_TOKENS = (
    "c_valid", "c_own", "c_pending", "c_defective", "subscribed", "opt_outs", "bought", "bought_ex",
    "tags", "attrs", "listed",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "point_facts",
        sa.Column("contact_point_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.Column("value_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_detail", sa.Text, nullable=True),
        *(sa.Column(name, sa.Boolean, nullable=False) for name in _FLAGS),
        sa.Column("ended_day", sa.Date, nullable=True),
        *(sa.Column(name, sa.Text, nullable=False) for name in _TOKENS),
    )
    op.create_table(
        "point_listings",
        sa.Column("contact_point_id", sa.String(40), nullable=False),
        sa.Column("register", sa.String(64), nullable=False),
        sa.Column("listed_from", sa.Date, nullable=False),
        sa.Column("listed_until", sa.Date, nullable=True),
    )
    op.create_index("ix_point_listings_point", "point_listings", ["contact_point_id"])


def downgrade() -> None:
    op.drop_index("ix_point_listings_point", "point_listings")
    op.drop_table("point_listings")
    op.drop_table("point_facts")
