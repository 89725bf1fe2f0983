"""Telling a database that is busy (another connection holds the lock) from one that is broken.

A request that waited its time for SQLite's write lock, or for a PostgreSQL row lock
(`lock_timeout`), failed for a reason that passes: the API and the pages answer 503
with Retry-After, and the client tries again. Anything else stays an error.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER_S = 2
#: PostgreSQL's SQLSTATE for a lock not obtained within `lock_timeout`.
_PG_LOCK_NOT_AVAILABLE = "55P03"


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` is the database refusing because another connection held a lock too long.

    SQLAlchemy wraps the driver's error; a transaction begun on the driver itself (the read
    transactions, and the BEGIN IMMEDIATE of a write on SQLite) raises the driver's own.
    """
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    name = str(getattr(orig, "sqlite_errorname", ""))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return True
    return getattr(orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE
