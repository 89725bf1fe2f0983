"""`SqlStore`: read and write transactions over one database (SQLite or PostgreSQL).

Implements `services.ports.Store`; a duplicate key becomes the services' `AlreadyExists`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from consentry.adapters.crypto.vault import Vault
from consentry.adapters.sql import audience, schema
from consentry.adapters.sql.audience import AudienceQuery
from consentry.adapters.sql.connected import Pooled, read_transaction
from consentry.adapters.sql.data_keys import check_at_start, scrub_destroyed_keys
from consentry.adapters.sql.engine import bulk_load_settings, has_schema, require_schema
from consentry.adapters.sql.reader import Reader
from consentry.adapters.sql.send_workers import WorkerLock
from consentry.adapters.sql.writer import Writer
from consentry.domain.ids import DerivedIds
from consentry.services.errors import AlreadyExists
from consentry.services.ports import AudienceAsk


class SqlStore:
    """Transactions over one database."""

    def __init__(self, engine: Engine, vault: Vault, *, statements: Engine, now: Any = None) -> None:
        self.engine = engine
        #: What statement readers read on: `engine.statement_engine(engine, ...)`, made with the same
        #: lock wait as `engine` (asked for, not made here: each one made adds a pool and a listener).
        self.statements = statements
        self.vault = vault
        self._now = now or (lambda: datetime.now(UTC))
        self._schema_seen = False
        self._keys_checked = False

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """A read transaction on one snapshot (begun on the driver: see `connected.read_transaction`),
        the keys and the schema checked first."""
        self.check_keys()
        with read_transaction(self.engine) as opened:
            yield self._reader_on(opened)

    def statement_reader(self) -> AbstractContextManager[Reader]:
        """Reads outside a transaction, each statement on its own snapshot (`StatementReads`)."""
        return StatementReads(self)

    def _reader_on(self, opened: Pooled) -> Reader:
        """A `Reader` on a connection of either kind, the schema checked on the store's first
        (`r.conn`, SQLAlchemy's connection, is made only for that check)."""
        r = Reader(opened, self.vault)
        if not self._schema_seen:
            self._require_schema(r.conn)
        return r

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        """A write transaction holding the ledger lock; rolls back on any error."""
        self.check_keys()
        with self.engine.connect().execution_options(consentry_write=True) as conn, self._writing(conn) as w:
            yield w

    @contextmanager
    def _writing(self, conn: Connection) -> Iterator[Writer]:
        """One write transaction on a connection opened for writing."""
        try:
            with conn.begin():
                self._require_schema(conn)
                w = Writer(conn, self._now(), self.vault)
                yield w
                # Whatever a caller deferred, the projection commits in step with the ledger.
                w.project_pending()
        except sa.exc.IntegrityError as exc:
            if _duplicate(exc):
                raise AlreadyExists(f"the key exists: {exc.orig}") from exc
            raise

    @contextmanager
    def bulk_writers(self) -> Iterator[Callable[[], AbstractContextManager[Writer]]]:
        """Write transactions for a bulk load (an import), one after another on one connection.

        Each transaction is what `writer()` gives; the connection has the bulk-load
        settings of `engine.bulk_load_settings` while the load runs.
        """
        self.check_keys()
        with (
            self.engine.connect().execution_options(consentry_write=True) as conn,
            bulk_load_settings(conn),
        ):
            yield lambda: self._writing(conn)

    def audience_counts(self, ask: AudienceAsk) -> tuple[AudienceQuery, dict[str, int]]:
        """How many considered points each rule decides (see `audience.counts`)."""
        return audience.counts(self, ask)

    def worker_lock(self, worker: str) -> WorkerLock:
        """The lock that announces a send worker (see `send_workers`)."""
        return WorkerLock(self.engine, worker)

    @property
    def tells_live_workers(self) -> bool:
        """PostgreSQL tells a live worker's claims by its advisory lock; SQLite has one worker."""
        return self.engine.dialect.name == "postgresql"

    def derived_ids(self) -> DerivedIds:
        """A keyed maker of import ids, under a subkey of the blind index secret."""
        return self.vault.blind.derived_ids()

    def scrub_erased(self) -> bool:
        """Remove what erased contacts' deleted rows and keys leave in the database files
        (`data_keys.scrub_destroyed_keys`); False when a reader kept SQLite's log (try again)."""
        return scrub_destroyed_keys(self.engine)

    def migrate(self) -> str:
        """Create or upgrade the schema; the revision it is at."""
        schema.upgrade(self.engine, self.vault, self._now())
        self.check_keys()
        return schema.current_revision(self.engine) or "-"

    def check_keys(self) -> None:
        """Refuse a master key the database's data keys are not wrapped under (`WrongMasterKey`).

        Runs once, before the first transaction (`data_keys.check_at_start`); a database
        without the schema is left to the schema check.
        """
        if self._keys_checked:
            return
        with self.engine.connect() as conn:
            if not has_schema(conn):
                return
        check_at_start(self.engine, self.vault.keys, self._now())
        self._keys_checked = True

    def _require_schema(self, conn: Connection) -> None:
        if not self._schema_seen:
            require_schema(conn)
            self._schema_seen = True


class StatementReads:
    """A `Reader` with no transaction around its reads (`SqlStore.statement_reader`): each statement
    runs alone, on a snapshot of its own, on a connection of the store's statement engine
    (`engine.statement_engine`: on PostgreSQL in autocommit for good, on SQLite without a BEGIN).

    For reads that need no second statement to agree with the first (a decision:
    `services.decide`): no BEGIN and no COMMIT, so on PostgreSQL one round trip a statement,
    and nothing switched on the connection. A read through SQLAlchemy's `Connection` on it
    begins no transaction on PostgreSQL's server either (on SQLite the engine's own BEGIN, as
    before). Its connections are not reset when they go back (nothing to roll back), so nothing
    read through it may change the session (`SET`; `SET LOCAL` does nothing in autocommit). A
    connection a read failed on is given back only when the server has it idle; one cut, or left
    mid-statement, is dropped. One small class, not generator context managers: every decision
    opens one (two of those cost ~17,000 instructions more, session 11).
    """

    __slots__ = ("_opened", "_store")

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def __enter__(self) -> Reader:
        store = self._store
        store.check_keys()
        engine = store.statements
        opened = self._opened = Pooled(engine, engine.raw_connection(), transaction=False)
        try:
            return store._reader_on(opened)
        except BaseException:
            opened.release()
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        opened = self._opened
        if exc is not None and not _idle(opened):
            opened.pooled.invalidate(exc)
        opened.release()


def _idle(opened: Pooled) -> bool:
    """Whether a statement reader's connection can serve the next one after a failed read: on
    PostgreSQL the server has it idle, outside a transaction (not cut, not mid-statement); a
    SQLite connection without a BEGIN always can."""
    if opened.engine.dialect.name != "postgresql":
        return True
    import psycopg  # only PostgreSQL stores need the driver loaded

    raw: Any = opened.pooled.driver_connection
    return bool(raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)


def _duplicate(exc: sa.exc.IntegrityError) -> bool:
    """Whether the violation is of a unique key (not, say, a missing reference)."""
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)
