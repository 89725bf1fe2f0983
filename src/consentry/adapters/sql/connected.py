"""Plain SQL on the driver connection of a transaction the caller holds, or of none (`StatementReads`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import PoolProxiedConnection

from consentry.adapters.sql.stored import CHUNK


class Pooled:
    """A pooled connection whose (read) transaction was begun on the driver (`read_transaction`).

    SQLAlchemy's `Connection` over it is made only when a read asks for one.
    """

    def __init__(self, engine: Engine, pooled: PoolProxiedConnection, transaction: bool = True) -> None:
        self.engine = engine
        self.pooled = pooled
        self.transaction = transaction  # False: each statement alone (`store.StatementReads`)
        self._conn: Connection | None = None

    def connection(self) -> Connection:
        """SQLAlchemy's connection over it, made on first use."""
        if self._conn is None:
            self._conn = Connection(self.engine, connection=self.pooled)
        return self._conn

    def release(self) -> None:
        """Give the connection back to the pool (the driver's transaction has ended)."""
        if self._conn is not None:
            self._conn.close()  # ends its notional transaction (nothing left to end) and checks in
        else:
            self.pooled.close()


class Connected:
    """Access within one transaction: the base of every part of a `Reader` and a `Writer`.

    Given a `Pooled` connection (a read transaction), SQLAlchemy's `Connection` is made
    only when a read uses it: the plain-SQL reads every decision makes need none, and
    making one, beginning and ending it costs more than a decision's whole query.
    """

    def __init__(self, conn: Connection | Pooled) -> None:
        #: Whether each statement runs on a snapshot of its own (no transaction: `store.StatementReads`).
        self._own_snapshots = isinstance(conn, Pooled) and not conn.transaction
        if isinstance(conn, Pooled):
            self._conn: Connection | None = None
            self._pooled: Pooled | None = conn
            engine = conn.engine
            proxied: PoolProxiedConnection = conn.pooled
        else:
            self._conn, self._pooled = conn, None
            engine = conn.engine
            proxied = conn.connection
        self._raw: Any = proxied.driver_connection
        self._kept: dict[Any, Any] = proxied.info  # what stays with the pooled connection
        self._cursor: Any = None
        self._sqlite = engine.dialect.name == "sqlite"

    @property
    def conn(self) -> Connection:
        """SQLAlchemy's connection in this transaction (made on first use over a `Pooled` one)."""
        if self._conn is None:
            assert self._pooled is not None
            self._conn = self._pooled.connection()
        return self._conn

    def _plain(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of plain SQL (`?` marks a parameter) run on the driver's cursor, in this transaction.

        For the reads every decision makes: SQLAlchemy's execution and result processing
        cost ~50-100 µs a query and several µs a row, the driver's a few µs. Columns come
        as the driver gives them; `_json` and `stored.utc` convert JSON and moments.
        """
        if not self._sqlite:
            sql = _for_psycopg(sql)
        cursor = self._cursor
        if cursor is None:
            cursor = self._cursor = _plain_cursor(self._kept, self._raw)
        return list(cursor.execute(sql, tuple(params)).fetchall())

    def _in(self, column: str, values: Sequence[Any], pg_type: str = "text") -> tuple[str, list[Any]]:
        """`column IN (...)` for `_plain`, as each database plans it well.

        PostgreSQL checks a list of parameters against every row of a scan, and a
        bulk load's stale statistics favour the scan: one array, joined as a set,
        lets it use the column's index instead. `pg_type` is the values' type there
        (`bytea` for blind indexes).
        """
        if self._sqlite:
            return f"{column} IN ({', '.join('?' * len(values))})", list(values)
        return f"{column} IN (SELECT unnest(?::{pg_type}[]))", [list(values)]

    def _each(self, sql: str, values: Sequence[Any], pg_type: str = "text") -> int:
        """Run a statement over a set of values, set-wise; how many rows it changed.

        `sql` names the set as `{set}` (e.g. `DELETE FROM t WHERE id {set}`). PostgreSQL gets
        the whole set at once as one array, joined as a set (`IN (SELECT unnest(?::text[]))`,
        as `_in` does: one statement however many values, on the column's index even where a
        bulk load left stale statistics; `= ANY(array)` was planned as a scan of the table);
        SQLite, in-process, an `IN (...)` list per `stored.CHUNK` values.
        """
        if not values:
            return 0
        # Through SQLAlchemy's connection (not the driver's): a write must begin the caller's
        # transaction as SQLAlchemy knows it, or its commit would not commit it.
        if not self._sqlite:
            text = sql.format(set=f"IN (SELECT unnest(%s::{pg_type}[]))")
            return int(self.conn.exec_driver_sql(text, (list(values),)).rowcount)
        done = 0
        for i in range(0, len(values), CHUNK):
            part = values[i : i + CHUNK]
            text = sql.format(set=f"IN ({', '.join('?' * len(part))})")
            done += int(self.conn.exec_driver_sql(text, tuple(part)).rowcount)
        return done

    def _rows_of(
        self, sql: str, values: Sequence[Any], pg_type: str = "text", before: Sequence[Any] = ()
    ) -> list[Any]:
        """The rows of a query over a set of values (`{set}`, as `_each` runs it): on PostgreSQL one
        query with the set as an array, on SQLite one per `stored.CHUNK` values. `before` are
        the parameters of any `?` ahead of the set."""
        if not values:
            return []
        if not self._sqlite:
            return self._plain(sql.format(set=f"IN (SELECT unnest(?::{pg_type}[]))"), [*before, list(values)])
        found: list[Any] = []
        for i in range(0, len(values), CHUNK):
            part = values[i : i + CHUNK]
            found.extend(self._plain(sql.format(set=f"IN ({', '.join('?' * len(part))})"), [*before, *part]))
        return found

    def _json(self, value: Any) -> Any:
        """A JSON column as read by `_plain`: text on SQLite, already decoded on PostgreSQL."""
        return orjson.loads(value) if self._sqlite and value is not None else value


@lru_cache(maxsize=512)
def _for_psycopg(sql: str) -> str:
    """A statement's `?` as psycopg's `%s`, made once a text: psycopg is then given the same string
    each time, which its caches find at once. Given a new (equal) string each time, as
    `sql.replace` made it, psycopg spent ~27,000 more instructions a statement (callgrind;
    a cached decision is one statement of ~86,000 there, session 11).
    """
    return sql.replace("?", "%s")


def _plain_cursor(kept: dict[Any, Any], raw: Any) -> Any:
    """The cursor `_plain` runs on, kept with the pooled connection for its lifetime.

    A new psycopg cursor costs ~15 µs of CPU (its own copy of the connection's adapters):
    half of what a decision's one statement costs the client. `_plain` fetches every row
    at once, so one cursor serves every read on the connection.
    """
    found = kept.get("consentry_plain_cursor")
    if found is None or found[0] is not raw or getattr(found[1], "closed", False):
        found = kept["consentry_plain_cursor"] = (raw, raw.cursor())
    return found[1]


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Pooled]:
    """A read transaction begun and ended on the driver: committed, or rolled back on an error.

    SQLite begins a deferred transaction (a snapshot from its first read); PostgreSQL
    runs it REPEATABLE READ, one snapshot for every statement. A `Connected` made on it
    gives the connection back to the pool when the transaction ends.
    """
    pooled = engine.raw_connection()
    raw: Any = pooled.driver_connection
    sqlite = engine.dialect.name == "sqlite"
    level = None
    try:
        if sqlite:
            raw.execute("BEGIN")
        else:
            level = raw.isolation_level
            raw.isolation_level = _repeatable_read()
    except BaseException:
        pooled.close()
        raise
    opened = Pooled(engine, pooled)
    try:
        yield opened
    except BaseException:
        raw.rollback()
        raise
    else:
        raw.commit()
    finally:
        try:
            if not sqlite:
                raw.isolation_level = level
        finally:
            opened.release()


def _repeatable_read() -> Any:
    import psycopg  # only PostgreSQL stores need the driver loaded

    return psycopg.IsolationLevel.REPEATABLE_READ
