"""Suppression records that outlive erased contact points, and the erasure's own writes.

A record is found by the blind index of the point's normalised value in its compared form
(`addresses.match_form`; `BlindIndex`, an HMAC under a secret kept outside the database), never
by the value; a record kept before that form, by the index of the value as it was normalised
(`Ciphers.lookups_for` gives both). Reads: the prior
suppression of points registered with an erased point's address (`prior_suppressions`),
which the projection writes into `point_facts` and the services put on a state they judge.
Writes (`SuppressionWrites.erase_points`, inside the erasure's one write transaction):
the records, the points' lookups, their projection rows, personal text in
`campaign_messages.error` (and the point's id there), and their contact's data key.
Scrubbing what the deletes leave in the database files follows after commit
(`data_keys.scrub_destroyed_keys`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.data_keys import DataKeyStore
from consentry.adapters.sql.objections import objecting_contacts, spread
from consentry.adapters.sql.sealing import Ciphers, PointKey, Preferred
from consentry.adapters.sql.stored import naive_utc, sqlite_time, utc
from consentry.domain.erasure import ALL_CHANNELS, SuppressionRecord, prior
from consentry.domain.state import ContactState, PriorSuppression
from consentry.domain.vocabulary import PointKind

__all__ = ["SuppressionReads", "SuppressionWrites"]

#: The projection tables of a contact point, by `contact_point_id` (`point_terms`, keyed by the
#: point's number: `_drop_terms`).
_PROJECTION = ("point_facts", "point_listings", "contact_objections")


def _scope(channels: frozenset[str] | None) -> str:
    return ALL_CHANNELS if channels is None else json.dumps(sorted(channels))


def _channels(scope: str) -> frozenset[str] | None:
    return None if scope == ALL_CHANNELS else frozenset(json.loads(scope))


class SuppressionReads(Ciphers):
    """Reading suppression records by the blind index of a point's value."""

    _any_suppression: bool | None = None

    def _suppressions_exist(self) -> bool:
        """Whether any record exists (read once a transaction; most databases have none yet)."""
        if self._any_suppression is None:
            found = self.conn.execute(sa.select(t.suppressions.c.seq).limit(1)).first()
            self._any_suppression = found is not None
        return self._any_suppression

    def lookups(self, keys: Iterable[PointKey]) -> dict[PointKey, bytes]:
        """The blind index of each (kind, normalised value), as the transaction made it before (`lookup`:
        an import's points were blinded when it looked them up, and are not blinded again)."""
        lookup = self.lookup
        return {(k, v): lookup(k, v) for k, v in keys if v}

    def prior_suppressions(self, keys: Iterable[PointKey]) -> dict[PointKey, PriorSuppression]:
        """The suppression records of these (kind, value) pairs, where an erased point left one.

        One indexed query per kind and 500 values, through the driver: a decision that folds
        a point anew asks it, so it costs what the registers' look-up costs, not more.
        """
        # Each value by both indexes a record may have (`lookups_for`): a record is kept under the
        # compared form's (`match_form`); one kept before it, under the value's own.
        found: Preferred[PriorSuppression] = Preferred()
        for kind, lookups in self.ranked_lookups(keys).items():
            for chunk in _byte_chunks(list(lookups)):
                where, params = self._in("lookup", chunk, "bytea")
                sql = (
                    f"SELECT lookup, what, scope, since, reason FROM suppressions WHERE kind = ? AND {where}"
                )
                for lookup, what, scope, since, reason in self._plain(sql, [kind.value, *params]):
                    found.offer(lookups[bytes(lookup)], prior(what, _channels(scope), utc(since), reason))
        return found.found

    def with_prior_suppressions(self, states: list[ContactState]) -> list[ContactState]:
        """The states, each with the suppression record its address carries (a copy where one does)."""
        if not states or not self._suppressions_exist():
            return states
        found = self.prior_suppressions((s.kind, s.value) for s in states)
        if not found:
            return states
        return [
            replace(s, prior_suppression=found[(s.kind, s.value)]) if (s.kind, s.value) in found else s
            for s in states
        ]

    def is_erased(self, point_id: str) -> bool:
        """Whether a registered contact point was erased: its lookup is gone."""
        cp = t.contact_points.c
        found = self.conn.execute(sa.select(cp.lookup).where(cp.id == point_id)).first()
        return found is not None and found[0] is None

    def suppression_of(self, kind: PointKind, value: str) -> PriorSuppression | None:
        """The suppression record of one address or number, if an erased point left one."""
        return self.prior_suppressions([(kind, value)]).get((kind, value))


def _byte_chunks(items: list[bytes], size: int = 500) -> Iterable[list[bytes]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class SuppressionWrites(SuppressionReads):
    """The erasure's writes, in the caller's write transaction (after it appended the erasures)."""

    def erase_points(self, records: Sequence[SuppressionRecord]) -> tuple[int, list[str]]:
        """Keep a suppression record per point and forget the rest: (data keys destroyed, the points
        whose contact keeps its key because other points of that contact are not erased).

        For each point: its record (a newer erasure of the same address renews it), its lookup
        (the clear value) removed from `contact_points`, its projection rows deleted, personal
        text in `campaign_messages.error` cleared (and the id the queue hands out). Then the data
        keys of their contacts go.
        Set-wise: each of these is one statement for the whole batch on PostgreSQL (the set as
        an array) and one per 500 points on SQLite, each on an index by point (or contact).
        """
        if not records:
            return 0, []
        lookups = self.lookups((r.kind, r.value) for r in records)
        missing = [r.point_id for r in records if (r.kind, r.value) not in lookups]
        if missing:  # a point whose value could not be read: its key is gone already
            raise ValueError(f"cannot keep a suppression record for {', '.join(missing)}: no value")
        ids = [r.point_id for r in records]
        self._keep_records(records, lookups)
        owners, kept = self._key_owners(ids)
        self._forget_values(ids)
        self._drop_projection(ids)
        # On the queue's key (each campaign's number, each point's): the server's words, and the
        # point's id, so a claim finds no point to send to, as it finds no projection row.
        clear = (
            "UPDATE campaign_messages SET error = NULL, contact_point_id = NULL "
            "WHERE (error IS NOT NULL OR contact_point_id IS NOT NULL) "
            "AND campaign_no IN (SELECT no FROM campaigns) "
            "AND point_no IN (SELECT registered_seq FROM contact_points WHERE id {set})"
        )
        self._each(clear, ids)
        gone = DataKeyStore(self.conn, self.vault.keys).destroy(sorted(owners))
        # Nor does the process keep them: the unwrapped keys leave this transaction's and the
        # vault's caches (were it rolled back, the stored key is simply unwrapped again).
        self.forget_ciphers(owners)
        return gone, sorted(kept)

    def _keep_records(self, records: Sequence[SuppressionRecord], lookups: dict[PointKey, bytes]) -> None:
        """The points' suppression records, in one upsert: a record of the same address is renewed."""
        rows: dict[tuple[str, bytes], tuple[Any, ...]] = {}
        pg = not self._sqlite
        for r in sorted(records, key=lambda r: r.seq):  # the newest erasure of an address wins
            lookup = lookups[(r.kind, r.value)]
            since = naive_utc(r.since) if pg else sqlite_time(naive_utc(r.since))
            scope = _scope(r.channels)
            rows[(r.kind.value, lookup)] = (r.kind.value, lookup, r.what, scope, since, r.reason, r.seq)
        renew = (
            " ON CONFLICT (kind, lookup) DO UPDATE SET what = excluded.what, scope = excluded.scope, "
            "since = excluded.since, reason = excluded.reason, seq = excluded.seq"
        )
        columns = "INSERT INTO suppressions (kind, lookup, what, scope, since, reason, seq) "
        if pg:
            arrays = [list(col) for col in zip(*rows.values(), strict=True)]
            sql = (
                columns + "SELECT * FROM unnest(%s::text[], %s::bytea[], %s::text[], %s::text[], "
                "%s::timestamp[], %s::text[], %s::bigint[])" + renew
            )
            self.conn.exec_driver_sql(sql, tuple(arrays))
        else:
            self.conn.exec_driver_sql(columns + "VALUES (?, ?, ?, ?, ?, ?, ?)" + renew, list(rows.values()))
        self._any_suppression = True

    def _key_owners(self, point_ids: Sequence[str]) -> tuple[set[str], set[str]]:
        """Whose data keys go with these points, and the points whose contact keeps its key.

        A point's contact (`contact_ref`: its importer's contact, or the point itself) loses
        its key once no other point of that contact is left: erasing one address of a person
        keeps the person's other points readable.
        """
        erased = set(point_ids)
        refs = {pid: ref for pid, ref in self.contact_refs(point_ids).items() if pid in erased}
        owners = set(refs.values())
        live = self._rows_of(
            "SELECT contact_ref, id FROM contact_points WHERE lookup IS NOT NULL AND contact_ref {set}",
            sorted(owners),
        )
        owners.difference_update(ref for ref, pid in live if pid not in erased)
        return owners, {pid for pid, ref in refs.items() if ref not in owners}

    def _forget_values(self, point_ids: Sequence[str]) -> None:
        """The points' lookups (their blind indexes) leave `contact_points`: the row stays (the ledger
        names its id), unfindable by the address, so the same address registers anew as another
        point. Its `contact_ref` becomes its own (`x` + id), so a later point of the same contact,
        with a new data key, never meets the erased point's sealed events."""
        self._each(
            "UPDATE contact_points SET lookup = NULL, contact_ref = substr('x' || id, 1, 40) WHERE id {set}",
            list(point_ids),
        )
        self._ref_cache().clear()

    def _drop_projection(self, point_ids: Sequence[str]) -> None:
        """The points' projection rows, a statement a table (each by its index on the point); the
        other points of a contact they objected under no longer carry their objections."""
        objected = objecting_contacts(self, point_ids)
        for table in _PROJECTION:
            self._each(f"DELETE FROM {table} WHERE contact_point_id {{set}}", point_ids)
        _drop_terms(self, point_ids)
        spread(self, objected)


def _drop_terms(store: Connected, point_ids: Sequence[str]) -> None:
    """The points' search terms (`point_terms`, keyed by the point's number, its registered_seq)."""
    store._each(
        "DELETE FROM point_terms WHERE point_no IN "
        "(SELECT registered_seq FROM contact_points WHERE id {set})",
        point_ids,
    )
