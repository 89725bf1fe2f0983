"""Reading the ledger: its events, the contact points they register, and the hash chain."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import orjson
import sqlalchemy as sa

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.stored import chunks, row_to_event, utc
from consentry.domain.chain import GENESIS, ChainedRow
from consentry.domain.events import Event
from consentry.domain.vocabulary import PointKind


class LedgerReads(Connected):
    """The ledger's events and contact points, within one transaction."""

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
            for chunk in chunks(values):
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
        for chunk in chunks(ids):
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
        return [row_to_event(r) for r in self.conn.execute(q)]

    def events_for_many(self, point_ids: Sequence[str]) -> dict[str, list[Event]]:
        """The events of many contact points, each in fold order; points without events are absent."""
        out: dict[str, list[Event]] = {}
        json_text = self._sqlite
        for chunk in chunks(list(dict.fromkeys(point_ids))):
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
                found.append(Event(eid, etype, pid, utc(occurred), utc(recorded), body, version, seq))
        return out

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
            yield ChainedRow(r.seq, row_to_event(r), r.prev_hash, r.hash)

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
