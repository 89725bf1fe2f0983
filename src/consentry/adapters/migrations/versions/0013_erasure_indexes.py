"""Indexes the set-wise erasure deletes and updates by.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

An erasure batch (a retention run erases a thousand points a transaction) finds the
points' send-queue rows by `campaign_messages.contact_point_id` (the primary key starts
with the campaign, so without this index every batch scanned the whole queue), and the
other live points of the erased points' contacts by `contact_points.contact_ref` (whether
their data key may go; without it every batch scanned `contact_points`).
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_campaign_messages_point", "campaign_messages", ["contact_point_id"])
    op.create_index("ix_contact_points_contact_ref", "contact_points", ["contact_ref"])


def downgrade() -> None:
    op.drop_index("ix_contact_points_contact_ref", table_name="contact_points")
    op.drop_index("ix_campaign_messages_point", table_name="campaign_messages")
