"""`Connected._plain` on PostgreSQL outside a transaction: libpq runs the statement, prepared once.

A decision through the service is one statement on PostgreSQL (`deciding.DecisionReads`),
run outside a transaction (`connected.statement_reads`). Through psycopg's cursor that
statement cost the client ~40 µs of CPU measured alone (a Transformer made anew for each
query text, the query parsed, its prepared state looked up, generators driven through the
connection's wait); through libpq, prepared once, ~15 µs. In a decision, after the thread
slept on the server's answer and runs with cold caches, the difference doubles
(docs/performance.md, "Decisions through the service"). Rows are still loaded by psycopg's
own loaders (a `Transformer` on the connection), so they are what the cursor gave.

Only outside a transaction: psycopg deallocates every prepared statement of the connection
(`DEALLOCATE ALL`, ours too) when it rolls back a transaction in which it had prepared its own,
so a statement of ours can find its name gone. Outside a transaction that costs nothing but a
second try (`rows` prepares it again); inside one, the failed statement would abort the
caller's transaction, so there `_plain` keeps psycopg's cursor, whose prepared statements
psycopg itself keeps track of.

libpq's call waits for the server with the GIL released; an interrupt (Ctrl-C) is seen once
the statement is done.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

#: Statements a connection keeps prepared; the least recently used is deallocated beyond it.
PREPARED_MAX = 200
#: The SQLSTATE of a prepared statement's name not found (invalid_sql_statement_name).
_GONE = b"26000"


class PgPlain:
    """One PostgreSQL connection's plain statements (kept with the pooled connection)."""

    def __init__(self, raw: Any) -> None:
        from psycopg import adapt, pq  # only PostgreSQL stores need the driver loaded

        self.raw = raw
        self._pgconn = raw.pgconn
        self._tx = adapt.Transformer(raw)
        self._auto = adapt.PyFormat.AUTO
        self._idle = pq.TransactionStatus.IDLE
        self._ok = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK)
        self._up = pq.ConnStatus.OK
        self._prepared: OrderedDict[tuple[str, tuple[int, ...]], bytes] = OrderedDict()
        self._made = 0

    def alone(self) -> bool:
        """Whether a statement now runs alone: in autocommit, no transaction open (`rows` may run it)."""
        return bool(self.raw.autocommit) and self._pgconn.transaction_status == self._idle

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """The rows of `sql` (`?` marks a parameter) with `params`, as tuples; only when `alone()`."""
        raw, pgconn, tx = self.raw, self._pgconn, self._tx
        with raw.lock:
            if params:
                values: Sequence[Any] = tx.dump_sequence(params, [self._auto] * len(params))
                types: tuple[int, ...] = tuple(tx.types or ())
                formats: Sequence[Any] | None = tx.formats
            else:
                values, types, formats = (), (), None
            key = (sql, types)
            name = self._prepared.get(key)
            if name is None:
                name = self._prepare(key)
            else:
                self._prepared.move_to_end(key)
            result = pgconn.exec_prepared(name, values, formats)
            if result.status not in self._ok and _sqlstate(result) == _GONE:  # psycopg deallocated it
                self._prepared.clear()
                result = pgconn.exec_prepared(self._prepare(key), values, formats)
            tx.set_pgresult(self._checked(result))
            return list(tx.load_rows(0, result.ntuples, tuple))

    def _prepare(self, key: tuple[str, tuple[int, ...]]) -> bytes:
        """Prepare a statement under a name of its own (psycopg's are `_pg3_N`); the oldest goes
        beyond `PREPARED_MAX`."""
        pgconn = self._pgconn
        if len(self._prepared) >= PREPARED_MAX:
            _, old = self._prepared.popitem(last=False)
            pgconn.exec_(b"DEALLOCATE " + old)  # outside a transaction: a name already gone harms nothing
        name = b"_consentry_%d" % self._made
        self._made += 1
        self._checked(pgconn.prepare(name, _numbered(key[0]), key[1] or None))
        self._prepared[key] = name
        return name

    def _checked(self, result: Any) -> Any:
        """The result, or psycopg's error for it raised: the class its SQLSTATE names, or an
        OperationalError with the server's message when the connection is lost."""
        if result.status not in self._ok:
            from psycopg import errors

            encoding = self.raw.info.encoding
            if self._pgconn.status != self._up:  # the server's own message is the connection's
                raise errors.OperationalError(self._pgconn.error_message.decode(encoding, "replace"))
            raise errors.error_from_result(result, encoding=encoding)
        return result


def _sqlstate(result: Any) -> bytes | None:
    """A failed result's SQLSTATE."""
    from psycopg import pq

    state: bytes | None = result.error_field(pq.DiagnosticField.SQLSTATE)
    return state


@lru_cache(maxsize=1024)
def _numbered(sql: str) -> bytes:
    """`?` parameter marks as libpq numbers them (`$1`, `$2`, ...)."""
    parts = sql.split("?")
    out = [parts[0]]
    for i, part in enumerate(parts[1:], 1):
        out.append(f"${i}{part}")
    return "".join(out).encode()


def kept(info: dict[Any, Any], raw: Any) -> PgPlain:
    """The `PgPlain` kept with a pooled connection for its lifetime (`info`: the pool's record of it)."""
    found: PgPlain | None = info.get("consentry_pg_plain")
    if found is None or found.raw is not raw:
        found = info["consentry_pg_plain"] = PgPlain(raw)
    return found
