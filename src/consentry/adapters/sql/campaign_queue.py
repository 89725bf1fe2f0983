"""Campaigns and their send queue in SQL, on a Reader's or Writer's connection.

Every function takes the SQLAlchemy connection of a transaction the caller
holds (`r.conn`, `w.conn`), so queue changes commit together with whatever
else that transaction writes (ledger events, above all). Every write here runs
in a Writer, which holds the ledger lock: claims never run side by side.

The queue (`tables.campaign_messages`) is keyed by the campaign's number and the
point's (`point_facts.point_no`). What a row's stored status means:

- `queued`: not yet tried. The fill writes every allowed point so, in key order, with the
  point's id (what a claim hands out, cleared when the point is erased), and
  a worker claims them as a range of the key: "the rows after K, up to N of them",
  one row in `campaign_claims` (campaign, above K, upto, worker) instead of rewriting
  N rows. A `queued` row at or below the highest `upto` (the campaign's cursor) is
  claimed, by the worker whose range holds it; above it, it waits its turn.
- `waiting`: queued again (a retry after a temporary failure, due at `next_attempt_at`,
  or a claimed row handed back, due when it was); claimed one by one, as `claimed` with its worker.
- `sent`, `skipped` (with its rule), `failed`: the outcome, written by the send.

A row as the fill wrote it has no `next_attempt_at` (NULL): it is due since its campaign's
`queued_at`, the fill's moment, written once on the campaign. A hand-back writes that moment
on the row (`send_workers`), a retry its own; the listing shows either (`campaign_reports`).

`campaign_reports` reads them back as the statuses the domain knows (queued, claimed,
sent, skipped, failed). Dead workers are told by their lock, and their claims handed back,
in `send_workers`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.audience import fence
from consentry.adapters.sql.stored import naive_utc, sqlite_time
from consentry.domain.campaigns import CampaignStatus, MessageStatus
from consentry.services.ports import Claim

c = t.campaign_messages.c
k = t.campaigns.c
QUEUED, CLAIMED, SENT = MessageStatus.QUEUED.value, MessageStatus.CLAIMED.value, MessageStatus.SENT.value
SKIPPED, FAILED = MessageStatus.SKIPPED.value, MessageStatus.FAILED.value
#: Queued again, claimed one by one (see the module docstring); reported as queued.
WAITING = "waiting"
#: Below every point's number: where a campaign's first claim starts.
START = -1
#: Above every point's number: the cursor of a campaign whose queue is handed out to its end.
END = 2**63 - 1
#: True of every row claimed one by one, `waiting` or `claimed` (see `tables.campaign_messages`):
#: lets a statement that looks for them read the due index, which holds the rows with a time.
DUE = c.next_attempt_at.is_not(None)
#: The statistics target of the ANALYZE after a fill (PostgreSQL's default is 100: 30,000 rows).
_FILL_STATISTICS = 10
#: A named parameter (`:name`) of a statement run on the driver's cursor.
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


# -- campaigns ------------------------------------------------------------------------------


def insert(conn: Connection, key: str, definition: dict[str, Any], now: datetime) -> None:
    """Store a new campaign as a draft, numbered after the last (IntegrityError, to the services
    AlreadyExists, for a taken key)."""
    following = sa.select(sa.func.coalesce(sa.func.max(k.no), 0) + 1).scalar_subquery()
    conn.execute(
        t.campaigns.insert().values(
            key=key,
            no=following,
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
    """A campaign's row (key, no, definition, status, errors, note, created_at, updated_at, queued_at)."""
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


def number(conn: Connection, key: str) -> int:
    """The campaign's number (0, which no campaign has, for an unknown key)."""
    return position(conn, key)[0]


def cursor(conn: Connection, no: int) -> int:
    """How far campaign `no`'s queue was handed out: its `queued` rows up to here are claimed."""
    found = _driver(conn, f"SELECT {_TOP}", {"no": no})[0][0]
    return START if found is None else int(found)


#: The highest claimed `upto` of campaign `:no` (a subquery: `max()` with a WHERE scanned them all).
_TOP = "(SELECT upto FROM campaign_claims WHERE campaign_no = :no ORDER BY upto DESC LIMIT 1)"


def position(conn: Connection, key: str) -> tuple[int, int]:
    """The campaign's number and cursor, in one statement on the driver ((0, START) when unknown)."""
    rows = _driver(
        conn,
        f"SELECT no, {_TOP.replace(':no', 'campaigns.no')} FROM campaigns WHERE key = :key",
        {"key": key},
    )
    if not rows:
        return 0, START
    no, top = rows[0]
    return int(no), START if top is None else int(top)


# -- the queue ------------------------------------------------------------------------------


def due(no: int) -> sa.ColumnElement[datetime]:
    """When a row of campaign `no` is due: its own `next_attempt_at`, or for a row as the fill
    wrote it (NULL there) the fill's moment, the campaign's `queued_at`."""
    queued_at = sa.select(k.queued_at).where(k.no == no).scalar_subquery()
    return sa.func.coalesce(c.next_attempt_at, queued_at, type_=t.UTCDateTime())


def fill(conn: Connection, key: str, keyed_sql: str, params: dict[str, Any], now: datetime) -> int:
    """Write the judged audience into the queue in one statement; returns how many rows.

    `keyed_sql` selects point_no, the point's id and the deciding rule for every considered
    point, the rule NULL where it allows (`AudienceQuery.keyed`). Those points are queued with
    their id (what a claim hands out); the others are written as skipped with the rule that
    excluded them, so the campaign's report says who was left out and why. The rows go
    in in the order the audience's scan reads them: by the point's number, the queue's key,
    so the queue is appended to at its right-hand end; the only other index holds none of
    them (it holds the rows claimed one by one).

    The judging query is fenced (SQLite: a LIMIT on it and on the query around it;
    PostgreSQL: OFFSET 0), so each row's rule is computed once. Flattened into the INSERT,
    both databases wrote the rule's CASE wherever the status and the rule name it, and
    judged every row three times (docs/performance.md). Whether the rule allows is one NULL
    test in each of the status and the id: before, each compared the rule's id with the
    allowing rules' ids (SQLite: a probe of a list a test, ~0.2 s of the fill's ~1.2 s CPU at
    1M; PostgreSQL tested it once a row in a fenced layer of its own).
    """
    sqlite = conn.dialect.name == "sqlite"
    no = number(conn, key)
    # When the rows are due: once on the campaign, not on each row (`next_attempt_at` stays NULL
    # until a retry or a hand-back writes one): at 1M, 26 bytes of a row's ~75 and ~6% of SQLite's
    # instructions for the INSERT (docs/performance.md, sessions 10 and 11).
    conn.execute(t.campaigns.update().where(k.no == no).values(queued_at=now))
    sql = (
        "INSERT INTO campaign_messages "
        "(campaign_no, point_no, status, rule, attempts, art14, contact_point_id) "
        f"SELECT :cs_campaign, a.point_no, CASE WHEN a.rule IS NULL THEN '{QUEUED}' ELSE '{SKIPPED}' END, "
        "a.rule, 0, :cs_false, CASE WHEN a.rule IS NULL THEN a.contact_point_id END "
        f"FROM ({keyed_sql}{fence(conn.dialect.name, postgresql=True)}) a{' LIMIT -1' if sqlite else ''}"
    )
    named = set(_NAMED.findall(sql))  # the audience's parameters include those of its verdict
    stmt = sa.text(sql).bindparams(
        **{name: value for name, value in params.items() if name in named},
        cs_campaign=no,
        cs_false=False,
    )
    filled = int(conn.execute(stmt).rowcount)
    if not sqlite:
        target = conn.exec_driver_sql("SHOW default_statistics_target").scalar_one()
        # Statistics from before the fill put the campaign at a row or two: a claim's range was
        # then planned as a bitmap scan of every row after the cursor and a sort (0.3 s a claim
        # at 200,000 rows), not as the key's ordered scan that stops after `n` rows. What the
        # plan needs is the campaign's share of the table, which a sample of 3,000 rows gives
        # as well as the default's 30,000 (at 1M: 0.02 s against 0.20-0.23 s, and a table of
        # many campaigns' queues reads 3,000 pages for it instead of up to 30,000).
        # The coarser statistics stay for every column of the table (and override a higher
        # target the operator set) until autovacuum or an ANALYZE of their own replaces them;
        # the queue's other statements read by key or by the partial index of rows due.
        conn.exec_driver_sql(f"SET LOCAL default_statistics_target = {_FILL_STATISTICS}")
        conn.exec_driver_sql("ANALYZE campaign_messages")
        conn.exec_driver_sql("SELECT set_config('default_statistics_target', %s, true)", (target,))
    return filled


def claim(conn: Connection, key: str, worker: str, n: int, now: datetime) -> list[Claim]:
    """Claim up to `n` rows that are due: those queued again first (earliest due first),
    then the next range of the queue.

    The range is the next `n` queued rows after the campaign's cursor, read in key order
    with each point's id (none for a point erased since); the claim writes one row
    (`campaign_claims`), not one per message. A range that reaches the queue's end is
    claimed up to `END`, so a later claim finds it handed out without reading the rest again.
    """
    no, above = position(conn, key)
    moment = _stored_moment(conn, now)
    found = _claim_waiting(conn, no, worker, n, moment)
    if len(found) < n and above < END:
        found += _claim_range(conn, no, above, worker, n - len(found), moment)
    return found


def _claim_waiting(conn: Connection, no: int, worker: str, n: int, moment: Any) -> list[Claim]:
    """Claim up to `n` due `waiting` rows one by one (`claimed`, with the worker), on their index.

    On PostgreSQL they are picked `FOR UPDATE SKIP LOCKED` and updated by row address
    (`ctid`; SQLite's rows are their key), not looked up again (docs/performance.md).
    """
    postgres = conn.dialect.name == "postgresql"
    # A CTE is evaluated once; `IN (subquery)` may be run again per row, claiming more than `n`.
    sql = (
        f"WITH picked AS (SELECT point_no FROM campaign_messages WHERE campaign_no = :no "
        f"AND status = '{WAITING}' AND next_attempt_at <= :now "
        f"ORDER BY next_attempt_at LIMIT :n{' FOR UPDATE SKIP LOCKED' if postgres else ''}) "
        f"UPDATE campaign_messages SET status = '{CLAIMED}', worker = :worker, claimed_at = :now "
        "FROM picked WHERE campaign_messages.campaign_no = :no "
        "AND campaign_messages.point_no = picked.point_no "
        "RETURNING campaign_messages.next_attempt_at, campaign_messages.point_no, "
        "campaign_messages.contact_point_id, campaign_messages.attempts, campaign_messages.art14"
    )
    # An UPDATE returns its rows in no given order: the earliest due first, as picked.
    picked = sorted(_driver(conn, sql, {"no": no, "now": moment, "n": n, "worker": worker}))
    return [(p, pid, int(attempts), art14) for _, p, pid, attempts, art14 in picked]


def _claim_range(conn: Connection, no: int, above: int, worker: str, n: int, moment: Any) -> list[Claim]:
    """Claim the next `n` queued rows after the cursor `above` as one range (see `claim`).

    A `queued` row was never tried: the fill writes it with no attempts and no notice, and a row
    once tried or handed back is `waiting` from then on (migration 0017 made those of older queues
    so). So the range reads each row's number and id and hands out those two constants beside
    them. On SQLite it reads the two columns alone and makes each claim's tuple here: its driver
    takes the connection's lock for each column's type and value, which cost more (at 1M, ~0.06 s
    of the claims' ~0.32 s CPU; docs/performance.md, session 12). PostgreSQL's driver makes each
    row's tuple in C, so there the statement gives the constants (a loop here cost ~0.03 s CPU).
    """
    ranged = {"no": no, "above": above, "n": n}
    rows: list[Claim]
    if conn.dialect.name == "sqlite":
        raw: Any = conn.connection.driver_connection
        cur = raw.cursor()
        try:
            rows = [(point, pid, 0, 0) for point, pid in cur.execute(_RANGE_SQLITE, ranged)]
        finally:
            cur.close()
    else:
        rows = _driver(conn, _RANGE_PG, ranged)
    upto = rows[-1][0] if len(rows) == n else END
    claimed = {"no": no, "upto": upto, "above": above, "worker": worker, "at": moment}
    _driver(
        conn,
        "INSERT INTO campaign_claims (campaign_no, upto, above, worker, claimed_at) "
        "VALUES (:no, :upto, :above, :worker, :at)",
        claimed,
    )
    return rows


#: The next `:n` queued rows after `:above`, each with its point's id as the fill wrote it (none for
#: a point erased since): SQLite's statement reads the two columns, PostgreSQL's gives the constants
#: too (see `_claim_range`). Before the queue carried the ids, a claim looked each one up in
#: `point_facts`: at 1M, 0.35 s of SQLite's 0.65 s CPU for the whole queue's claims and two thirds
#: of PostgreSQL's time (an index descent and a heap page a row).
_RANGE_SQLITE = (
    "SELECT point_no, contact_point_id FROM campaign_messages "
    f"WHERE campaign_no = :no AND point_no > :above AND status = '{QUEUED}' ORDER BY point_no LIMIT :n"
)
_RANGE_PG = _RANGE_SQLITE.replace("contact_point_id", "contact_point_id, 0, 0", 1)


def _driver(conn: Connection, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A statement's rows, run on the driver's cursor: SQLAlchemy's rows cost more than a claim's SQL."""
    postgres = conn.dialect.name == "postgresql"
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        cur.execute(_NAMED.sub(r"%(\1)s", sql) if postgres else sql, params)
        return list(cur.fetchall()) if cur.description else []
    finally:
        cur.close()


def _stored_moment(conn: Connection, now: datetime) -> Any:
    """A moment as `tables.UTCDateTime` stores it, for a statement run on the driver's cursor."""
    moment = naive_utc(now)
    return sqlite_time(moment) if conn.dialect.name == "sqlite" else moment


# -- the outcome ----------------------------------------------------------------------------


def _many(conn: Connection, key: str, values: dict[str, Any], rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    no = number(conn, key)
    stmt = t.campaign_messages.update().where(c.campaign_no == no, c.point_no == sa.bindparam("b_point"))
    conn.execute(stmt.values(**values), list(rows))


def skip(conn: Connection, key: str, rules: dict[int, str]) -> None:
    """Mark messages skipped (by point number), each with the rule that stopped it."""
    rows = [{"b_point": p, "b_rule": rule} for p, rule in rules.items()]
    _many(conn, key, {"status": SKIPPED, "rule": sa.bindparam("b_rule"), "worker": None}, rows)


def mark_sent(conn: Connection, key: str, sent: Sequence[tuple[int, str, bool]], now: datetime) -> None:
    """Mark messages sent: (point number, Message-ID, carried the Art. 14 notice).

    Run on the driver's cursor: this is the statement of every commit before a dot.
    """
    if not sent:
        return
    no = number(conn, key)
    moment = _stored_moment(conn, now)
    sql = (
        "UPDATE campaign_messages SET status = ?, sent_at = ?, message_id = ?, art14 = ?, error = NULL "
        "WHERE campaign_no = ? AND point_no = ?"
    )
    if conn.dialect.name != "sqlite":
        sql = sql.replace("?", "%s")
    rows = [(SENT, moment, mid, art14, no, p) for p, mid, art14 in sent]
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        cur.executemany(sql, rows)
    finally:
        cur.close()


def retry(conn: Connection, key: str, later: Sequence[tuple[int, str, datetime]]) -> None:
    """Queue messages again after a temporary failure: (point number, error, when)."""
    rows = [{"b_point": p, "b_error": err[:1000], "b_next": at} for p, err, at in later]
    values = {
        "status": WAITING,
        "attempts": c.attempts + 1,
        "error": sa.bindparam("b_error"),
        "next_attempt_at": sa.bindparam("b_next", type_=t.UTCDateTime()),
        "worker": None,
        "claimed_at": None,
        "sent_at": None,
    }
    _many(conn, key, values, rows)


def fail(conn: Connection, key: str, failed: Sequence[tuple[int, str]]) -> None:
    """Mark messages failed for good: (point number, the server's code and text)."""
    rows = [{"b_point": p, "b_error": err[:1000]} for p, err in failed]
    values = {"status": FAILED, "attempts": c.attempts + 1, "error": sa.bindparam("b_error"), "worker": None}
    _many(conn, key, values, rows)
