"""Reading the ledger: its events, the contact points they register, and the hash chain.

Events are read as recorded: their sealed personal fields decrypted under the contact's
data key (loaded a batch of contacts at a time) and merged back into the payload; a
contact whose key was destroyed (erased) gets its events with their clear fields only.
`chain` and the audit read the events as stored (clear payload and sealed bytes), which
is what the hash chain covers: they need no key. A row keeps its own chain hash only: the
hash it is chained to is the row before's (the chain's genesis for the first), so a
`ChainedRow`'s `prev_hash` is read from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.sealing import Ciphers, Preferred, open_payload
from consentry.adapters.sql.stored import chain_hex, chunks, naive_utc, row_to_event, sqlite_time, utc
from consentry.domain.chain import GENESIS, ChainedRow, epoch_genesis
from consentry.domain.events import Event
from consentry.domain.vocabulary import PointKind

_EVENT_SELECT = (
    "SELECT id, type, contact_point_id, occurred_at, recorded_at, schema_version, payload, seq, sealed"
)

#: The ledger head (its one row), read on the driver (`LedgerReads.head`, `Writer.__init__`).
HEAD_SQL = "SELECT seq, hash FROM ledger_head WHERE id = 1"


class LedgerReads(Ciphers):
    """The ledger's events and contact points, within one transaction."""

    def point_id(self, kind: PointKind, value: str) -> str | None:
        """The id of a registered contact point with this normalised value (any spelling of it that
        `match_form` makes one; or this very value, indexed before it: `lookups_for`)."""
        wanted = self.lookups_for(kind, value)
        if len(wanted) == 1:
            sql = "SELECT id, lookup FROM contact_points WHERE kind = ? AND lookup = ?"
        else:
            sql = "SELECT id, lookup FROM contact_points WHERE kind = ? AND lookup IN (?, ?)"
        rows = self._plain(sql, [kind.value, *wanted])
        if not rows:
            return None
        # Both: a point indexed by the compared form, and one indexed before under this value's own
        # (registered apart before `match_form`): the first is the one registrations now meet.
        best = min(rows, key=lambda row: wanted.index(bytes(row[1])))
        return str(best[0])

    def find_points(self, keys: Iterable[tuple[PointKind, str]]) -> dict[tuple[PointKind, str], str]:
        """The ids of those (kind, value) pairs that are registered, in bulk (found as `point_id`
        finds one: by either index of `lookups_for`, the compared form's first)."""
        found: Preferred[str] = Preferred()
        sql = "SELECT lookup, id FROM contact_points WHERE kind = ? AND lookup {set}"
        for kind, indexes in self.ranked_lookups(keys).items():
            rows = self._rows_of(sql, list(indexes), "bytea", [kind.value])  # one query on PostgreSQL
            for lk, pid in rows:
                found.offer(indexes[bytes(lk)], str(pid))
        return found.found

    def registered_values(self, point_ids: Sequence[str]) -> dict[str, str]:
        """The value each of these points was registered with (its registration event, opened; a
        point whose contact's key is gone is absent). One query per 500 points on SQLite."""
        where = "type = 'contact_point.registered' AND contact_point_id {set}"
        sql = f"{_EVENT_SELECT} FROM events WHERE {where}"
        rows = sorted(self._rows_of(sql, list(point_ids)), key=lambda row: (row[2], row[7]))
        out: dict[str, str] = {}
        for pid, events in self._opened(rows).items():
            value = events[0].payload.get("value")
            if isinstance(value, str) and value:
                out[pid] = value
        return out

    def event_exists(self, event_id: str) -> bool:
        """True when an event with this id is in the ledger."""
        found = self.conn.execute(sa.select(t.events.c.id).where(t.events.c.id == event_id)).first()
        return found is not None

    def existing_event_ids(self, ids: Sequence[str]) -> set[str]:
        """Those of these event ids that are in the ledger, in bulk."""
        found: set[str] = set()
        for chunk in chunks(ids):
            where, params = self._in("id", chunk)
            found.update(row[0] for row in self._plain(f"SELECT id FROM events WHERE {where}", params))
        return found

    def point_kind(self, point_id: str) -> PointKind | None:
        """The kind of a registered contact point, or None when there is none."""
        rows = self._plain("SELECT kind FROM contact_points WHERE id = ?", [point_id])
        return PointKind(rows[0][0]) if rows else None

    def events_for(self, point_id: str, as_of: datetime | None = None) -> list[Event]:
        """A contact point's events in fold order, optionally only those that occurred by `as_of`."""
        sql = f"{_EVENT_SELECT} FROM events WHERE contact_point_id = ?"
        params: list[Any] = [point_id]
        if as_of is not None:
            sql += " AND occurred_at <= ?"
            stored = naive_utc(as_of)
            params.append(sqlite_time(stored) if self._sqlite else stored)
        return self._opened(self._plain(sql + " ORDER BY occurred_at, seq", params)).get(point_id, [])

    def events_for_many(self, point_ids: Sequence[str]) -> dict[str, list[Event]]:
        """The events of many contact points, each in fold order; points without events are absent."""
        out: dict[str, list[Event]] = {}
        ids = list(dict.fromkeys(point_ids))
        if self._own_snapshots:
            # Each read on its own snapshot: the keys are read before the events. A key found then
            # opens the events, whatever is appended later; a key destroyed by then went with its
            # erasure's event, which the later read of the events holds, so the point folds as
            # erased. The other way round, an erasure between the two reads would leave the
            # events unopened and the point unerased.
            self.point_ciphers(ids)
        for chunk in chunks(ids):
            where, params = self._in("contact_point_id", chunk)
            sql = f"{_EVENT_SELECT} FROM events WHERE {where} ORDER BY contact_point_id, occurred_at, seq"
            out.update(self._opened(self._plain(sql, params)))
        return out

    def _opened(self, rows: Sequence[Any]) -> dict[str, list[Event]]:
        """Events (`_EVENT_SELECT` rows, in order) by point, their sealed fields opened."""
        sealed_points = {row[2] for row in rows if row[8] is not None}
        refs, ciphers = self.point_ciphers(sealed_points) if sealed_points else ({}, {})
        json_text = self._sqlite
        out: dict[str, list[Event]] = {}
        # Each stored moment read once a call: the events of one append share their recorded_at
        # (and an import's rows often their occurred_at), and a moment's conversion costs ten
        # times its look-up. The same (immutable) datetime, so the same events.
        moments: dict[Any, datetime] = {}
        for eid, etype, pid, occurred, recorded, version, payload, seq, sealed in rows:
            found = out.get(pid)
            if found is None:
                found = out[pid] = []
            body = orjson.loads(payload) if json_text else payload
            if sealed is not None:
                ref = refs.get(pid)
                body = open_payload(ciphers.get(ref) if ref else None, eid, body, sealed)
            at = moments.get(occurred)
            if at is None:
                at = moments[occurred] = utc(occurred)
            on = moments.get(recorded)
            if on is None:
                on = moments[recorded] = utc(recorded)
            found.append(Event(eid, etype, pid, at, on, body, version, seq))
        return out

    def head(self) -> tuple[int, str]:
        """The recorded tip of the chain: (seq, hash)."""
        # On the driver (`_plain`): every claim and commit of a send reads it, and SQLAlchemy's
        # building and running of the statement cost ~25 times the driver's.
        rows = self._plain(HEAD_SQL)
        return (0, GENESIS) if not rows else (int(rows[0][0]), str(rows[0][1]))

    def chain(self, batch: int = 5000) -> Iterator[ChainedRow]:
        """Every stored event in sequence order, streamed, each with the hash it is chained to."""
        prev = self.chain_genesis()
        result = self.conn.execution_options(yield_per=batch).execute(
            sa.select(t.events).order_by(t.events.c.seq)
        )
        for r in result:
            digest = chain_hex(r.hash)
            yield ChainedRow(r.seq, row_to_event(r), prev, digest, _bytes(r.sealed))
            prev = digest

    def chain_genesis(self) -> str:
        """The hash the chain's first event is chained to: `GENESIS`, or for a chain that continues
        an earlier one (`chain_epochs`) the `epoch_genesis` of that chain's head."""
        c = t.chain_epochs.c
        previous = self.conn.execute(
            sa.select(c.previous_head_hash).order_by(c.epoch.desc()).limit(1)
        ).scalar_one_or_none()
        return GENESIS if previous is None else epoch_genesis(previous)

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

    def counts(self) -> dict[str, int]:
        """How many events, contact points and purposes are stored."""

        def n(table: sa.Table) -> int:
            return int(self.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

        return {
            "events": n(t.events),
            "contact_points": n(t.contact_points),
            "purposes": n(t.purposes),
        }


def _bytes(value: Any) -> bytes | None:
    """A binary column as bytes (PostgreSQL's driver gives a memoryview)."""
    return None if value is None else bytes(value)
