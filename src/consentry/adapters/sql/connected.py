"""Plain SQL on the driver connection of a transaction the caller holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from consentry.adapters.sql.stored import CHUNK


class Connected:
    """Access within one transaction: the base of every part of a `Reader` and a `Writer`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._sqlite = conn.dialect.name == "sqlite"

    def _plain(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of plain SQL (`?` marks a parameter) run on the driver's cursor, in this transaction.

        For the reads every decision makes: SQLAlchemy's execution and result processing
        cost ~50-100 µs a query and several µs a row, the driver's a few µs. Columns come
        as the driver gives them; `_json` and `stored.utc` convert JSON and moments.
        """
        if not self._sqlite:
            sql = sql.replace("?", "%s")
        raw: Any = self.conn.connection.driver_connection
        return list(raw.execute(sql, tuple(params)).fetchall())

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

    def _rows_of(self, sql: str, values: Sequence[Any], pg_type: str = "text") -> list[Any]:
        """The rows of a query over a set of values (`{set}`, as `_each` runs it): on PostgreSQL one
        query with the set as an array, on SQLite one per `stored.CHUNK` values."""
        if not values:
            return []
        if not self._sqlite:
            return self._plain(sql.format(set=f"IN (SELECT unnest(?::{pg_type}[]))"), [list(values)])
        found: list[Any] = []
        for i in range(0, len(values), CHUNK):
            part = values[i : i + CHUNK]
            found.extend(self._plain(sql.format(set=f"IN ({', '.join('?' * len(part))})"), part))
        return found

    def _json(self, value: Any) -> Any:
        """A JSON column as read by `_plain`: text on SQLite, already decoded on PostgreSQL."""
        return orjson.loads(value) if self._sqlite and value is not None else value
