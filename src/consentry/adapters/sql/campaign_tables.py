"""The campaigns and their send queue (see `tables`, which re-exports them)."""

from __future__ import annotations

import sqlalchemy as sa

from consentry.adapters.sql.columns import JSONType, UTCDateTime, metadata

#: Campaigns: a definition (JSON, see consentry.domain.campaigns) and where sending stands.
campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    #: The campaign's number: what its queue rows and claims name it by (1, 2, ... as created).
    sa.Column("no", sa.Integer, nullable=False),
    sa.Column("definition", JSONType, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    #: Why the campaign paused (or other news for the operator).
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    #: When its queue was filled: when each of its never-tried messages is due (their own
    #: `next_attempt_at` is NULL until a retry or a hand-back writes one).
    sa.Column("queued_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("no", name="uq_campaigns_no"),
)

#: One row per contact point a campaign considered: the send queue and its outcome, keyed by
#: the campaign's number and the point's (`point_facts.point_no`), so the fill appends narrow
#: rows in key order (on SQLite the table is that key itself: WITHOUT ROWID).
#: `status` as stored (`campaign_queue`): `queued` rows are claimed as a range of the key
#: (`campaign_claims`), so a claim writes one row, not one per message; `waiting` rows
#: (retried, or handed back) are claimed one by one, `claimed` with their worker.
campaign_messages = sa.Table(
    "campaign_messages",
    metadata,
    sa.Column("campaign_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("point_no", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("status", sa.String(16), nullable=False),
    #: The rule that kept the message from being sent (skipped).
    sa.Column("rule", sa.String(40), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    #: When a message queued again (`waiting`) is due. NULL on a row as the fill wrote it: it is
    #: due since its campaign's `queued_at`, which the fill writes once instead of on every row.
    sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
    sa.Column("worker", sa.String(64), nullable=True),
    sa.Column("claimed_at", UTCDateTime(), nullable=True),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("message_id", sa.String(255), nullable=True),
    #: The message carried the Art. 14 notice (a retry carries it again).
    sa.Column("art14", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    #: The point's id, written by the fill on each row it queues: a claim reads it with its range
    #: instead of looking each one up in `point_facts`. NULL on a row skipped at the fill, and
    #: once the point is erased (a claim then finds no point to send to).
    sa.Column("contact_point_id", sa.String(40), nullable=True),
    #: The rows with a time of their own: those claimed one by one (retries, rows handed back:
    #: `waiting`, then `claimed`) and what became of them. The fill writes no time, so it writes
    #: no entry here, and its test of each row is one NULL test (before: two comparisons of the
    #: status, ~4% of SQLite's fill). A statement that looks for `claimed` rows says the time is
    #: there (a row claimed one by one always has one) so that it may read this index.
    sa.Index(
        "ix_campaign_messages_due",
        "campaign_no",
        "status",
        "next_attempt_at",
        sqlite_where=sa.text("next_attempt_at IS NOT NULL"),
        postgresql_where=sa.text("next_attempt_at IS NOT NULL"),
    ),
    sqlite_with_rowid=False,
)

#: The ranges of a campaign's queue its workers claimed: the `queued` rows with a point number
#: in (above, upto] belong to `worker`. The highest `upto` is how far the queue was handed out.
campaign_claims = sa.Table(
    "campaign_claims",
    metadata,
    sa.Column("campaign_no", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("upto", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("above", sa.BigInteger, nullable=False),
    sa.Column("worker", sa.String(64), nullable=False),
    sa.Column("claimed_at", UTCDateTime(), nullable=False),
)
