"""The projection: the facts the audience queries test (`point_facts`), the terms a point is
searched and selected by (`point_terms`), its own register listings (`point_listings`) and
the objections that reach the rest of its person (`contact_objections`).

No row here holds personal data in clear: a point's value and name are sealed under its
contact's data key (for the sender and the export), its terms are blind indexes; its
attributes are read from its events (the fold), not kept here.
There is no stored state: a point's state is the fold of its (opened) events, read when
asked for. Every row is derived from the ledger and rebuilt from it; the writer refreshes
the rows of every point it appends to, in the same transaction.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from datetime import datetime
from operator import attrgetter
from typing import Any

from consentry.adapters.crypto.fields import ContactCipher, nonces
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.ledger import LedgerReads
from consentry.adapters.sql.objections import contacts_with_objections, objecting_contacts, spread
from consentry.adapters.sql.sealing import contact_ref
from consentry.adapters.sql.stored import (
    bulk_insert,
    chunks,
    iso_dates,
    naive_utc,
    row_stream,
    sqlite_moment,
    utc,
)
from consentry.adapters.sql.suppressions import SuppressionReads
from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.state import ContactState
from consentry.policy.factrows import COLUMNS as FACT_COLUMN_NAMES
from consentry.policy.factrows import (
    DATE_COLUMNS,
    EMPTY,
    Numbering,
    facts_row,
    listing_rows,
    objection_rows,
    selection_terms,
    terms,
)

#: What the store adds to `factrows.facts_row`, in this order (see `stored_facts`).
STORED_COLUMNS = (
    "contact_id",
    "lookup",
    "value_ct",
    "name_ct",
    "event_count",
    "last_seq",
    "last_event_at",
    "suppressed_since",
    "point_no",
    "selected_by",
    "person_objected_dm",
    "person_objected_profiling",
)
FACT_COLUMNS = ", ".join((*FACT_COLUMN_NAMES, *STORED_COLUMNS))
LISTING_COLUMNS = "contact_point_id, register, listed_from, listed_until, sectors"
OBJECTION_COLUMNS = "contact_point_id, contact_id, scope"
_LISTING_DATES = (2, 3)
_OBJ_DM, _OBJ_PROF = (FACT_COLUMN_NAMES.index(c) for c in ("objected_dm", "objected_profiling"))
#: Points folded at a time when states are streamed.
_STREAM = 1000


def fact_bits(c: Connected) -> Numbering:
    """The bits the mask columns of `point_facts` give their tokens, as stored (`fact_bits`)."""
    return Numbering(c._plain("SELECT col, token, bit FROM fact_bits"))


class ProjectionReads(LedgerReads):
    """Reading the projection, and the states folded from the ledger."""

    def fact_bits(self) -> Numbering:
        """The bits the mask columns of `point_facts` give their tokens (`fact_bits`)."""
        return fact_bits(self)

    def heads(self, point_ids: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        """Each point's projection head: the last event's seq and the latest occurred_at."""
        found: dict[str, tuple[int, datetime | None]] = {}
        for chunk in chunks(list(dict.fromkeys(point_ids))):
            where, params = self._in("contact_point_id", chunk)
            sql = f"SELECT contact_point_id, last_seq, last_event_at FROM point_facts WHERE {where}"
            for pid, seq, at in self._plain(sql, params):
                found[pid] = (seq, utc(at) if at is not None else None)
        return found

    def state(self, point_id: str) -> dict[str, Any] | None:
        """A contact point's state (the fold of its events), as JSON; None without events."""
        events = self.events_for(point_id)
        return fold(point_id, events).to_json() if events else None

    def states_from_sources(self, sources: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The states of the contact points with one of these sources, not erased, streamed."""
        wanted = list(sources)
        if not wanted:
            return
        marks = ", ".join("?" * len(wanted))
        false = "0" if self._sqlite else "false"
        ids = [
            row[0]
            for row in self._plain(
                f"SELECT contact_point_id FROM point_facts WHERE source IN ({marks}) AND erased = {false} "
                "ORDER BY contact_point_id",
                wanted,
            )
        ]
        for chunk in chunks(ids):
            for pid, events in self.events_for_many(chunk).items():
                yield fold(pid, events).to_json()

    def objecting_points(self, contact_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per contact, its points that ever had an objection recorded (their ledger says when)."""
        by_ref = {contact_ref(self.vault, "", c): c for c in dict.fromkeys(contact_ids)}
        out: dict[str, list[str]] = {}
        for chunk in chunks(list(by_ref)):
            where, params = self._in("f.contact_id", chunk)
            sql = (
                f"SELECT f.contact_id, f.contact_point_id FROM point_facts f WHERE {where} AND EXISTS "
                "(SELECT 1 FROM events e WHERE e.contact_point_id = f.contact_point_id "
                "AND e.type = 'objection.recorded')"
            )
            for ref, pid in self._plain(sql, params):
                out.setdefault(by_ref[ref], []).append(pid)
        return out

    def contact_points_of(self, contact_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per contact, the ids of its projected points (an access export gathers the person).

        The contact ids are as recorded; `point_facts` names each contact by its blind index.
        """
        by_ref = {contact_ref(self.vault, "", c): c for c in dict.fromkeys(contact_ids)}
        out: dict[str, list[str]] = {}
        for chunk in chunks(list(by_ref)):
            where, params = self._in("contact_id", chunk)
            sql = (
                f"SELECT contact_id, contact_point_id FROM point_facts WHERE {where} "
                "ORDER BY contact_point_id"
            )
            for ref, pid in self._plain(sql, params):
                out.setdefault(by_ref[ref], []).append(pid)
        return out

    def projection_complete(self) -> bool:
        """True when every contact point that is not erased has its audience facts row."""
        ((facts,),) = self._plain("SELECT count(*) FROM point_facts")
        ((points,),) = self._plain("SELECT count(*) FROM contact_points WHERE lookup IS NOT NULL")
        return bool(facts == points)

    def open_facts(self, rows: Sequence[tuple[str, Any, Any]]) -> list[tuple[str, str | None]]:
        """The value and name of (contact_id, value_ct, name_ct) rows of `point_facts`, opened.

        One keyring load for the rows' contacts (a query per 500); a contact whose key is
        gone gives ("", None).
        """
        ciphers = self.ciphers(r[0] for r in rows)
        out: list[tuple[str, str | None]] = []
        for contact, value_ct, name_ct in rows:
            cipher = ciphers.get(contact)
            if cipher is None or value_ct is None:
                out.append(("", None))
                continue
            name = cipher.decrypt("name", bytes(name_ct)) if name_ct is not None else None
            out.append((cipher.decrypt("value", bytes(value_ct)), name))
        return out


class ProjectionWrites(ProjectionReads, SuppressionReads):
    """Refreshing the projection from the ledger."""

    def refresh(self, new: dict[str, list[Event]], fresh: Set[str]) -> None:
        """Fold again every point with `new` events (appended in this transaction) and store its rows.

        `fresh` points were registered among them, so they have no earlier events. Every event
        in `new` carries its `seq` (the writer numbers each as it appends it): the fold order
        sorts by it.
        """
        existing = [p for p in new if p not in fresh]
        merged: dict[str, list[Event]] = {p: [] for p in new}
        merged.update(self.events_for_many(existing))
        # The select above already sees this transaction's inserts, in fold order;
        # points registered in this batch have no earlier events to read.
        for pid in fresh:
            merged[pid] = sorted(new[pid], key=_FOLD_KEY)
        self.write_states((fold(pid, evs) for pid, evs in merged.items()), fresh)

    def write_states(self, states: Iterable[ContactState], fresh: Set[str] = frozenset()) -> None:
        """Replace the projection rows of these contact points (`fresh` ones have none yet).

        An erased point gets no rows (nor does one whose contact has no data key). A point
        registered with an erased point's address carries that point's suppression record.
        """
        given = list(states)
        stale = [s for s in given if s.id not in fresh]
        # The contacts whose points' objection flags may change (`objections.spread`): those
        # the old rows objected under (their objection withdrawn, erased or moved elsewhere)...
        touched: set[str] = set()
        for chunk in chunks(stale):
            ids = [s.id for s in chunk]
            touched |= objecting_contacts(self, ids)
            for table in (t.point_facts, t.point_listings, t.contact_objections):
                self.conn.execute(table.delete().where(table.c.contact_point_id.in_(ids)))
            nos = [s.registered_seq for s in chunk]
            self.conn.execute(t.point_terms.delete().where(t.point_terms.c.point_no.in_(nos)))
        states = self.with_prior_suppressions([s for s in given if s.erased_at is None])
        refs, ciphers = self.point_ciphers(s.id for s in states)
        keyed = [(s, c) for s in states if (c := ciphers.get(refs.get(s.id, ""))) is not None]
        if not keyed:
            spread(self, touched)
            return
        lookups = self.lookups_of(s for s, _ in keyed)
        bits = self.fact_bits()
        listed: list[tuple[Any, ...]] = []
        objections: list[tuple[str, str, str]] = []
        found: list[tuple[int, bytes]] = []
        # Many points share a term (a town, a tag, a rating): blind each one once per refresh.
        blinded: dict[str, bytes] = {}
        tokens: dict[str, str] = {}  # selection terms, blinded and made `selected_by` tokens
        term = self.vault.blind.term
        linked: set[str] = set()  # the contacts of these points that belong to one
        # One read of the random source for the nonces of every sealed column (two a point at most).
        unused = iter(nonces(2 * len(keyed)))
        moment = sqlite_moment if self._sqlite else naive_utc  # times as the store keeps them
        # Each point's facts row goes to the store as it is made (PostgreSQL: one COPY open while
        # the points are folded, which the server stores meanwhile); the smaller tables after.
        with row_stream(self.conn, "point_facts", FACT_COLUMNS, DATE_COLUMNS) as put_facts:
            for s, cipher in keyed:
                clear = facts_row(s, bits)
                if s.contact_id:
                    contact = contact_ref(self.vault, s.id, s.contact_id)
                    linked.add(contact)
                else:
                    contact = s.id
                selected = [
                    tokens.get(x) or tokens.setdefault(x, term_token(term(x))) for x in selection_terms(s)
                ]
                stored = self._stored(s, cipher, contact, lookups[s.id], unused, moment)
                # The person's objections: the point's own here, its contact's others by `spread`.
                put_facts((*clear, *stored, _joined(selected), clear[_OBJ_DM], clear[_OBJ_PROF]))
                if s.listings:
                    listed.extend(listing_rows(s))
                if s.objections and s.contact_id:  # else it has none (`objection_rows`)
                    objections.extend(objection_rows(clear, contact))
                no = s.registered_seq
                for x in terms(s):
                    b = blinded.get(x)
                    if b is None:
                        b = blinded[x] = term(x)
                    found.append((no, b))
        if self._sqlite:  # dates as SQLite keeps them: ISO text
            listed = [iso_dates(r, _LISTING_DATES) for r in listed]
        if bits.added:  # tokens met for the first time: numbered under the ledger lock this writer holds
            bulk_insert(self.conn, "fact_bits", "col, token, bit", bits.added)
        if found:
            bulk_insert(self.conn, "point_terms", "point_no, term", found)
        if listed:
            bulk_insert(self.conn, "point_listings", LISTING_COLUMNS, listed)
        # Objections of points that belong to a contact: the audience SQL covers the whole
        # contact with them (an objection binds the person, GDPR Art. 21).
        if objections:
            bulk_insert(self.conn, "contact_objections", OBJECTION_COLUMNS, objections)
        # ... those these points object under now, and those that objected before these points
        # joined them (a point registered to a person who objected earlier).
        touched.update(o[1] for o in objections)
        touched |= contacts_with_objections(self, linked - touched)
        spread(self, touched)

    @staticmethod
    def _stored(
        s: ContactState,
        cipher: ContactCipher,
        contact: str,
        lookup: bytes,
        nonce: Iterator[bytes],
        moment: Callable[[datetime], Any],
    ) -> tuple[Any, ...]:
        """The columns `STORED_COLUMNS` names, for one state: sealed with nonces from `nonce`,
        its times as `moment` makes them the store's."""
        seal = cipher.encrypt_bytes
        name = seal("name", s.display_name.encode(), next(nonce)) if s.display_name else None
        last = moment(s.last_event_at) if s.last_event_at else None
        prior = s.prior_suppression.since if s.prior_suppression is not None else None
        return (
            contact,
            lookup,
            seal("value", s.value.encode(), next(nonce)),
            name,
            s.event_count,
            s.last_seq,
            last,
            moment(prior) if prior is not None else None,
            s.registered_seq,
        )  # and `selected_by` and the person's objections, added by the caller


def selected_by(blinded: Iterable[bytes]) -> str:
    """`point_facts.selected_by`: the blind indexes of a point's selection terms as `|<token>|`s."""
    return _joined([term_token(b) for b in blinded])


def _joined(tokens: list[str]) -> str:
    """`|a|b|`: tokens as `selected_by` keeps them, each once, sorted (`|` when none)."""
    return f"|{'|'.join(sorted(set(tokens)))}|" if tokens else EMPTY


def term_token(blinded: bytes) -> str:
    """A blind index as a token of `selected_by`: base64 without padding (11 characters for 8
    bytes; its alphabet has no `|`, and `instr`/`strpos` know no wildcards)."""
    # `base64.b64encode` is this call, made through a Python function a term
    return binascii.b2a_base64(blinded, newline=False).decode().rstrip("=")


#: Fold order, (occurred_at, seq), read in C (no Python call an event): the events a writer
#: hands `refresh` are numbered, each by the writer that appended it.
_FOLD_KEY = attrgetter("occurred_at", "seq")
