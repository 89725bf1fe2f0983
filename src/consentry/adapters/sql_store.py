"""The SQL store: the ledger, its projection, purposes and settings (SQLite or PostgreSQL).

Writers are serialised: on SQLite by `BEGIN IMMEDIATE`, on PostgreSQL by a row
lock on the ledger head, so the hash chain has exactly one next link. Each
append inserts the events, moves the head and refreshes the projection of
every contact point it touched, in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine

from consentry.adapters import tables as t
from consentry.domain.chain import GENESIS, ChainedRow, link, payload_json
from consentry.domain.events import Event
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState, fold
from consentry.domain.vocabulary import ObjectionScope, PointKind, PurposeKind

_CHUNK = 500


class SchemaMissing(RuntimeError):
    """The database has no consentry schema yet (run `consentry init`)."""


def create_engine(url: str) -> Engine:
    """Create an engine with the connection settings consentry relies on."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa_event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
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
        c = t.contact_points.c
        for kind, values in by_kind.items():
            for chunk in _chunks(values):
                q = sa.select(c.value, c.id).where(c.kind == kind.value, c.value.in_(chunk))
                found.update({(kind, v): pid for v, pid in self.conn.execute(q)})
        return found

    def event_exists(self, event_id: str) -> bool:
        """True when an event with this id is in the ledger."""
        found = self.conn.execute(sa.select(t.events.c.id).where(t.events.c.id == event_id)).first()
        return found is not None

    def existing_event_ids(self, ids: Sequence[str]) -> set[str]:
        """Those of these event ids that are in the ledger, in bulk."""
        found: set[str] = set()
        for chunk in _chunks(ids):
            found.update(
                self.conn.execute(sa.select(t.events.c.id).where(t.events.c.id.in_(chunk))).scalars()
            )
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
        """The events of many contact points, each in fold order; points without events are absent.

        For batches of decisions, where reading rows is most of the work: the query goes
        to the driver as plain SQL and the columns are converted here, which is several
        times cheaper per row than SQLAlchemy's result processing.
        """
        mark = "?" if self.conn.dialect.paramstyle == "qmark" else "%s"
        out: dict[str, list[Event]] = {}
        for chunk in _chunks(list(dict.fromkeys(point_ids))):
            sql = (
                "SELECT id, type, contact_point_id, occurred_at, recorded_at, schema_version, payload, seq "
                f"FROM events WHERE contact_point_id IN ({', '.join([mark] * len(chunk))}) "
                "ORDER BY contact_point_id, occurred_at, seq"
            )
            for eid, etype, pid, occurred, recorded, version, payload, seq in self.conn.exec_driver_sql(
                sql, tuple(chunk)
            ):
                found = out.get(pid)
                if found is None:
                    found = out[pid] = []
                found.append(
                    Event(
                        eid,
                        etype,
                        pid,
                        _utc(occurred),
                        _utc(recorded),
                        json.loads(payload) if isinstance(payload, str) else payload,
                        version,
                        seq,
                    )
                )
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
        return [_purpose(r) for r in self.conn.execute(sa.select(t.purposes).order_by(t.purposes.c.key))]

    def setting(self, key: str) -> Any:
        """A stored setting, or None."""
        return self.conn.execute(
            sa.select(t.settings.c.value).where(t.settings.c.key == key)
        ).scalar_one_or_none()

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

    def point_ids(self) -> list[str]:
        """Every registered contact point id."""
        return list(
            self.conn.execute(sa.select(t.contact_points.c.id).order_by(t.contact_points.c.id)).scalars()
        )

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

    def append(self, events: Sequence[Event]) -> list[ChainedRow]:
        """Chain, store and project events; all in this transaction."""
        if not events:
            return []
        rows: list[tuple[Any, ...]] = []
        chained: list[ChainedRow] = []
        new_points: list[dict[str, Any]] = []
        by_point: dict[str, list[Event]] = {}
        seq, prev = self._seq, self._hash
        for ev in events:
            seq += 1
            text = payload_json(ev.payload)
            h = link(prev, ev, seq, text)
            rows.append(
                (
                    seq,
                    ev.id,
                    ev.contact_point_id,
                    ev.type,
                    _naive_utc(ev.occurred_at),
                    _naive_utc(ev.recorded_at),
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
            self.conn.execute(t.contact_points.insert(), new_points)
        self._insert_events(rows)
        self.conn.execute(t.ledger_head.update().where(t.ledger_head.c.id == 1).values(seq=seq, hash=prev))
        self._seq, self._hash = seq, prev
        self._project(by_point, {p["id"] for p in new_points})
        return chained

    def _insert_events(self, rows: list[tuple[Any, ...]]) -> None:
        """Bulk insert through the driver: COPY on PostgreSQL, executemany on SQLite.

        The rows are already in stored form (naive UTC times, payload as JSON
        text), so SQLAlchemy's per-row processing is skipped; this is the
        ledger's hot path.
        """
        raw = self.conn.connection.driver_connection
        assert raw is not None
        if self.conn.dialect.name == "postgresql":
            with raw.cursor() as cur, cur.copy(f"COPY events ({_EVENT_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(rows[0]))
        sqlite_rows = [(*r[:4], _sqlite_time(r[4]), _sqlite_time(r[5]), *r[6:]) for r in rows]
        self.conn.exec_driver_sql(f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES ({marks})", sqlite_rows)

    def _project(self, new: dict[str, list[Event]], fresh: set[str]) -> None:
        existing = [p for p in new if p not in fresh]
        merged: dict[str, list[Event]] = {p: [] for p in new}
        for chunk in _chunks(existing):
            q = (
                sa.select(t.events)
                .where(t.events.c.contact_point_id.in_(chunk))
                .order_by(t.events.c.occurred_at, t.events.c.seq)
            )
            for r in self.conn.execute(q):
                merged[r.contact_point_id].append(_row_to_event(r))
        # The select above already sees this transaction's inserts, in fold order;
        # points registered in this batch have no earlier events to read.
        for pid in fresh:
            merged[pid] = sorted(new[pid], key=_fold_key)
        self.write_states(fold(pid, evs) for pid, evs in merged.items())

    def write_states(self, states: Iterable[ContactState]) -> None:
        """Replace the projection rows of these contact points."""
        rows = [_state_row(s) for s in states]
        ids = [r["contact_point_id"] for r in rows]
        for chunk in _chunks(ids):
            self.conn.execute(t.contact_state.delete().where(t.contact_state.c.contact_point_id.in_(chunk)))
        if rows:
            self.conn.execute(t.contact_state.insert(), rows)

    def put_purpose(self, p: Purpose, replace: bool = False) -> None:
        """Define a purpose (or redefine it with `replace`)."""
        values = {
            "key": p.key,
            "name_nl": p.name_nl,
            "name_en": p.name_en,
            "kind": p.kind.value,
            "categories": sorted(p.categories),
            "third_party": p.third_party,
            "created_at": self.now,
        }
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

    def put_setting(self, key: str, value: Any) -> None:
        """Store a setting."""
        self.conn.execute(t.settings.delete().where(t.settings.c.key == key))
        self.conn.execute(t.settings.insert().values(key=key, value=value))


_EVENT_COLUMNS = (
    "seq, id, contact_point_id, type, occurred_at, recorded_at, schema_version, payload, prev_hash, hash"
)


def _naive_utc(d: datetime) -> datetime:
    return d.astimezone(UTC).replace(tzinfo=None)


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


def _state_row(s: ContactState) -> dict[str, Any]:
    return {
        "contact_point_id": s.id,
        "party": s.party.value,
        "source": s.source.value,
        "erased": s.erased_at is not None,
        "objected_dm": ObjectionScope.DIRECT_MARKETING.value in s.objections,
        "objected_profiling": ObjectionScope.PROFILING.value in s.objections,
        "suppressed": s.hard_bounced_at is not None or s.complained_at is not None,
        "event_count": s.event_count,
        "last_seq": s.last_seq,
        "last_event_at": s.last_event_at,
        "state": s.to_json(),
    }


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
        with self.engine.connect().execution_options(consentry_write=True) as conn, conn.begin():
            self._require_schema(conn)
            yield Writer(conn, self._now())

    def _require_schema(self, conn: Connection) -> None:
        if self._schema_seen:
            return
        if not sa.inspect(conn).has_table("ledger_head"):
            raise SchemaMissing(
                f"no consentry database at {self.engine.url.render_as_string(hide_password=True)}: "
                "run `consentry init` first"
            )
        self._schema_seen = True
