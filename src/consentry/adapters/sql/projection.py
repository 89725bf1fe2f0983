"""The projection: each contact point's folded state (`contact_state`), the facts the
audience queries test (`point_facts`) and its own register listings (`point_listings`).

Every row here is derived from the ledger and rebuilt from it; the writer refreshes
the rows of every point it appends to, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Set
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.ledger import LedgerReads
from consentry.adapters.sql.stored import bulk_insert, chunks, iso_dates, naive_utc, utc
from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import ObjectionScope
from consentry.policy.factrows import COLUMNS as FACT_COLUMN_NAMES
from consentry.policy.factrows import DATE_COLUMNS, facts_row, listing_rows, objection_rows

_DIRECT_MARKETING = ObjectionScope.DIRECT_MARKETING.value
_PROFILING = ObjectionScope.PROFILING.value


class StateRow(NamedTuple):
    """A `contact_state` row in stored form (see `stored.bulk_insert`)."""

    contact_point_id: str
    party: str
    source: str
    erased: bool
    objected_dm: bool
    objected_profiling: bool
    suppressed: bool
    event_count: int
    last_seq: int
    #: Naive UTC (`stored.bulk_insert` writes SQLite's text).
    last_event_at: datetime | None
    #: The state's JSON text.
    state: str


STATE_COLUMNS = ", ".join(StateRow._fields)
FACT_COLUMNS = ", ".join(FACT_COLUMN_NAMES)
LISTING_COLUMNS = "contact_point_id, register, listed_from, listed_until, sectors"
OBJECTION_COLUMNS = "contact_point_id, contact_id, scope"
_LAST_EVENT_AT = StateRow._fields.index("last_event_at")
_LISTING_DATES = (2, 3)


def state_row(s: ContactState) -> StateRow:
    """The projection row of a folded state (its JSON serialised once, here)."""
    return StateRow(
        s.id,
        s.party.value,
        s.source.value,
        s.erased_at is not None,
        _DIRECT_MARKETING in s.objections,
        _PROFILING in s.objections,
        s.hard_bounced_at is not None or s.complained_at is not None,
        s.event_count,
        s.last_seq,
        naive_utc(s.last_event_at) if s.last_event_at else None,
        orjson.dumps(s.to_json()).decode(),
    )


class ProjectionReads(Connected):
    """Reading the projection."""

    def heads(self, point_ids: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        """Each point's projection head: the last event's seq and the latest occurred_at."""
        found: dict[str, tuple[int, datetime | None]] = {}
        for chunk in chunks(list(dict.fromkeys(point_ids))):
            where, params = self._in("contact_point_id", chunk)
            sql = f"SELECT contact_point_id, last_seq, last_event_at FROM contact_state WHERE {where}"
            for pid, seq, at in self._plain(sql, params):
                found[pid] = (seq, utc(at) if at is not None else None)
        return found

    def state(self, point_id: str) -> dict[str, Any] | None:
        """The stored projection of a contact point, as JSON."""
        return self.conn.execute(
            sa.select(t.contact_state.c.state).where(t.contact_state.c.contact_point_id == point_id)
        ).scalar_one_or_none()

    def states_from_sources(self, sources: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The projections of contact points with one of these sources, streamed."""
        c = t.contact_state.c
        q = sa.select(c.state).where(c.source.in_(list(sources)), c.erased.is_(False))
        for (state,) in self.conn.execution_options(yield_per=2000).execute(q):
            yield state

    def objecting_points(self, contact_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per contact, its points that ever had an objection recorded (their ledger says when)."""
        out: dict[str, list[str]] = {}
        for chunk in chunks(list(dict.fromkeys(contact_ids))):
            where, params = self._in("f.contact_id", chunk)
            sql = (
                f"SELECT f.contact_id, f.contact_point_id FROM point_facts f WHERE {where} AND EXISTS "
                "(SELECT 1 FROM events e WHERE e.contact_point_id = f.contact_point_id "
                "AND e.type = 'objection.recorded')"
            )
            for contact, pid in self._plain(sql, params):
                out.setdefault(contact, []).append(pid)
        return out

    def contact_points_of(self, contact_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per contact, the ids of its projected points (an access export gathers the person)."""
        out: dict[str, list[str]] = {}
        for chunk in chunks(list(dict.fromkeys(contact_ids))):
            where, params = self._in("contact_id", chunk)
            sql = (
                f"SELECT contact_id, contact_point_id FROM point_facts WHERE {where} "
                "ORDER BY contact_point_id"
            )
            for contact, pid in self._plain(sql, params):
                out.setdefault(contact, []).append(pid)
        return out

    def projection_complete(self) -> bool:
        """True when every projected contact point has its audience facts row."""
        n = [
            self.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (t.contact_state, t.point_facts)
        ]
        return bool(n[0] == n[1])


class ProjectionWrites(LedgerReads):
    """Refreshing the projection from the ledger."""

    def refresh(self, new: dict[str, list[Event]], fresh: Set[str]) -> None:
        """Fold again every point with `new` events (appended in this transaction) and store its rows.

        `fresh` points were registered among them, so they have no earlier events.
        """
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
        rows = [state_row(s) for s in states]
        stale = [r.contact_point_id for r in rows if r.contact_point_id not in fresh]
        for table in (t.contact_state, t.point_facts, t.point_listings, t.contact_objections):
            for chunk in chunks(stale):
                self.conn.execute(table.delete().where(table.c.contact_point_id.in_(chunk)))
        if not rows:
            return
        bulk_insert(self.conn, "contact_state", STATE_COLUMNS, rows, times=(_LAST_EVENT_AT,))
        facts = [facts_row(s) for s in states]
        listed = [row for s in states if s.listings for row in listing_rows(s)]
        if self._sqlite:  # dates as SQLite keeps them: ISO text
            facts = [iso_dates(r, DATE_COLUMNS) for r in facts]
            listed = [iso_dates(r, _LISTING_DATES) for r in listed]
        bulk_insert(self.conn, "point_facts", FACT_COLUMNS, facts)
        if listed:
            bulk_insert(self.conn, "point_listings", LISTING_COLUMNS, listed)
        # Objections of points that belong to a contact: the audience SQL covers the whole
        # contact with them (an objection binds the person, GDPR Art. 21).
        objections = [row for f in facts for row in objection_rows(f)]
        if objections:
            bulk_insert(self.conn, "contact_objections", OBJECTION_COLUMNS, objections)


def _fold_key(e: Event) -> tuple[datetime, int]:
    return (e.occurred_at, e.seq or 0)
