"""Rule pack round two: objections per contact, consents for a time, Postfilter sectors.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

`point_facts` gains the point's contact and its consents given for a time; the
customer window's `ended_day` now also ends with the last one-off purchase. The
rows are emptied here so that `consentry init` recomputes the whole audience
projection from the ledger (see consentry.services.setup), as 0004 did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM point_facts")
    op.execute("DELETE FROM point_listings")
    op.add_column("point_facts", sa.Column("contact_id", sa.Text, nullable=True))
    op.add_column("point_facts", sa.Column("c_timed", sa.Text, nullable=False, server_default="|"))
    op.create_index("ix_point_facts_contact", "point_facts", ["contact_id"])
    op.add_column("point_listings", sa.Column("sectors", sa.Text, nullable=True))
    op.create_table(
        "contact_objections",
        sa.Column("contact_point_id", sa.String(40), nullable=False),
        sa.Column("contact_id", sa.Text, nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
    )
    op.create_index("ix_contact_objections_point", "contact_objections", ["contact_point_id"])
    op.create_index("ix_contact_objections_scope", "contact_objections", ["scope", "contact_id"])


def downgrade() -> None:
    op.drop_index("ix_contact_objections_scope", "contact_objections")
    op.drop_index("ix_contact_objections_point", "contact_objections")
    op.drop_table("contact_objections")
    with op.batch_alter_table("point_listings") as b:
        b.drop_column("sectors")
    op.drop_index("ix_point_facts_contact", "point_facts")
    with op.batch_alter_table("point_facts") as b:
        b.drop_column("c_timed")
        b.drop_column("contact_id")
