"""Appending to the ledger: the hash chain, the events, the contact points they register.

A `Writer` holds the ledger lock for its whole transaction (on SQLite by `BEGIN
IMMEDIATE`, on PostgreSQL by a row lock on the ledger head), so the hash chain has
exactly one next link. Each append inserts the events, moves the head and refreshes
the projection of every contact point it touched, in that transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy.engine import Connection

from consentry.adapters.crypto.fields import nonces
from consentry.adapters.crypto.vault import Vault
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.campaigns import CampaignWrites
from consentry.adapters.sql.catalog import CatalogWrites
from consentry.adapters.sql.data_keys import KEY_COLUMNS, KEY_TYPES, kept_once
from consentry.adapters.sql.ledger import HEAD_SQL
from consentry.adapters.sql.projection import ProjectionWrites
from consentry.adapters.sql.reader import Reader
from consentry.adapters.sql.registers import RegisterWrites
from consentry.adapters.sql.requests import RequestWrites
from consentry.adapters.sql.sealing import contact_ref, seal, split
from consentry.adapters.sql.stored import (
    bulk_insert,
    copy_bytes,
    copy_field,
    copy_stream,
    naive_utc,
    sent_inserts,
    sqlite_time,
    stored_hash,
)
from consentry.adapters.sql.suppressions import SuppressionWrites
from consentry.domain.chain import iso, link, payload_json
from consentry.domain.erasure import SuppressionRecord
from consentry.domain.events import Event
from consentry.services.errors import VERIFY, LedgerDamaged

#: A deferred projection is refreshed after this many events at the latest (bounds memory).
_PROJECT_EVERY = 50_000
#: Rows handed to the store at a time while an append makes them (`Writer._event_sink`): the
#: server stores a part while the next is made, so at the end the client waits for one part
#: only (1,000 rows: about 7 ms a batch on PostgreSQL; 100: under 1 ms).
_PART = 100

#: An event's row keeps its own chain hash only: the link to the one before is that row's hash.
_EVENT_COLUMNS = (
    "seq, id, contact_point_id, type, occurred_at, recorded_at, schema_version, payload, sealed, hash"
)
_POINT_COLUMNS = "id, kind, lookup, contact_ref, registered_seq"
_POINT_TYPES = ("text", "text", "bytea", "text", "bigint")


class Writer(
    Reader, ProjectionWrites, CatalogWrites, RegisterWrites, CampaignWrites, SuppressionWrites, RequestWrites
):
    """Write access (`services.ports.Writing`): holds the ledger lock for the whole transaction."""

    def __init__(self, conn: Connection, clock_now: datetime, vault: Vault) -> None:
        super().__init__(conn, vault)
        self.now = clock_now
        # On the driver (`_plain`), in the transaction the caller began: every transaction that
        # writes reads it (a send's claims and commits too), and SQLAlchemy's building and running
        # of the statement cost ~25 times the driver's. SQLite's BEGIN IMMEDIATE holds the lock
        # already; PostgreSQL takes the head's row lock here.
        rows = self._plain(HEAD_SQL if self._sqlite else HEAD_SQL + " FOR UPDATE")
        if not rows:  # `consentry init` writes the head row: without it the ledger was wiped
            raise LedgerDamaged(f"the ledger head is missing: the ledger was wiped or damaged; {VERIFY}")
        self._seq: int = int(rows[0][0])
        self._hash: str = str(rows[0][1])
        self._touched: dict[str, list[Event]] = {}  # appended, not yet projected
        self._fresh: set[str] = set()  # points registered among them
        self._waiting = 0

    def append(self, events: Sequence[Event], project: bool = True) -> range:
        """Seal, chain, store and project events; all in this transaction.

        Each event's personal fields are sealed under its contact's data key (`sealing`);
        contacts new to the ledger get their keys here, in one batch. With `project=False`
        the projection waits for `project_pending()` (or until `_PROJECT_EVERY` events
        wait), so a bulk append folds each contact point it touches once rather than once
        per batch. Returns the sequence numbers the events were given, in their order.
        """
        if not events:
            return range(self._seq + 1, self._seq + 1)
        vault = self.vault
        refs = self._ref_cache()
        lookups = self.lookup_cache()
        index_of = self.lookup
        new_points: list[tuple[str, str, bytes, str, int]] = []
        # One pass: each payload split, the points with personal fields to seal (and how many
        # events have some), the contact and `contact_points` row of each point registered here.
        parts: list[tuple[Mapping[str, Any], dict[str, Any] | None]] = []
        sealing: set[str] = set()
        own: set[str] = set()  # points registered here as their own contact: no key yet
        to_seal = 0
        seq = self._seq
        for ev in events:
            seq += 1
            part = split(ev.type, ev.payload)
            parts.append(part)
            if part[1] is not None:
                sealing.add(ev.contact_point_id)
                to_seal += 1
            if ev.type == "contact_point.registered":
                pid = ev.contact_point_id
                ref = refs[pid] = contact_ref(vault, pid, ev.payload.get("contact_id"))
                if ref == pid:
                    own.add(pid)
                kind = ev.payload["kind"]
                lookup = lookups[pid] = index_of(kind, ev.payload["value"])
                new_points.append((pid, kind, lookup, ref, seq))
        self.contact_refs(sealing)
        keys = self.new_keys((refs.get(p, p) for p in sealing), self.now, own)
        tip: list[Any] = [self._seq, self._hash]  # where the chain ends once every row is made
        made = self._chained(events, parts, to_seal, tip)
        # The new keys and points are sent first, not waited for: the server stores them while
        # the first event rows are made (half as many rows: an event row costs the client
        # several times what a key or point row costs the server); then the events go to the
        # store a part at a time as they are made (`_event_sink`).
        # Nothing to send (an append about known points: a send's notices, feedback, requests):
        # no pipeline, whose end waits for a round trip of its own even when it sent nothing.
        ahead: list[list[tuple[Any, ...]]] = []
        if keys or new_points:
            with kept_once(len(keys)), sent_inserts(self.conn) as send:
                send("data_keys", KEY_COLUMNS, KEY_TYPES, keys, (3,))
                send("contact_points", _POINT_COLUMNS, _POINT_TYPES, new_points, ())
                ahead = list(islice(made, (len(keys) + len(new_points)) // (2 * _PART)))
        with self._event_sink() as put:
            for rows in ahead:
                put(rows)
            for rows in made:
                put(rows)
        self._move_head(tip[0], tip[1])
        self._fresh.update(p[0] for p in new_points)
        self._waiting += len(events)
        if project or self._waiting >= _PROJECT_EVERY:
            self.project_pending()
        return range(tip[0] - len(events) + 1, tip[0] + 1)

    def _chained(
        self,
        events: Sequence[Event],
        parts: list[tuple[Mapping[str, Any], dict[str, Any] | None]],
        to_seal: int,
        tip: list[Any],
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The events' rows (`_EVENT_COLUMNS`), sealed and chained from `tip`, `_PART` at a time;
        `tip` is the last row's (seq, hash) once all are made. Each event, with its number,
        waits for the projection (`_touched`)."""
        refs = self._ref_cache()
        ciphers = self._cipher_cache()
        # One read of the random source for the nonces of the whole append.
        fresh_nonces = iter(nonces(to_seal))
        rows: list[tuple[Any, ...]] = []
        by_point = self._touched
        seq, prev = tip
        # The events of one append share their recorded_at: write it out once; an event
        # that happened when the one before it did (an imported row's) shares its moment
        # too. Times are made the store's form here (SQLite: its text), not in another
        # pass over the rows.
        recorded: dict[datetime, tuple[str, Any]] = {}
        stored_time = _sqlite_moment if self._sqlite else _postgres_moment
        stored_digest = self._digest_form()
        last_at: datetime | None = None
        occurred: tuple[str, Any] = ("", None)
        for ev, (clear, personal) in zip(events, parts, strict=True):
            seq += 1
            pid = ev.contact_point_id
            sealed = None
            if personal is not None:
                cipher = ciphers[refs.get(pid, pid)]
                assert cipher is not None  # made by `new_keys`
                sealed = seal(cipher, ev.id, personal, next(fresh_nonces))
            text = payload_json(clear)
            rec = recorded.get(ev.recorded_at)
            if rec is None:
                rec = recorded[ev.recorded_at] = stored_time(ev.recorded_at)
            if ev.occurred_at is not last_at:
                last_at = ev.occurred_at
                occurred = stored_time(last_at)
            h = link(prev, ev, seq, text, rec[0], sealed, occurred[0])
            rows.append(
                (
                    seq,
                    ev.id,
                    pid,
                    ev.type,
                    occurred[1],
                    rec[1],
                    ev.schema_version,
                    text,
                    sealed,
                    stored_digest(h),
                )
            )
            full = ev if ev.seq == seq else _with_seq(ev, seq)
            point_events = by_point.get(pid)
            if point_events is None:
                by_point[pid] = [full]
            else:
                point_events.append(full)
            prev = h
            if len(rows) == _PART:
                yield rows
                rows = []
        tip[0], tip[1] = seq, prev
        if rows:
            yield rows

    def next_seq(self) -> int:
        """The sequence number the next appended event gets.

        `append` gives each event its number; an event made with that number already (the
        ledger service numbers a file's events from here) is kept as it is, any other is
        copied with its number, so a wrong guess costs a copy, never a wrong number.
        """
        return self._seq + 1

    def project_pending(self) -> None:
        """Refresh the projection of every contact point appended to since the last refresh."""
        if self._touched:
            self.refresh(self._touched, self._fresh)
        self._touched, self._fresh, self._waiting = {}, set(), 0

    def erase_points(self, records: Sequence[SuppressionRecord]) -> tuple[int, list[str]]:
        """`SuppressionWrites.erase_points`, and the erased points' waiting projection dropped: their
        rows are deleted, so folding them first (an erasure appends with `project=False`) is waste."""
        done = super().erase_points(records)
        for r in records:
            self._touched.pop(r.point_id, None)
            self._fresh.discard(r.point_id)
        return done

    @contextmanager
    def _event_sink(self) -> Iterator[Callable[[list[tuple[Any, ...]]], None]]:
        """Where `append` stores its chained rows (`_EVENT_COLUMNS`, in seq order, after the
        head), a part at a time as it makes them.

        PostgreSQL: one COPY, open while the rows are made (making them needs no statement),
        fed each part as lines of its text format (one f-string a row instead of a
        `write_row` call that looks a dumper up for each value), so the server stores a part
        while the next is made instead of all of them after. SQLite (in this process, so
        nothing to overlap): the parts in one executemany at the end.
        """
        if self._sqlite:
            kept: list[tuple[Any, ...]] = []
            yield kept.extend
            if kept:
                bulk_insert(self.conn, "events", _EVENT_COLUMNS, kept)
            return
        with copy_stream(self.conn, "events", _EVENT_COLUMNS) as write:
            # The moments and the hash are COPY's text already (`_postgres_moment`, `_copy_hash`);
            # the rest as COPY escapes it.
            yield lambda rows: write(
                "".join(
                    f"{r[0]}\t{copy_field(r[1])}\t{copy_field(r[2])}\t{copy_field(r[3])}\t{r[4]}\t{r[5]}\t"
                    f"{r[6]}\t{copy_field(r[7])}\t{copy_bytes(r[8])}\t{r[9]}\n"
                    for r in rows
                )
            )

    def _digest_form(self) -> Callable[[str], Any]:
        """How a row's chain hash goes to `_event_sink`: as SQLite binds it (its 32 bytes), or as
        COPY's text gives PostgreSQL a bytea (`\\x` and the hex the chain has already, not made
        bytes and hex again)."""
        return stored_hash if self._sqlite else _copy_hash

    def _move_head(self, seq: int, digest: str) -> None:
        self.conn.execute(t.ledger_head.update().where(t.ledger_head.c.id == 1).values(seq=seq, hash=digest))
        self._seq, self._hash = seq, digest


def _with_seq(e: Event, seq: int) -> Event:
    return Event(
        e.id, e.type, e.contact_point_id, e.occurred_at, e.recorded_at, e.payload, e.schema_version, seq
    )


def _copy_hash(digest: str) -> str:
    """A chain hash (64 lowercase hex digits, `chain.link`) as COPY's text gives PostgreSQL its
    32 bytes: what `copy_bytes(stored_hash(digest))` writes."""
    return "\\\\x" + digest


def _sqlite_moment(d: datetime) -> tuple[str, str]:
    """An aware moment as the chain writes it (`chain.iso`) and as SQLite keeps it
    (`stored.sqlite_time` of its naive UTC form).

    A moment in UTC (as the clock and `parse_moment` give them) has its stored form in its
    ISO text already: `2025-03-01T10:00:00+00:00` is kept as `2025-03-01 10:00:00.000000`.
    """
    text = iso(d)
    if d.tzinfo is not UTC:
        return text, sqlite_time(naive_utc(d))
    if len(text) == 25:  # no fraction of a second
        return text, f"{text[:10]} {text[11:19]}.000000"
    return text, f"{text[:10]} {text[11:26]}"


def _postgres_moment(d: datetime) -> tuple[str, str]:
    """An aware moment as the chain writes it (`chain.iso`) and as COPY gives PostgreSQL its
    naive UTC time: the ISO text of that time, which needs no escape.

    A moment in UTC has it in its own ISO text, without the offset (no datetime made and
    formatted again).
    """
    text = iso(d)
    if d.tzinfo is UTC:
        return text, text[:-6]
    return text, naive_utc(d).isoformat()
