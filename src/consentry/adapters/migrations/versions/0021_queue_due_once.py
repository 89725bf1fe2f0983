"""A campaign's queue is due once, on the campaign: the fill writes no time on each row.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

`campaigns.queued_at`: when the campaign's queue was filled. `campaign_messages.next_attempt_at`
becomes nullable: the fill leaves it NULL on every row it writes (a row so is due since its
campaign's `queued_at`), and only a retry or a hand-back writes one (docs/performance.md,
session 11: the fill wrote the same 26-byte moment on each of a million rows).

The due index (`ix_campaign_messages_due`) holds the rows with a time (`next_attempt_at IS NOT
NULL`) instead of the `waiting` and `claimed` ones: the rows claimed one by one, which always have
one, and what became of them; the fill's test of each row is then one NULL test.

Existing queues are carried over as a fill of this revision would have left them: a campaign's
`queued_at` is the time on its rows never tried, and a row whose time is that moment has none,
unless it is `waiting` or `claimed` (claimed one by one: it keeps its time and its entry in the
index). Every row lists and is claimed as before. SQLite copies the table into one of the new
shape (WITHOUT ROWID kept, which a batch copy would lose); PostgreSQL changes it in place. The
downgrade writes each missing time back from its campaign's `queued_at`.

Stop the send workers before upgrading (as before any migration): a worker still running the code
of 0020 hands rows back without a time, and a `waiting` row without one is never due.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_WAITING = "status = 'waiting' OR status = 'claimed'"
_TIMED = "next_attempt_at IS NOT NULL"
_COLUMNS = (
    "campaign_no, point_no, status, rule, attempts, next_attempt_at, worker, claimed_at, sent_at, "
    "message_id, art14, error, contact_point_id"
)
#: A row's time as 0021 keeps it: none where it is its campaign's fill moment (`queued_at`) and
#: the row is not one claimed one by one (those keep theirs: the due index holds them by it).
_KEPT = (
    "CASE WHEN m.status NOT IN ('waiting', 'claimed') AND m.next_attempt_at = "
    "(SELECT c.queued_at FROM campaigns c WHERE c.no = m.campaign_no) THEN NULL ELSE m.next_attempt_at END"
)
#: A row's time as 0020 needs one: its own, or its campaign's fill moment.
_BACK = (
    "coalesce(m.next_attempt_at, (SELECT coalesce(c.queued_at, c.updated_at) FROM campaigns c "
    "WHERE c.no = m.campaign_no))"
)


def _index(where: str) -> None:
    op.create_index(
        "ix_campaign_messages_due",
        "campaign_messages",
        ["campaign_no", "status", "next_attempt_at"],
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def _sqlite_queue(nullable: bool, time: str, where: str) -> None:
    """SQLite: `campaign_messages` copied into a table of the same key whose `next_attempt_at` is
    (or is not) nullable, each row's time as `time` gives it; the copy then takes the table's
    name and its partial index (on `where`)."""
    conn = op.get_bind()
    rows = int(conn.exec_driver_sql("SELECT count(*) FROM campaign_messages").scalar_one())
    op.execute(
        "CREATE TABLE campaign_messages_v21 ("
        "campaign_no INTEGER NOT NULL, point_no BIGINT NOT NULL, status VARCHAR(16) NOT NULL, "
        "rule VARCHAR(40), attempts INTEGER NOT NULL, "
        f"next_attempt_at DATETIME{'' if nullable else ' NOT NULL'}, worker VARCHAR(64), "
        "claimed_at DATETIME, sent_at DATETIME, message_id VARCHAR(255), art14 BOOLEAN NOT NULL, "
        "error TEXT, contact_point_id VARCHAR(40), PRIMARY KEY (campaign_no, point_no)) WITHOUT ROWID"
    )
    copied = ", ".join(time if col == "next_attempt_at" else f"m.{col}" for col in _COLUMNS.split(", "))
    op.execute(
        f"INSERT INTO campaign_messages_v21 ({_COLUMNS}) SELECT {copied} FROM campaign_messages m "
        "ORDER BY m.campaign_no, m.point_no"
    )
    if int(conn.exec_driver_sql("SELECT count(*) FROM campaign_messages_v21").scalar_one()) != rows:
        raise RuntimeError("the send queue's copy does not hold every row")
    op.drop_table("campaign_messages")
    op.rename_table("campaign_messages_v21", "campaign_messages")
    _index(where)


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("queued_at", sa.DateTime, nullable=True))
    # A filled campaign's moment: the time on each of its rows never tried (every fill wrote its
    # own `now` on each row; a hand-back kept it).
    op.execute(
        "UPDATE campaigns SET queued_at = (SELECT min(m.next_attempt_at) FROM campaign_messages m "
        "WHERE m.campaign_no = campaigns.no AND m.attempts = 0)"
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_queue(nullable=True, time=_KEPT, where=_TIMED)
        return
    op.execute("ALTER TABLE campaign_messages ALTER COLUMN next_attempt_at DROP NOT NULL")
    # The index on the column first: without it, a row's new version can stay on its page (a HOT
    # update) instead of every row of a filled queue being written anew with its index entries.
    op.drop_index("ix_campaign_messages_due", "campaign_messages")
    op.execute(f"UPDATE campaign_messages m SET next_attempt_at = NULL WHERE ({_KEPT}) IS NULL")
    _index(_TIMED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_queue(nullable=False, time=_BACK, where=_WAITING)
    else:
        missing = "WHERE m.next_attempt_at IS NULL"
        op.drop_index("ix_campaign_messages_due", "campaign_messages")
        op.execute(f"UPDATE campaign_messages m SET next_attempt_at = {_BACK} {missing}")
        op.execute("ALTER TABLE campaign_messages ALTER COLUMN next_attempt_at SET NOT NULL")
        _index(_WAITING)
    # Both databases drop a plain column in place (SQLite since 3.35).
    op.execute("ALTER TABLE campaigns DROP COLUMN queued_at")
