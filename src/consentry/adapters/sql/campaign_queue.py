"""Campaigns and their send queue in SQL, on a Reader's or Writer's connection.

Every function takes the SQLAlchemy connection of a transaction the caller
holds (`r.conn`, `w.conn`), so queue changes commit together with whatever
else that transaction writes (ledger events, above all).

Send workers announce themselves with a `WorkerLock`: on PostgreSQL a session
advisory lock keyed by the worker's id, held on a connection of its own for the
worker's whole life; on SQLite an exclusive lock on a file beside the database,
which also keeps a second worker out. Either lock is let go by the operating
system or the server when the process dies, however it dies, which is how
claims of a dead worker are told from those of a live one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.audience import fence
from consentry.adapters.sql.stored import naive_utc, sqlite_time
from consentry.domain.campaigns import CampaignStatus, MessageStatus
from consentry.services.errors import WorkerBusy
from consentry.services.ports import Claim

c = t.campaign_messages.c
k = t.campaigns.c
QUEUED, CLAIMED, SENT = MessageStatus.QUEUED.value, MessageStatus.CLAIMED.value, MessageStatus.SENT.value
SKIPPED, FAILED = MessageStatus.SKIPPED.value, MessageStatus.FAILED.value
#: A named parameter (`:name`) of a statement run on the driver's cursor.
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


# -- campaigns ------------------------------------------------------------------------------


def insert(conn: Connection, key: str, definition: dict[str, Any], now: datetime) -> None:
    """Store a new campaign as a draft (IntegrityError, to the services AlreadyExists, for a taken key)."""
    conn.execute(
        t.campaigns.insert().values(
            key=key,
            definition=definition,
            status=CampaignStatus.DRAFT.value,
            errors=0,
            created_at=now,
            updated_at=now,
        )
    )


def replace_definition(conn: Connection, key: str, definition: dict[str, Any], now: datetime) -> None:
    """Change a draft's definition."""
    conn.execute(t.campaigns.update().where(k.key == key).values(definition=definition, updated_at=now))


def get(conn: Connection, key: str, lock: bool = False) -> dict[str, Any] | None:
    """A campaign's row (key, definition, status, errors, note, created_at, updated_at)."""
    q = sa.select(t.campaigns).where(k.key == key)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    return None if row is None else dict(row._mapping)


def all_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every campaign's row, newest first."""
    q = sa.select(t.campaigns).order_by(k.created_at.desc(), k.key)
    return [dict(r._mapping) for r in conn.execute(q)]


def set_status(
    conn: Connection,
    key: str,
    status: CampaignStatus,
    now: datetime,
    note: str | None = None,
    reset_errors: bool = False,
) -> None:
    """Move a campaign to `status`, with a note for the operator (None clears it)."""
    values: dict[str, Any] = {"status": status.value, "updated_at": now, "note": note}
    if reset_errors:
        values["errors"] = 0
    conn.execute(t.campaigns.update().where(k.key == key).values(**values))


def add_errors(conn: Connection, key: str, n: int, now: datetime) -> int:
    """Count `n` more sending errors; returns the campaign's total."""
    if n:
        conn.execute(t.campaigns.update().where(k.key == key).values(errors=k.errors + n, updated_at=now))
    return int(conn.execute(sa.select(k.errors).where(k.key == key)).scalar_one())


# -- the queue ------------------------------------------------------------------------------


def fill(
    conn: Connection, key: str, keyed_sql: str, params: dict[str, Any], allowed: Sequence[str], now: datetime
) -> int:
    """Write the judged audience into the queue in one statement; returns how many rows.

    `keyed_sql` selects contact_point_id and the deciding rule for every considered point.
    Points decided by an `allowed` rule are queued; the others are written as skipped with
    the rule that excluded them, so the campaign's report says who was left out and why.
    The rows go in in the order the audience's scan reads them: a point's number, which
    follows its time-ordered id, so the queue's key and point index are appended to at
    their right-hand end. (Sorting them by id instead cost SQLite more than it saved.)

    The judging query is fenced (SQLite: a LIMIT on it and on the query around it;
    PostgreSQL: OFFSET 0), so each row's rule is computed once. Flattened into the INSERT,
    both databases wrote the rule's CASE wherever the status and the rule name it, and
    judged every row three times (docs/performance.md).
    """
    sqlite = conn.dialect.name == "sqlite"
    marks = {f"cs_allow{i}": rule for i, rule in enumerate(allowed)}
    allow = f"a.rule IN ({', '.join(':' + m for m in marks)})" if marks else "1 = 0"
    sql = (
        "INSERT INTO campaign_messages (campaign, contact_point_id, status, rule, attempts, "
        "next_attempt_at, art14) "
        f"SELECT :cs_campaign, a.contact_point_id, CASE WHEN {allow} THEN '{QUEUED}' ELSE '{SKIPPED}' END, "
        f"CASE WHEN {allow} THEN NULL ELSE a.rule END, 0, :cs_now, :cs_false "
        f"FROM ({keyed_sql}{fence(conn.dialect.name, postgresql=True)}) a{' LIMIT -1' if sqlite else ''}"
    )
    named = set(_NAMED.findall(sql))  # the audience's parameters include those of its verdict
    stmt = sa.text(sql).bindparams(
        sa.bindparam("cs_now", type_=t.UTCDateTime()),
        **{name: value for name, value in params.items() if name in named},
        **marks,
        cs_campaign=key,
        cs_now=now,
        cs_false=False,
    )
    return int(conn.execute(stmt).rowcount)


def claim(conn: Connection, key: str, worker: str, n: int, now: datetime) -> list[Claim]:
    """Claim up to `n` queued rows that are due, the earliest due first.

    On PostgreSQL the rows are picked `FOR UPDATE SKIP LOCKED`, so workers claiming
    at the same moment never wait for, or take, each other's rows. They are picked
    in the order of the claim index (ordered by when they are due: without the order,
    PostgreSQL scanned the table past every claimed row) and updated by their row
    address (`ctid`, SQLite's `rowid`), not looked up again by key (EXPLAIN ANALYZE at
    500,000 queued: 2.1 s a claim of 5,000 rows before, 0.17 s after; docs/performance.md).
    """
    postgres = conn.dialect.name == "postgresql"
    address = "ctid" if postgres else "rowid"
    # A CTE is evaluated once; `IN (subquery)` may be run again per row, claiming more than `n`.
    sql = (
        f"WITH picked AS (SELECT {address} AS address FROM campaign_messages "
        f"WHERE campaign = :key AND status = '{QUEUED}' AND next_attempt_at <= :now "
        f"ORDER BY next_attempt_at LIMIT :n{' FOR UPDATE SKIP LOCKED' if postgres else ''}) "
        f"UPDATE campaign_messages SET status = '{CLAIMED}', worker = :worker, claimed_at = :now "
        f"FROM picked WHERE campaign_messages.{address} = picked.address "
        "RETURNING campaign_messages.contact_point_id, campaign_messages.attempts, campaign_messages.art14"
    )
    # On the driver's cursor, as `mark_sent`: SQLAlchemy's rows cost more than the claim's SQL.
    params = {"key": key, "now": _stored_moment(conn, now), "n": n, "worker": worker}
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        cur.execute(_NAMED.sub(r"%(\1)s", sql) if postgres else sql, params)
        return [Claim(pid, int(attempts), bool(art14)) for pid, attempts, art14 in cur.fetchall()]
    finally:
        cur.close()


def _stored_moment(conn: Connection, now: datetime) -> Any:
    """A moment as `tables.UTCDateTime` stores it, for a statement run on the driver's cursor."""
    moment = naive_utc(now)
    return sqlite_time(moment) if conn.dialect.name == "sqlite" else moment


def _many(conn: Connection, key: str, values: dict[str, Any], rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = (
        t.campaign_messages.update()
        .where(c.campaign == key, c.contact_point_id == sa.bindparam("b_point"))
        .values(**values)
    )
    conn.execute(stmt, list(rows))


def skip(conn: Connection, key: str, rules: dict[str, str]) -> None:
    """Mark messages skipped, each with the rule that stopped it."""
    if not rules:
        return
    rows = [{"b_point": pid, "b_rule": rule} for pid, rule in rules.items()]
    _many(conn, key, {"status": SKIPPED, "rule": sa.bindparam("b_rule"), "worker": None}, rows)


def mark_sent(conn: Connection, key: str, sent: Sequence[tuple[str, str, bool]], now: datetime) -> None:
    """Mark messages sent: (contact point, Message-ID, carried the Art. 14 notice).

    Run on the driver's cursor: this is the statement of every commit before a dot.
    """
    if not sent:
        return
    sqlite = conn.dialect.name == "sqlite"
    moment = _stored_moment(conn, now)
    sql = (
        "UPDATE campaign_messages SET status = ?, sent_at = ?, message_id = ?, art14 = ?, error = NULL "
        "WHERE campaign = ? AND contact_point_id = ?"
    )
    if not sqlite:
        sql = sql.replace("?", "%s")
    rows = [(SENT, moment, mid, art14, key, pid) for pid, mid, art14 in sent]
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        cur.executemany(sql, rows)
    finally:
        cur.close()


def retry(conn: Connection, key: str, later: Sequence[tuple[str, str, datetime]]) -> None:
    """Put messages back in the queue after a temporary failure: (contact point, error, when)."""
    if not later:
        return
    rows = [{"b_point": pid, "b_error": err[:1000], "b_next": at} for pid, err, at in later]
    values = {
        "status": QUEUED,
        "attempts": c.attempts + 1,
        "error": sa.bindparam("b_error"),
        "next_attempt_at": sa.bindparam("b_next", type_=t.UTCDateTime()),
        "worker": None,
        "sent_at": None,
    }
    _many(conn, key, values, rows)


def fail(conn: Connection, key: str, failed: Sequence[tuple[str, str]]) -> None:
    """Mark messages failed for good: (contact point, the server's code and text)."""
    if not failed:
        return
    rows = [{"b_point": pid, "b_error": err[:1000]} for pid, err in failed]
    values = {"status": FAILED, "attempts": c.attempts + 1, "error": sa.bindparam("b_error"), "worker": None}
    _many(conn, key, values, rows)


def release(conn: Connection, key: str, points: Sequence[str], worker: str) -> None:
    """Give claimed rows that were never tried back to the queue, as they were."""
    rows = [{"b_point": pid} for pid in points]
    stmt = (
        t.campaign_messages.update()
        .where(
            c.campaign == key,
            c.contact_point_id == sa.bindparam("b_point"),
            c.status == CLAIMED,
            c.worker == worker,
        )
        .values(status=QUEUED, worker=None, claimed_at=None)
    )
    if rows:
        conn.execute(stmt, rows)


def claimants(conn: Connection, key: str) -> list[str]:
    """The workers holding claims in this campaign."""
    q = sa.select(c.worker).where(c.campaign == key, c.status == CLAIMED).distinct()
    return [w for w in conn.execute(q).scalars() if w is not None]


def requeue_claims(conn: Connection, key: str, workers: Sequence[str] | None = None) -> int:
    """Put the claims of these workers (all, when None) back in the queue; returns how many."""
    q = t.campaign_messages.update().where(c.campaign == key, c.status == CLAIMED)
    if workers is not None:
        if not workers:
            return 0
        q = q.where(c.worker.in_(list(workers)))
    return int(conn.execute(q.values(status=QUEUED, worker=None, claimed_at=None)).rowcount)


def counts(conn: Connection, key: str) -> dict[str, int]:
    """How many messages are in each status."""
    q = sa.select(c.status, sa.func.count()).where(c.campaign == key).group_by(c.status)
    found = {s.value: 0 for s in MessageStatus}
    found.update({status: int(n) for status, n in conn.execute(q)})
    return found


def skipped_by_rule(conn: Connection, key: str) -> dict[str, int]:
    """How many messages each rule kept from being sent, most first."""
    q = (
        sa.select(c.rule, sa.func.count().label("n"))
        .where(c.campaign == key, c.status == SKIPPED)
        .group_by(c.rule)
        .order_by(sa.desc("n"), c.rule)
    )
    return {str(rule): int(n) for rule, n in conn.execute(q)}


def unsubscribed_since(conn: Connection, key: str) -> int:
    """How many people a campaign reached unsubscribed after their message was sent."""
    e = t.events.c
    later = sa.exists().where(
        e.contact_point_id == c.contact_point_id, e.occurred_at >= c.sent_at, e.type == "unsubscribed"
    )
    q = sa.select(sa.func.count()).where(c.campaign == key, c.status == SENT, later)
    return int(conn.execute(q).scalar_one())


def next_due(conn: Connection, key: str) -> datetime | None:
    """When the earliest queued message is due (None: nothing queued)."""
    q = sa.select(sa.func.min(c.next_attempt_at)).where(c.campaign == key, c.status == QUEUED)
    found: datetime | None = conn.execute(q).scalar_one_or_none()
    return found


def messages(conn: Connection, key: str, status: MessageStatus | None = None) -> list[dict[str, Any]]:
    """The queue's rows (all, or in one status), by contact point."""
    q = sa.select(t.campaign_messages).where(c.campaign == key)
    if status is not None:
        q = q.where(c.status == status.value)
    return [dict(r._mapping) for r in conn.execute(q.order_by(c.contact_point_id))]


# -- workers --------------------------------------------------------------------------------


def _lock_key(worker: str) -> int:
    return int.from_bytes(hashlib.blake2b(worker.encode(), digest_size=8).digest(), "big", signed=True)


class WorkerLock:
    """Announces a live send worker for as long as it is held (see the module docstring)."""

    def __init__(self, engine: Engine, worker: str) -> None:
        self.engine = engine
        self.worker = worker
        self.postgres = engine.dialect.name == "postgresql"
        self._conn: Connection | None = None
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; WorkerBusy when another worker holds a SQLite database."""
        if self.postgres:
            self._conn = self.engine.connect()
            self._conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(self.worker)})
            self._conn.commit()
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            return
        fd = os.open(f"{database}.send-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WorkerBusy(
                "another send worker is running on this SQLite database, and SQLite allows one; "
                "wait for it, or use PostgreSQL to send with several workers"
            ) from None
        self._fd = fd

    def release(self) -> None:
        """Let go of the lock."""
        if self._conn is not None:
            self._conn.close()  # ends the session, and with it the advisory lock
            self._conn = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def dead_workers(conn: Connection, workers: Sequence[str], me: str) -> list[str]:
    """Those of these workers that no longer run (their lock is free).

    On SQLite the caller holds the only worker lock, so every other worker is dead.
    """
    others = [w for w in workers if w != me]
    if conn.dialect.name != "postgresql":
        return others
    dead = []
    for w in others:
        key = _lock_key(w)
        if conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one():
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            dead.append(w)
    return dead
