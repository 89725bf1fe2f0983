"""Plain SQL on the driver connection of a transaction the caller holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy.engine import Connection


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

    def _json(self, value: Any) -> Any:
        """A JSON column as read by `_plain`: text on SQLite, already decoded on PostgreSQL."""
        return orjson.loads(value) if self._sqlite and value is not None else value
