"""Live e-mail and postal contact points are looked up by their compared form (`addresses.match_form`).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08

A contact point's `lookup` was the blind index of its normalised value as given, so another
spelling of an address (capitals, `1234AB` for `1234 AB`, a non-ASCII local part in another case)
was another point, and an erased address's suppression record missed it. The code now indexes the
compared form; this revision gives live points that index (`adapters.sql.compared_lookups`): it
opens each e-mail and postal point's registered value, so it needs the master key and the blind
index secret when there are such points (from the caller, `schema.upgrade`, or the settings), and
its time grows with them. A point whose compared form another spelling registered earlier holds
keeps its index (found by its own spelling); suppression records keep theirs (their values are
gone: look-ups ask for both indexes). No table changes. The downgrade gives every live point the
index of its value as given again.
"""

from __future__ import annotations

from alembic import op

from consentry.adapters.sql import compared_lookups
from consentry.adapters.sql.migration_context import keys, now

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    compared_lookups.reindex(op.get_bind(), keys, now(), compared=True)


def downgrade() -> None:
    compared_lookups.reindex(op.get_bind(), keys, now(), compared=False)
