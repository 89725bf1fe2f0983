"""The events table's stored form, lean: one chain hash of 32 bytes a row; on SQLite, seq the rowid.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

`events.hash` was 64 hex characters; it becomes the hash's 32 bytes (BLOB, bytea).
`events.prev_hash` goes: it was the previous row's hash stored again (the first row's: the
chain's genesis, `chain_epochs`' for a chain that continues an earlier one), and the reader
takes it from there (`adapters/sql/ledger.py`). An event's hash still covers the hash before
it, so an edited, removed or reordered row still breaks the chain where it is.
What the chain hashes, and how it is shown, exported and signed (hex), does not change: the
store converts at its boundary (`adapters/sql/stored.py`). Nothing is hashed again, so
`ledger verify` and the signed checkpoints hold before and after.

On SQLite `seq BIGINT PRIMARY KEY` was not the rowid: the table had a hidden rowid and a
second b-tree for the key. `seq INTEGER PRIMARY KEY` is the rowid itself. SQLite cannot
change a column's type or key, so the table is written anew in `seq` order (the freed pages
are zeroed by the engine's `secure_delete`) and its index is built again. PostgreSQL
converts the columns in place (one rewrite of the table) and keeps `seq` a bigint.

The downgrade writes `prev_hash` back from the previous row's hash (the genesis for the first).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from consentry.domain.chain import GENESIS, epoch_genesis

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_COLUMNS = "seq, id, contact_point_id, type, occurred_at, recorded_at, schema_version, payload, sealed"


def _unhex(value: Any) -> Any:
    """Hex text as its bytes (SQLite before 3.41 has no `unhex`); anything else as it is."""
    return bytes.fromhex(value) if isinstance(value, str) else value


def _genesis() -> str:
    """The hash the first event is chained to (`LedgerReads.chain_genesis`)."""
    previous = (
        op.get_bind()
        .exec_driver_sql("SELECT previous_head_hash FROM chain_epochs ORDER BY epoch DESC LIMIT 1")
        .scalar_one_or_none()
    )
    return GENESIS if previous is None else epoch_genesis(str(previous))


def _rebuild_sqlite(lean: bool) -> None:
    """Write `events` anew: lean (seq the rowid, one hash in bytes) or as 0013 and 0014 kept it."""
    conn = op.get_bind()
    raw: Any = conn.connection.driver_connection
    raw.create_function("consentry_unhex", 1, _unhex, deterministic=True)
    digest: sa.types.TypeEngine[Any] = sa.LargeBinary(32) if lean else sa.String(64)
    op.create_table(
        "events_rebuilt",
        sa.Column("seq", sa.Integer if lean else sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("contact_point_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("schema_version", sa.SmallInteger, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),  # SQLite only: JSON, as 0009 made it
        sa.Column("sealed", sa.LargeBinary, nullable=True),
        *([] if lean else [sa.Column("prev_hash", digest, nullable=False)]),
        sa.Column("hash", digest, nullable=False),
    )
    if lean:
        conn.exec_driver_sql(
            f"INSERT INTO events_rebuilt ({_COLUMNS}, hash) "
            f"SELECT {_COLUMNS}, consentry_unhex(hash) FROM events ORDER BY seq"
        )
    else:
        previous = "lag(lower(hex(hash))) OVER (ORDER BY seq)"
        conn.exec_driver_sql(
            f"INSERT INTO events_rebuilt ({_COLUMNS}, prev_hash, hash) "
            f"SELECT {_COLUMNS}, coalesce({previous}, ?), lower(hex(hash)) FROM events ORDER BY seq",
            (_genesis(),),
        )
    op.drop_index("ix_events_point_time", "events")
    op.drop_table("events")
    op.rename_table("events_rebuilt", "events")
    op.create_index("ix_events_point_time", "events", ["contact_point_id", "occurred_at", "seq"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(lean=True)
        return
    op.execute(
        "ALTER TABLE events DROP COLUMN prev_hash, ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(lean=False)
        return
    op.execute("ALTER TABLE events ALTER COLUMN hash TYPE varchar(64) USING encode(hash, 'hex')")
    op.add_column("events", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.get_bind().exec_driver_sql(
        "UPDATE events SET prev_hash = coalesce(p.previous, %s) FROM "
        "(SELECT seq, lag(hash) OVER (ORDER BY seq) AS previous FROM events) AS p WHERE p.seq = events.seq",
        (_genesis(),),
    )
    op.alter_column("events", "prev_hash", existing_type=sa.String(64), nullable=False)
