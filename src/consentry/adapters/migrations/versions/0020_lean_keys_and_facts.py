"""No sealed copy of a point's attributes on its projection row; SQLite's `data_keys` WITHOUT ROWID.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

A point's attributes are in the ledger, sealed in its events; every reader (the contact page,
an access export, the composer, the selection terms) takes them from the point's folded
state. `attrs_ct` was a second sealed copy on the projection's row that nothing read but the
projection check, which compared it with the fold: about 200 bytes a Mailchimp member
(its merge fields and system columns as JSON, sealed), a sixth of the row. The selection
terms (`selected_by`, blind indexes) still say which attributes a point has for the audience
SQL.

On SQLite, `data_keys` (keyed by its text `contact_id`) had a rowid and a second b-tree for
its key, about 50 bytes a contact; it is written again WITHOUT ROWID, its rows in its key's
b-tree (PostgreSQL keeps its table and key index).

The downgrade adds the column back, empty, and writes SQLite's `data_keys` again with a
rowid. It serves this revision's code (the upgrade tests go down and up again), not a return
to older code: the code of this revision seals an event's personal fields with the names they
share as numbers (`adapters.sql.sealed_form`), which code from before it cannot open. Going
back to older code means restoring the backup taken before the upgrade (docs/privacy.md,
"Upgrading").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _data_keys(name: str, rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column("contact_id", sa.Text, primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sqlite_with_rowid=rowid,
    )


def _rewrite_data_keys(rowid: bool) -> None:
    """SQLite: `data_keys` written again, with or without its rowid, in one transaction. The
    old table's pages must be zeroed as they are freed, or every wrapped key would stay in the
    file after its contact's erasure: `secure_delete` is set here for this connection, whatever
    engine runs the migration (consentry's sets it too)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("PRAGMA secure_delete=ON")
    _data_keys("data_keys_new", rowid)
    op.execute(
        "INSERT INTO data_keys_new (contact_id, key_id, wrapped, created_at) "
        "SELECT contact_id, key_id, wrapped, created_at FROM data_keys ORDER BY contact_id"
    )
    op.drop_table("data_keys")
    op.rename_table("data_keys_new", "data_keys")


def upgrade() -> None:
    # SQLite (3.35 and later) drops a column that no index or constraint names in place; the
    # batch mode's copy of the table would rebuild its indexes (the report's covering one too).
    op.execute("ALTER TABLE point_facts DROP COLUMN attrs_ct")
    _rewrite_data_keys(rowid=False)


def downgrade() -> None:
    _rewrite_data_keys(rowid=True)
    op.add_column("point_facts", sa.Column("attrs_ct", sa.LargeBinary, nullable=True))
