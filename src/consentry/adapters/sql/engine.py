"""Engines and the connection settings consentry relies on (SQLite pragmas, bulk loads, checkpoints)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine

#: The page size a new SQLite database gets (see `create_engine`).
PAGE_BYTES = 8192
#: What a SQLite write-ahead log may keep of its size after a checkpoint.
_WAL_KEEP_BYTES = 64 * 1024 * 1024
#: A bulk load's SQLite page cache (KiB) and WAL pages between checkpoints (see `bulk_load_settings`).
#: Every checkpoint writes back each random-keyed index page the commits since the last one
#: touched, once: at 1M imported rows, ~400 MB of log between checkpoints (which is also
#: what the WAL file can grow to on disk) gave 7,900 rows/s where 80 MB gave 5,900. The
#: indexes still keyed at random (event ids, addresses) outgrow the cache in a big load:
#: at 1M rows 128 MB of cache gave 9,300 rows/s where 64 MB gave 8,500.
_BULK_CACHE_KB = 128 * 1024
_BULK_WAL_PAGES = (400 << 20) // PAGE_BYTES


class SchemaMissing(RuntimeError):
    """The database has no consentry schema yet (run `consentry init`)."""


def create_engine(url: str, serving: bool = False, lock_wait_s: float | None = None) -> Engine:
    """Create an engine with the connection settings consentry relies on.

    A serving process (`serving`) on SQLite leaves WAL checkpoints to `Checkpointer`,
    so no request pays for one inside its commit.

    `lock_wait_s` bounds how long a statement waits for a lock another connection holds
    (default: 30 s on SQLite, PostgreSQL's own default of no limit); then it fails, and
    `consentry.adapters.busy` recognises the failure. A serving process sets it short.

    SQLite runs in WAL mode with `synchronous=FULL`: every commit is flushed to disk before
    it returns, so an acknowledged unsubscribe or consent survives a power cut, not only a
    crash of the process (NORMAL would keep the last commits in the OS cache).
    """
    if url.startswith("sqlite"):
        _bind_as_they_are()
        wait_s = 30.0 if lock_wait_s is None else lock_wait_s
        engine = sa.create_engine(url, connect_args={"timeout": wait_s})

        @sa_event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            # A new database gets 8 KiB pages (SQLite's default is 4): its rows (events
            # with their payloads, projection JSON) are a few hundred bytes to a KiB, and
            # bigger pages split less and write fewer log frames — a bulk load spends ~18%
            # less in SQLite. An existing database keeps its page size (this is a no-op).
            cur.execute(f"PRAGMA page_size={PAGE_BYTES}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            # A bulk load lets the log grow to hundreds of MB; once it is checkpointed
            # and starts over, it is cut back to this size instead of keeping its peak.
            cur.execute(f"PRAGMA journal_size_limit={_WAL_KEEP_BYTES}")
            cur.execute(f"PRAGMA busy_timeout={int(wait_s * 1000)}")
            # Deleted rows are overwritten with zeros, not left in free pages and cells:
            # destroying a contact's data key (crypto-shredding) must leave no copy of it
            # in the file. It costs a write only where a delete frees a whole page.
            cur.execute("PRAGMA secure_delete=ON")
            if serving:
                cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        @sa_event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("consentry_write", False)
            # On the driver's connection: SQLAlchemy's own execution of a statement costs
            # ~20-40 µs, as much as the rest of a read transaction (every decision opens one).
            raw: Any = conn.connection.driver_connection
            if not raw.in_transaction:  # a read transaction is begun on the driver (`read_transaction`)
                raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = sa.create_engine(url, connect_args=_pg_connect_args(lock_wait_s))
    _ping_when_idle(engine)
    return engine


def _pg_connect_args(lock_wait_s: float | None) -> dict[str, Any]:
    """A PostgreSQL connection's arguments: its lock timeout when `lock_wait_s` bounds it."""
    if lock_wait_s is None:
        return {}
    return {"options": f"-c lock_timeout={max(1, int(lock_wait_s * 1000))}"}


#: The statement engine's pool (`statement_engine`): connections kept, and more made when all are out.
STATEMENT_POOL_SIZE = 5
STATEMENT_POOL_OVERFLOW = 5


def statement_engine(engine: Engine, lock_wait_s: float | None = None) -> Engine:
    """The engine statement reads run on (`SqlStore.statement_reader`), disposed with `engine`.

    On PostgreSQL a second engine on the same database whose connections are in autocommit
    from when they are made (`isolation_level="AUTOCOMMIT"`), with no reset when they go
    back (a connection in autocommit has no transaction to roll back): a statement read then
    checks a connection out and in, and switches nothing. On `engine`'s pool that switch, on
    and off, and the return's reset cost ~31,000 instructions a decision (a reader opened and
    closed in 140,186 then, 109,310 so; session 12). Its pool is its own (`STATEMENT_POOL_SIZE`
    kept, `STATEMENT_POOL_OVERFLOW` more), its connections pinged when idle as `engine`'s are
    (`PING_IDLE_S`) and waiting `lock_wait_s` for a lock as they do.

    `engine.dispose()` disposes it too (SQLAlchemy's `engine_disposed`), so whoever disposes
    the store's engine closes both pools. The event does not say whether `engine`'s
    connections were closed: a forked child's `dispose(close=False)` would close this pool's
    inherited connections (nothing here forks with a store in use: `consentry serve`'s
    workers are started afresh and build their own).

    On SQLite, `engine` itself: a statement read there is a connection without a BEGIN.
    """
    if engine.dialect.name != "postgresql":
        return engine
    reads = sa.create_engine(
        engine.url,
        connect_args=_pg_connect_args(lock_wait_s),
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return=None,
        pool_size=STATEMENT_POOL_SIZE,
        max_overflow=STATEMENT_POOL_OVERFLOW,
    )
    _ping_when_idle(reads)

    @sa_event.listens_for(engine, "engine_disposed")
    def _disposed(_engine: Engine) -> None:
        reads.dispose()

    return reads


def _bind_as_they_are() -> None:
    """Tell sqlite3 how it binds bytes, None and bools: as it always did, without a search.

    sqlite3 binds a str, int or float straight away and looks any other value up in its
    adapters. For bytes, None and bools (the projection's lookups, keys and flags; an event's
    chain hash and sealed fields come as bytearrays, which it binds at once) it finds none,
    then asks its protocol for an `__adapt__` it does not have, which formats an
    AttributeError and drops it (about 2,000 instructions a value), and binds the value as
    it is. Registered, the same values are bound for 0.1-0.2 µs less each: `bytes.__bytes__`
    gives a bytes value itself, None is given back, and `int.__index__` of a flag is the 1 or
    0 a bool was bound as. Those two are method descriptors called with the value, not the
    types `bytes` and `int` (whose calls parse their arguments and dispatch through the type:
    about 280 instructions a value more; an imported row binds some 30 bytes values and
    flags). Process-wide, as sqlite3's adapters are; for these three types only (an int, float
    or str adapter would send every value through the look-up).
    """
    sqlite3.register_adapter(bytes, bytes.__bytes__)
    sqlite3.register_adapter(bool, int.__index__)
    sqlite3.register_adapter(type(None), _itself)


def _itself(value: None) -> None:
    return value


#: A pooled PostgreSQL connection unused for longer than this is pinged before it is handed out.
PING_IDLE_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle (`PING_IDLE_S`).

    SQLAlchemy's `pool_pre_ping` pings on every checkout: a round trip to the server
    before every transaction, on a decision as much as its own query. A connection in
    steady use was just seen working; one left idle may have been cut (a server
    restart, a firewall's timeout) and is pinged, and replaced when the ping fails.
    """

    @sa_event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa_event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the driver's own error for a cut connection
            raise sa.exc.DisconnectionError(f"pooled connection lost: {exc}") from exc
        if not alive:
            raise sa.exc.DisconnectionError("pooled connection lost")


def require_schema(conn: Connection) -> None:
    """Raise `SchemaMissing` when the database has no consentry schema."""
    if not sa.inspect(conn).has_table("ledger_head"):
        raise SchemaMissing(
            f"no consentry database at {conn.engine.url.render_as_string(hide_password=True)}: "
            "run `consentry init` first"
        )


def has_schema(conn: Connection) -> bool:
    """Whether the database has the schema's key tables (what the start check reads)."""
    return bool(sa.inspect(conn).has_table("master_keys"))


@contextmanager
def bulk_load_settings(conn: Connection) -> Iterator[None]:
    """Settings for a bulk load on this connection (outside a transaction), put back at the end.

    On SQLite the connection gets a bigger page cache and checkpoints its write-ahead log
    less often while the load runs (a big file's random-keyed index pages are then written
    back once, not at every commit), and the log is checkpointed at the end; on PostgreSQL
    it plans every statement anew (see below). The settings are put back only when no
    transaction is left open on the connection.
    """
    raw: Any = conn.connection.driver_connection
    sqlite = conn.dialect.name == "sqlite"
    saved: list[tuple[str, Any]] = []
    if sqlite:
        for pragma, value in (
            ("cache_size", -_BULK_CACHE_KB),
            ("wal_autocheckpoint", _BULK_WAL_PAGES),
        ):
            saved.append((pragma, raw.execute(f"PRAGMA {pragma}").fetchone()[0]))
            raw.execute(f"PRAGMA {pragma}={int(value)}")
    else:
        # psycopg prepares a statement run five times; PostgreSQL then keeps a
        # generic plan made while the tables were small (a hash join over a
        # scan of contact_points, say). A load grows them a million-fold, and
        # each block's lookup would scan them whole: plan each statement anew.
        raw.execute("SET plan_cache_mode = force_custom_plan")
        raw.commit()
    try:
        yield
    finally:
        if not conn.in_transaction():
            if sqlite:
                for pragma, value in saved:
                    raw.execute(f"PRAGMA {pragma}={int(value)}")
                raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
            else:
                raw.execute("RESET plan_cache_mode")
                raw.commit()


class Checkpointer:
    """Runs SQLite's WAL checkpoints in the background for a serving process.

    PASSIVE checkpoints never wait for readers or writers; one a second keeps the
    write-ahead log short without any request doing the work.
    """

    def __init__(self, engine: Engine, every_s: float = 1.0) -> None:
        self.engine = engine
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start checkpointing (does nothing on other databases)."""
        if self.engine.dialect.name != "sqlite" or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with self.engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            while not self._stop.wait(self.every_s):
                raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def stop(self) -> None:
        """Run a last checkpoint and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
