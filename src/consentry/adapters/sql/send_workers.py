"""Send workers: their locks, and the claims of a dead worker handed back to the queue.

Send workers announce themselves with a `WorkerLock`: on PostgreSQL a session
advisory lock keyed by the worker's id, held on a connection of its own for the
worker's whole life; on SQLite an exclusive lock on a file beside the database,
which also keeps a second worker out. Either lock is let go by the operating
system or the server when the process dies, however it dies, which is how
claims of a dead worker are told from those of a live one. Its claims (the
`queued` rows of its ranges, the rows it claimed one by one; see
`campaign_queue`) are then handed back as `waiting`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.campaign_queue import CLAIMED, DUE, QUEUED, WAITING, c, cursor, due, number
from consentry.services.errors import WorkerBusy

# -- claims handed back ---------------------------------------------------------------------


def _handed_back(no: int) -> dict[str, Any]:
    """What a row of campaign `no` handed back to the queue is set to: `waiting`, no worker, and
    due as it was (a row as the fill wrote it gets the fill's moment, `due`: a `waiting` row is
    claimed one by one, by the due index, which holds only rows with a time)."""
    return {"status": WAITING, "worker": None, "claimed_at": None, "next_attempt_at": due(no)}


def release(conn: Connection, key: str, points: Sequence[int], worker: str) -> None:
    """Give claimed rows that were never tried back to the queue (`waiting`, due as they were: a
    row as the fill wrote it, at the fill's moment)."""
    if not points:
        return
    no = number(conn, key)
    mine = sa.or_(
        sa.and_(c.status == CLAIMED, c.worker == worker),  # by its key: no need of the due index
        sa.and_(c.status == QUEUED, c.point_no <= cursor(conn, no)),  # in this worker's range
    )
    stmt = t.campaign_messages.update().where(
        c.campaign_no == no, c.point_no == sa.bindparam("b_point"), mine
    )
    conn.execute(stmt.values(**_handed_back(no)), [{"b_point": p} for p in points])


def _ranges(conn: Connection, no: int, workers: Sequence[str] | None = None) -> list[tuple[int, int, str]]:
    """The campaign's claimed ranges (above, upto, worker) below its cursor that still hold queued
    rows (of these workers); those that hold none are let go, all but the cursor's own."""
    top = cursor(conn, no)
    g = t.campaign_claims.c
    q = sa.select(g.above, g.upto, g.worker).where(g.campaign_no == no).order_by(g.upto)
    ranges = [(int(a), int(u), str(w)) for a, u, w in conn.execute(q)]
    holding = sa.text(
        "SELECT 1 FROM campaign_messages WHERE campaign_no = :no AND point_no > :above "
        f"AND point_no <= :upto AND status = '{QUEUED}' LIMIT 1"
    )
    live, settled = [], []
    for above, upto, worker in ranges:
        if conn.execute(holding, {"no": no, "above": above, "upto": upto}).first() is not None:
            live.append((above, upto, worker))
        elif upto < top:
            settled.append({"b_upto": upto})
    if settled:
        gone = t.campaign_claims.delete().where(g.campaign_no == no, g.upto == sa.bindparam("b_upto"))
        conn.execute(gone, settled)
    return [r for r in live if workers is None or r[2] in workers]


def claimants(conn: Connection, key: str) -> list[str]:
    """The workers holding claims in this campaign."""
    no = number(conn, key)
    one_by_one = sa.select(c.worker).where(c.campaign_no == no, c.status == CLAIMED, DUE).distinct()
    found = {w for w in conn.execute(one_by_one).scalars() if w is not None}
    return sorted(found | {worker for _, _, worker in _ranges(conn, no)})


def requeue_claims(conn: Connection, key: str, workers: Sequence[str] | None = None) -> int:
    """Put the claims of these workers (all, when None) back in the queue; returns how many."""
    if workers is not None and not workers:
        return 0
    no = number(conn, key)
    back = _handed_back(no)
    q = t.campaign_messages.update().where(c.campaign_no == no, c.status == CLAIMED, DUE)
    if workers is not None:
        q = q.where(c.worker.in_(list(workers)))
    n = int(conn.execute(q.values(**back)).rowcount)
    ranges = _ranges(conn, no, workers)
    in_range = (
        t.campaign_messages.update()
        .where(c.campaign_no == no, c.status == QUEUED)
        .where(c.point_no > sa.bindparam("b_above"), c.point_no <= sa.bindparam("b_upto"))
        .values(**back)
    )
    for above, upto, _ in ranges:
        n += int(conn.execute(in_range, {"b_above": above, "b_upto": upto}).rowcount)
    return n


# -- workers' locks ---------------------------------------------------------------------


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
