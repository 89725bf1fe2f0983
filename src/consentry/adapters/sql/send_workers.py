"""Send workers' locks: how claims of a dead worker are told from those of a live one.

Send workers announce themselves with a `WorkerLock`: on PostgreSQL a session
advisory lock keyed by the worker's id, held on a connection of its own for the
worker's whole life; on SQLite an exclusive lock on a file beside the database,
which also keeps a second worker out. Either lock is let go by the operating
system or the server when the process dies, however it dies, which is how
claims of a dead worker are told from those of a live one (`campaign_queue`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from consentry.services.errors import WorkerBusy


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
