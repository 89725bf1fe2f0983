"""The SQL store: the ledger, its projection, purposes and settings (SQLite or PostgreSQL).

Writers are serialised: on SQLite by `BEGIN IMMEDIATE`, on PostgreSQL by a row
lock on the ledger head, so the hash chain has exactly one next link. Each
append inserts the events, moves the head and refreshes the projection of
every contact point it touched, in one transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine

from consentry.adapters import tables as t
from consentry.domain.chain import GENESIS, ChainedRow, link, payload_json
from consentry.domain.events import Event
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState, Listing, fold
from consentry.domain.vocabulary import ObjectionScope, PointKind, PurposeKind
from consentry.policy.sqlfacts import COLUMNS as FACT_COLUMNS
from consentry.policy.sqlfacts import DATE_COLUMNS, facts_row, listing_rows
from consentry.policy.sqlfacts import value_hash as entry_hash

_CHUNK = 500
#: A bulk load's SQLite page cache (KiB) and WAL pages between checkpoints (see `bulk_writers`).
#: Every checkpoint writes back each random-keyed index page the commits since the last one
#: touched, once: at 1M imported rows, ~400 MB of log between checkpoints (which is also
#: what the WAL file can grow to on disk) gave 7,900 rows/s where 80 MB gave 5,900. The
#: indexes still keyed at random (event ids, addresses) outgrow the cache in a big load:
#: at 1M rows 128 MB of cache gave 9,300 rows/s where 64 MB gave 8,500.
_BULK_CACHE_KB = 128 * 1024
_PAGE_BYTES = 8192
_BULK_WAL_PAGES = (400 << 20) // _PAGE_BYTES


class SchemaMissing(RuntimeError):
    """The database has no consentry schema yet (run `consentry init`)."""


#: What a SQLite write-ahead log may keep of its size after a checkpoint.
_WAL_KEEP_BYTES = 64 * 1024 * 1024


def create_engine(url: str, serving: bool = False) -> Engine:
    """Create an engine with the connection settings consentry relies on.

    A serving process (`serving`) on SQLite leaves WAL checkpoints to `Checkpointer`,
    so no request pays for one inside its commit.

    SQLite runs in WAL mode with `synchronous=FULL`: every commit is flushed to disk before
    it returns, so an acknowledged unsubscribe or consent survives a power cut, not only a
    crash of the process (NORMAL would keep the last commits in the OS cache).
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa_event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            # A new database gets 8 KiB pages (SQLite's default is 4): its rows (events
            # with their payloads, projection JSON) are a few hundred bytes to a KiB, and
            # bigger pages split less and write fewer log frames — a bulk load spends ~18%
            # less in SQLite. An existing database keeps its page size (this is a no-op).
            cur.execute(f"PRAGMA page_size={_PAGE_BYTES}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            # A bulk load lets the log grow to hundreds of MB; once it is checkpointed
            # and starts over, it is cut back to this size instead of keeping its peak.
            cur.execute(f"PRAGMA journal_size_limit={_WAL_KEEP_BYTES}")
            cur.execute("PRAGMA busy_timeout=30000")
            if serving:
                cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        @sa_event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("consentry_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(url, pool_pre_ping=True)


def _row_to_event(r: Any) -> Event:
    return Event(
        id=r.id,
        type=r.type,
        contact_point_id=r.contact_point_id,
        occurred_at=r.occurred_at,
        recorded_at=r.recorded_at,
        payload=r.payload,
        schema_version=r.schema_version,
        seq=r.seq,
    )


def _purpose(r: Any) -> Purpose:
    return Purpose(
        key=r.key,
        name_nl=r.name_nl,
        name_en=r.name_en,
        kind=PurposeKind(r.kind),
        categories=frozenset(r.categories),
        third_party=r.third_party,
    )


def _day(value: date | str | None) -> date | None:
    """A stored date read straight from the driver (SQLite: text; PostgreSQL: a date)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _utc(value: datetime | str) -> datetime:
    """A stored moment read straight from the driver (SQLite: text; PostgreSQL: naive) as aware UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class Reader:
    """Read access within one consistent snapshot."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._sqlite = conn.dialect.name == "sqlite"

    def _plain(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of plain SQL (`?` marks a parameter) run on the driver's cursor, in this transaction.

        For the reads every decision makes: SQLAlchemy's execution and result processing
        cost ~50-100 µs a query and several µs a row, the driver's a few µs. Columns come
        as the driver gives them; `_json` and `_utc` convert JSON and moments.
        """
        if not self._sqlite:
            sql = sql.replace("?", "%s")
        raw: Any = self.conn.connection.driver_connection
        return list(raw.execute(sql, tuple(params)).fetchall())

    def _in(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        """`column IN (...)` for `_plain`, as each database plans it well.

        PostgreSQL checks a list of parameters against every row of a scan, and a
        bulk load's stale statistics favour the scan: one array, joined as a set,
        lets it use the column's index instead.
        """
        if self._sqlite:
            return f"{column} IN ({', '.join('?' * len(values))})", list(values)
        return f"{column} IN (SELECT unnest(?::text[]))", [list(values)]

    def _json(self, value: Any) -> Any:
        """A JSON column as read by `_plain`: text on SQLite, already decoded on PostgreSQL."""
        return orjson.loads(value) if self._sqlite and value is not None else value

    def heads(self, point_ids: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        """Each point's projection head: the last event's seq and the latest occurred_at."""
        found: dict[str, tuple[int, datetime | None]] = {}
        for chunk in _chunks(list(dict.fromkeys(point_ids))):
            where, params = self._in("contact_point_id", chunk)
            sql = f"SELECT contact_point_id, last_seq, last_event_at FROM contact_state WHERE {where}"
            for pid, seq, at in self._plain(sql, params):
                found[pid] = (seq, _utc(at) if at is not None else None)
        return found

    def registers_version(self) -> tuple[int, datetime | None]:
        """Changes whenever a register is (re)imported: its count and latest update."""
        ((n, latest),) = self._plain("SELECT count(*), max(updated_at) FROM registers")
        return int(n), (_utc(latest) if latest is not None else None)

    def point_id(self, kind: PointKind, value: str) -> str | None:
        """The id of a registered contact point with this normalised value."""
        return self.conn.execute(
            sa.select(t.contact_points.c.id).where(
                t.contact_points.c.kind == kind.value, t.contact_points.c.value == value
            )
        ).scalar_one_or_none()

    def find_points(self, keys: Iterable[tuple[PointKind, str]]) -> dict[tuple[PointKind, str], str]:
        """The ids of those (kind, value) pairs that are registered, in bulk."""
        by_kind: dict[PointKind, list[str]] = {}
        for kind, value in keys:
            by_kind.setdefault(kind, []).append(value)
        found: dict[tuple[PointKind, str], str] = {}
        for kind, values in by_kind.items():
            for chunk in _chunks(values):
                where, params = self._in("value", chunk)
                sql = f"SELECT value, id FROM contact_points WHERE kind = ? AND {where}"
                found.update({(kind, v): pid for v, pid in self._plain(sql, [kind.value, *params])})
        return found

    def event_exists(self, event_id: str) -> bool:
        """True when an event with this id is in the ledger."""
        found = self.conn.execute(sa.select(t.events.c.id).where(t.events.c.id == event_id)).first()
        return found is not None

    def existing_event_ids(self, ids: Sequence[str]) -> set[str]:
        """Those of these event ids that are in the ledger, in bulk."""
        found: set[str] = set()
        for chunk in _chunks(ids):
            where, params = self._in("id", chunk)
            found.update(row[0] for row in self._plain(f"SELECT id FROM events WHERE {where}", params))
        return found

    def point_kind(self, point_id: str) -> PointKind | None:
        """The kind of a registered contact point, or None when there is none."""
        kind = self.conn.execute(
            sa.select(t.contact_points.c.kind).where(t.contact_points.c.id == point_id)
        ).scalar_one_or_none()
        return None if kind is None else PointKind(kind)

    def events_for(self, point_id: str, as_of: datetime | None = None) -> list[Event]:
        """A contact point's events in fold order, optionally only those that occurred by `as_of`."""
        q = sa.select(t.events).where(t.events.c.contact_point_id == point_id)
        if as_of is not None:
            q = q.where(t.events.c.occurred_at <= as_of)
        q = q.order_by(t.events.c.occurred_at, t.events.c.seq)
        return [_row_to_event(r) for r in self.conn.execute(q)]

    def events_for_many(self, point_ids: Sequence[str]) -> dict[str, list[Event]]:
        """The events of many contact points, each in fold order; points without events are absent."""
        out: dict[str, list[Event]] = {}
        json_text = self._sqlite
        for chunk in _chunks(list(dict.fromkeys(point_ids))):
            where, params = self._in("contact_point_id", chunk)
            sql = (
                "SELECT id, type, contact_point_id, occurred_at, recorded_at, schema_version, payload, seq "
                f"FROM events WHERE {where} ORDER BY contact_point_id, occurred_at, seq"
            )
            for eid, etype, pid, occurred, recorded, version, payload, seq in self._plain(sql, params):
                found = out.get(pid)
                if found is None:
                    found = out[pid] = []
                body = orjson.loads(payload) if json_text else payload
                found.append(Event(eid, etype, pid, _utc(occurred), _utc(recorded), body, version, seq))
        return out

    def state(self, point_id: str) -> dict[str, Any] | None:
        """The stored projection of a contact point, as JSON."""
        return self.conn.execute(
            sa.select(t.contact_state.c.state).where(t.contact_state.c.contact_point_id == point_id)
        ).scalar_one_or_none()

    def purpose(self, key: str) -> Purpose | None:
        """A defined purpose by key."""
        row = self.conn.execute(sa.select(t.purposes).where(t.purposes.c.key == key)).first()
        return None if row is None else _purpose(row)

    def purposes(self) -> list[Purpose]:
        """All defined purposes, by key."""
        rows = self._plain(
            "SELECT key, name_nl, name_en, kind, categories, third_party FROM purposes ORDER BY key"
        )
        return [
            Purpose(key, nl, en, PurposeKind(kind), frozenset(self._json(cats)), bool(third))
            for key, nl, en, kind, cats, third in rows
        ]

    def setting(self, key: str) -> Any:
        """A stored setting, or None."""
        rows = self._plain("SELECT value FROM settings WHERE key = ?", [key])
        return self._json(rows[0][0]) if rows else None

    def form(self, key: str, version: int | None = None) -> dict[str, Any] | None:
        """A form version's stored definition (the newest when no version is given)."""
        q = sa.select(t.form_versions.c.definition).where(t.form_versions.c.form_key == key)
        if version is not None:
            q = q.where(t.form_versions.c.version == version)
        q = q.order_by(t.form_versions.c.version.desc()).limit(1)
        return self.conn.execute(q).scalar_one_or_none()

    def forms(self) -> list[dict[str, Any]]:
        """The newest version of every form."""
        rows = self.conn.execute(
            sa.select(t.form_versions.c.form_key, sa.func.max(t.form_versions.c.version)).group_by(
                t.form_versions.c.form_key
            )
        ).all()
        found = [self.form(key, version) for key, version in sorted(rows)]
        return [f for f in found if f is not None]

    def api_key(self, key_id: str) -> dict[str, Any] | None:
        """An API key's record (id, name, secret_hash, scopes, created_at, revoked_at)."""
        row = self.conn.execute(sa.select(t.api_keys).where(t.api_keys.c.id == key_id)).first()
        return None if row is None else dict(row._mapping)

    def api_keys(self) -> list[dict[str, Any]]:
        """Every API key's record, oldest first."""
        q = sa.select(t.api_keys).order_by(t.api_keys.c.created_at, t.api_keys.c.id)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def listings(self, keys: Iterable[tuple[PointKind, str]]) -> dict[tuple[PointKind, str], list[Listing]]:
        """Register listings of contact points, by value or by SHA-256 in hashed registers, in bulk.

        A register's own period bounds each entry's: an entry of the Bel-me-niet
        Register cannot outlive the register. Points on no register are absent.
        """
        # Every decision asks this: plain SQL (see `_plain`).
        regs = self._plain("SELECT key, kind, hashed, valid_from, valid_until FROM registers")
        if not regs:
            return {}
        wanted = list(dict.fromkeys(keys))
        by_entry: dict[str, list[tuple[PointKind, str]]] = {}
        for kind, value in wanted:
            by_entry.setdefault(value, []).append((kind, value))
            by_entry.setdefault(entry_hash(value), []).append((kind, value))
        info = {
            key: (PointKind(kind), bool(hashed), _day(start), _day(end))
            for key, kind, hashed, start, end in regs
        }
        found: dict[tuple[PointKind, str], list[Listing]] = {}
        for chunk in _chunks(list(by_entry)):
            where, params = self._in("entry", chunk)
            sql = f"SELECT register, entry, listed_from, listed_until FROM register_entries WHERE {where}"
            for register, entry, listed_from_raw, listed_until_raw in self._plain(sql, params):
                listed_from, listed_until = _day(listed_from_raw), _day(listed_until_raw)
                kind, hashed, valid_from, valid_until = info[register]
                start = max(d for d in (valid_from, listed_from, date.min) if d is not None)
                ends = [d for d in (valid_until, listed_until) if d is not None]
                for key in by_entry[entry]:
                    if key[0] is kind and (entry == key[1]) is not hashed:
                        found.setdefault(key, []).append(
                            Listing(register, start, min(ends) if ends else None)
                        )
        return found

    def register_definitions(self) -> list[dict[str, Any]]:
        """Every register's definition (key, kind, hashed, period), without counting entries."""
        return [dict(row._mapping) for row in self.conn.execute(sa.select(t.registers))]

    def registers(self) -> list[dict[str, Any]]:
        """Every register with its number of entries."""
        r, e = t.registers.c, t.register_entries.c
        counts = sa.select(e.register, sa.func.count().label("n")).group_by(e.register).subquery()
        q = (
            sa.select(t.registers, sa.func.coalesce(counts.c.n, 0).label("entries"))
            .outerjoin(counts, counts.c.register == r.key)
            .order_by(r.key)
        )
        return [dict(row._mapping) for row in self.conn.execute(q)]

    def states_from_sources(self, sources: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The projections of contact points with one of these sources, streamed."""
        c = t.contact_state.c
        q = sa.select(c.state).where(c.source.in_(list(sources)), c.erased.is_(False))
        for (state,) in self.conn.execution_options(yield_per=2000).execute(q):
            yield state

    def head(self) -> tuple[int, str]:
        """The recorded tip of the chain: (seq, hash)."""
        row = self.conn.execute(sa.select(t.ledger_head.c.seq, t.ledger_head.c.hash)).first()
        return (0, GENESIS) if row is None else (row.seq, row.hash)

    def chain(self, batch: int = 5000) -> Iterator[ChainedRow]:
        """Every stored event in sequence order, streamed."""
        result = self.conn.execution_options(yield_per=batch).execute(
            sa.select(t.events).order_by(t.events.c.seq)
        )
        for r in result:
            yield ChainedRow(r.seq, _row_to_event(r), r.prev_hash, r.hash)

    def point_ids_of_kind(self, kind: PointKind, batch: int = 2000) -> Iterator[list[str]]:
        """The ids of every contact point of a kind, in batches (streamed)."""
        c = t.contact_points.c
        result = self.conn.execution_options(yield_per=batch).execute(
            sa.select(c.id).where(c.kind == kind.value).order_by(c.id)
        )
        for part in result.partitions():
            yield [row[0] for row in part]

    def point_ids(self) -> list[str]:
        """Every registered contact point id."""
        return list(
            self.conn.execute(sa.select(t.contact_points.c.id).order_by(t.contact_points.c.id)).scalars()
        )

    def projection_complete(self) -> bool:
        """True when every projected contact point has its audience facts row."""
        n = [
            self.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (t.contact_state, t.point_facts)
        ]
        return bool(n[0] == n[1])

    def counts(self) -> dict[str, int]:
        """How many events, contact points and purposes are stored."""

        def n(table: sa.Table) -> int:
            return int(self.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

        return {
            "events": n(t.events),
            "contact_points": n(t.contact_points),
            "purposes": n(t.purposes),
        }


class Writer(Reader):
    """Write access: holds the ledger lock for the whole transaction."""

    def __init__(self, conn: Connection, clock_now: datetime) -> None:
        super().__init__(conn)
        self.now = clock_now
        row = conn.execute(
            sa.select(t.ledger_head.c.seq, t.ledger_head.c.hash)
            .where(t.ledger_head.c.id == 1)
            .with_for_update()
        ).first()
        if row is None:
            raise SchemaMissing("the ledger head is missing: run `consentry init`")
        self._seq: int = row.seq
        self._hash: str = row.hash
        self._touched: dict[str, list[Event]] = {}  # appended, not yet projected
        self._fresh: set[str] = set()  # points registered among them
        self._waiting = 0

    def append(self, events: Sequence[Event], project: bool = True) -> list[ChainedRow]:
        """Chain, store and project events; all in this transaction.

        With `project=False` the projection waits for `project_pending()` (or until
        `_PROJECT_EVERY` events wait), so a bulk append folds each contact point it
        touches once rather than once per batch.
        """
        if not events:
            return []
        rows: list[tuple[Any, ...]] = []
        chained: list[ChainedRow] = []
        new_points: list[dict[str, Any]] = []
        by_point = self._touched
        seq, prev = self._seq, self._hash
        # The events of one append share their recorded_at: write it out once.
        recorded: dict[datetime, tuple[str, datetime]] = {}
        for ev in events:
            seq += 1
            text = payload_json(ev.payload)
            rec = recorded.get(ev.recorded_at)
            if rec is None:
                rec = recorded[ev.recorded_at] = (ev.recorded_at.isoformat(), _naive_utc(ev.recorded_at))
            h = link(prev, ev, seq, text, rec[0])
            rows.append(
                (
                    seq,
                    ev.id,
                    ev.contact_point_id,
                    ev.type,
                    _naive_utc(ev.occurred_at),
                    rec[1],
                    ev.schema_version,
                    text,
                    prev,
                    h,
                )
            )
            stored = _with_seq(ev, seq)
            chained.append(ChainedRow(seq, stored, prev, h))
            by_point.setdefault(ev.contact_point_id, []).append(stored)
            if ev.type == "contact_point.registered":
                new_points.append(
                    {
                        "id": ev.contact_point_id,
                        "kind": ev.payload["kind"],
                        "value": ev.payload["value"],
                        "registered_seq": seq,
                    }
                )
            prev = h
        if new_points:
            self._bulk_insert(
                "contact_points",
                "id, kind, value, registered_seq",
                [(p["id"], p["kind"], p["value"], p["registered_seq"]) for p in new_points],
            )
        self._insert_events(rows)
        self.conn.execute(t.ledger_head.update().where(t.ledger_head.c.id == 1).values(seq=seq, hash=prev))
        self._seq, self._hash = seq, prev
        self._fresh.update(p["id"] for p in new_points)
        self._waiting += len(chained)
        if project or self._waiting >= _PROJECT_EVERY:
            self.project_pending()
        return chained

    def project_pending(self) -> None:
        """Refresh the projection of every contact point appended to since the last refresh."""
        if self._touched:
            self._project(self._touched, self._fresh)
        self._touched, self._fresh, self._waiting = {}, set(), 0

    def _insert_events(self, rows: list[tuple[Any, ...]]) -> None:
        self._bulk_insert("events", _EVENT_COLUMNS, rows, times=(4, 5))

    def _bulk_insert(
        self, table: str, columns: str, rows: list[tuple[Any, ...]], times: tuple[int, ...] = ()
    ) -> None:
        """Bulk insert through the driver: COPY on PostgreSQL, executemany on SQLite.

        The rows are already in stored form (naive UTC times, JSON as text), so
        SQLAlchemy's per-row processing is skipped: this is the ledger's hot path.
        """
        raw = self.conn.connection.driver_connection
        assert raw is not None
        if self.conn.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(rows[0]))
        # SQLite keeps times as text in SQLAlchemy's format; `times` names those columns.
        sqlite_rows = rows
        written: dict[datetime, str] = {}

        def text(moment: datetime | None) -> str | None:
            if moment is None:
                return None
            found = written.get(moment)
            if found is None:
                found = written[moment] = _sqlite_time(moment)
            return found

        for i in times:
            sqlite_rows = [(*r[:i], text(r[i]), *r[i + 1 :]) for r in sqlite_rows]
        self.conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", sqlite_rows)

    def _project(self, new: dict[str, list[Event]], fresh: set[str]) -> None:
        existing = [p for p in new if p not in fresh]
        merged: dict[str, list[Event]] = {p: [] for p in new}
        merged.update(self.events_for_many(existing))
        # The select above already sees this transaction's inserts, in fold order;
        # points registered in this batch have no earlier events to read.
        for pid in fresh:
            merged[pid] = sorted(new[pid], key=_fold_key)
        self.write_states((fold(pid, evs) for pid, evs in merged.items()), fresh)

    def write_states(self, states: Iterable[ContactState], fresh: Set[str] = frozenset()) -> None:
        """Replace the projection rows of these contact points (`fresh` ones have none yet)."""
        states = list(states)
        rows = [_state_row(s) for s in states]
        stale = [r[0] for r in rows if r[0] not in fresh]
        for table in (t.contact_state, t.point_facts, t.point_listings):
            for chunk in _chunks(stale):
                self.conn.execute(table.delete().where(table.c.contact_point_id.in_(chunk)))
        if not rows:
            return
        self._bulk_insert("contact_state", _STATE_COLUMNS, rows, times=(9,))
        facts = [facts_row(s) for s in states]
        listed = [row for s in states if s.listings for row in listing_rows(s)]
        if self.conn.dialect.name == "sqlite":  # dates as SQLite keeps them: ISO text
            facts = [_iso_dates(r, DATE_COLUMNS) for r in facts]
            listed = [_iso_dates(r, (2, 3)) for r in listed]
        self._bulk_insert("point_facts", _FACT_COLUMNS, facts)
        if listed:
            self._bulk_insert("point_listings", _LISTING_COLUMNS, listed)

    def put_purpose(self, p: Purpose, replace: bool = False) -> None:
        """Define a purpose (or redefine it with `replace`)."""
        values = {**p.to_json(), "created_at": self.now}
        if replace:
            self.conn.execute(t.purposes.delete().where(t.purposes.c.key == p.key))
        self.conn.execute(t.purposes.insert().values(**values))

    def put_form(self, key: str, version: int, definition: dict[str, Any]) -> None:
        """Store a new, immutable form version."""
        self.conn.execute(
            t.form_versions.insert().values(
                form_key=key, version=version, definition=definition, created_at=self.now
            )
        )

    def put_api_key(self, key_id: str, name: str, secret_hash: str, scopes: list[str]) -> None:
        """Store a new API key (its secret only as a hash)."""
        self.conn.execute(
            t.api_keys.insert().values(
                id=key_id, name=name, secret_hash=secret_hash, scopes=scopes, created_at=self.now
            )
        )

    def revoke_api_key(self, key_id: str) -> bool:
        """Revoke a key; False when there is no such active key."""
        done = self.conn.execute(
            t.api_keys.update()
            .where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=self.now)
        )
        return bool(done.rowcount)

    def put_register(
        self,
        key: str,
        name: str,
        kind: PointKind,
        hashed: bool,
        valid_from: date | None,
        valid_until: date | None,
    ) -> None:
        """Define or redefine a register (its entries stay)."""
        self.conn.execute(t.registers.delete().where(t.registers.c.key == key))
        self.conn.execute(
            t.registers.insert().values(
                key=key,
                name=name,
                kind=kind.value,
                hashed=hashed,
                valid_from=valid_from,
                valid_until=valid_until,
                updated_at=self.now,
            )
        )

    def put_register_entries(
        self, key: str, entries: Sequence[str], listed_from: date | None, listed_until: date | None
    ) -> int:
        """Add entries to a register; entries it already has get the new period. Returns how many were new."""
        e = t.register_entries.c
        existing: set[str] = set()
        for chunk in _chunks(entries):
            existing.update(
                self.conn.execute(sa.select(e.entry).where(e.register == key, e.entry.in_(chunk))).scalars()
            )
        for chunk in _chunks(sorted(existing)):
            self.conn.execute(
                t.register_entries.update()
                .where(e.register == key, e.entry.in_(chunk))
                .values(listed_from=listed_from, listed_until=listed_until)
            )
        new = [
            {"register": key, "entry": x, "listed_from": listed_from, "listed_until": listed_until}
            for x in dict.fromkeys(entries)
            if x not in existing
        ]
        if new:
            self.conn.execute(t.register_entries.insert(), new)
        return len(new)

    def put_setting(self, key: str, value: Any) -> None:
        """Store a setting."""
        self.conn.execute(t.settings.delete().where(t.settings.c.key == key))
        self.conn.execute(t.settings.insert().values(key=key, value=value))


_EVENT_COLUMNS = (
    "seq, id, contact_point_id, type, occurred_at, recorded_at, schema_version, payload, prev_hash, hash"
)


def _naive_utc(d: datetime) -> datetime:
    return d.replace(tzinfo=None) if d.tzinfo is UTC else d.astimezone(UTC).replace(tzinfo=None)


def _sqlite_time(d: datetime) -> str:
    # The text form SQLAlchemy's SQLite DateTime writes and reads back.
    return d.isoformat(" ", "microseconds")


def _fold_key(e: Event) -> tuple[datetime, int]:
    return (e.occurred_at, e.seq or 0)


def _with_seq(e: Event, seq: int) -> Event:
    return Event(
        e.id,
        e.type,
        e.contact_point_id,
        e.occurred_at,
        e.recorded_at,
        e.payload,
        e.schema_version,
        seq,
    )


#: A deferred projection is refreshed after this many events at the latest (bounds memory).
_PROJECT_EVERY = 50_000

_FACT_COLUMNS = ", ".join(FACT_COLUMNS)
_LISTING_COLUMNS = "contact_point_id, register, listed_from, listed_until"

_STATE_COLUMNS = (
    "contact_point_id, party, source, erased, objected_dm, objected_profiling, suppressed, "
    "event_count, last_seq, last_event_at, state"
)


def _iso_dates(row: tuple[Any, ...], columns: Sequence[int]) -> tuple[Any, ...]:
    if all(row[i] is None for i in columns):
        return row  # most points have no date: no copy
    out = list(row)
    for i in columns:
        if out[i] is not None:
            out[i] = out[i].isoformat()
    return tuple(out)


def _state_row(s: ContactState) -> tuple[Any, ...]:
    """A projection row in stored form (see `_bulk_insert`)."""
    return (
        s.id,
        s.party.value,
        s.source.value,
        s.erased_at is not None,
        ObjectionScope.DIRECT_MARKETING.value in s.objections,
        ObjectionScope.PROFILING.value in s.objections,
        s.hard_bounced_at is not None or s.complained_at is not None,
        s.event_count,
        s.last_seq,
        _naive_utc(s.last_event_at) if s.last_event_at else None,
        orjson.dumps(s.to_json()).decode(),
    )


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


class SqlStore:
    """Transactions over one database."""

    def __init__(self, engine: Engine, now: Any = None) -> None:
        self.engine = engine
        self._now = now or (lambda: datetime.now(UTC))
        self._schema_seen = False

    @contextmanager
    def reader(self) -> Iterator[Reader]:
        """A read transaction on one snapshot."""
        opts: dict[str, Any] = {}
        if self.engine.dialect.name == "postgresql":
            opts["isolation_level"] = "REPEATABLE READ"
        with self.engine.connect().execution_options(**opts) as conn, conn.begin():
            self._require_schema(conn)
            yield Reader(conn)

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        """A write transaction holding the ledger lock; rolls back on any error."""
        with self.engine.connect().execution_options(consentry_write=True) as conn, self._writing(conn) as w:
            yield w

    @contextmanager
    def _writing(self, conn: Connection) -> Iterator[Writer]:
        """One write transaction on a connection opened for writing."""
        with conn.begin():
            self._require_schema(conn)
            w = Writer(conn, self._now())
            yield w
            # Whatever a caller deferred, the projection commits in step with the ledger.
            w.project_pending()

    @contextmanager
    def bulk_writers(self) -> Iterator[Callable[[], AbstractContextManager[Writer]]]:
        """Write transactions for a bulk load (an import), one after another on one connection.

        Each transaction is what `writer()` gives. On SQLite the connection gets a bigger
        page cache and checkpoints its write-ahead log less often while the load runs (a
        big file's random-keyed index pages are then written back once, not at every
        commit); on PostgreSQL it plans every statement anew (see below). All is put
        back, and SQLite's log checkpointed, at the end.
        """
        with self.engine.connect().execution_options(consentry_write=True) as conn:
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
                yield lambda: self._writing(conn)
            finally:
                if not conn.in_transaction():
                    if sqlite:
                        for pragma, value in saved:
                            raw.execute(f"PRAGMA {pragma}={int(value)}")
                        raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    else:
                        raw.execute("RESET plan_cache_mode")
                        raw.commit()

    def _require_schema(self, conn: Connection) -> None:
        if self._schema_seen:
            return
        if not sa.inspect(conn).has_table("ledger_head"):
            raise SchemaMissing(
                f"no consentry database at {self.engine.url.render_as_string(hide_password=True)}: "
                "run `consentry init` first"
            )
        self._schema_seen = True
