"""Upgrading a populated database from the v1 schema (revision 0008) to storage v2 (migration 0009).

The v1 ledger holds personal data in clear (in the events' payloads, `contact_points.value`
and the projections). The upgrade runs inside the migration's one transaction, in two steps
around the migration's schema changes:

- `set_aside` (before them): refuses without the master key and the blind index secret
  (nothing changed), checks the master key, and copies the v1 events aside (`v1_events`).
- `carry_over` (after them): walks the v1 events in order, a batch at a time, checking the
  old chain link by link, and appends them again through the store's own `Writer`: every
  point gets its contact (`contact_ref`) and lookup, every contact its data key, every
  event's personal fields are sealed and the chain is written anew from seq 1, starting
  from `epoch_genesis(old head hash)`. It stores the entries of clear registers as blind
  indexes (first, so nothing reads them in clear), records the old head in `chain_epochs`
  and drops `v1_events`. The projection is left empty (0009's tables are not today's):
  `rebuild_emptied_projection` builds it once every migration has run.

Memory stays bounded: the writer's key caches are dropped every stretch of events. On
SQLite the engine's `secure_delete` zeroes what the drops and rewrites free, so no clear
copy stays in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Set
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from consentry.adapters.crypto.configured import KeySettingError
from consentry.adapters.crypto.vault import Vault
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.data_keys import check_master_key
from consentry.adapters.sql.registers import clear_entry
from consentry.adapters.sql.stored import bulk_insert, utc
from consentry.adapters.sql.writer import Writer
from consentry.domain.chain import GENESIS, canonical, chain_hash, epoch_genesis
from consentry.domain.events import Event
from consentry.domain.fold import fold

__all__ = [
    "EPOCH",
    "Carried",
    "UpgradeRefused",
    "carry_over",
    "checked_keys",
    "keys_to_project",
    "rebuild_emptied_projection",
    "set_aside",
]

#: The chain epoch storage v2 starts (epoch 1 is the v1 chain).
EPOCH = 2
#: v1 events appended again per batch, and projected (then the key caches dropped) per stretch.
BATCH = 5000
STRETCH = 40_000
#: Points folded and projected at a time by `rebuild_emptied_projection`.
REBUILD = 2000
#: The projection tables (derived from the ledger), those of them the schema has.
_PROJECTIONS = ("contact_state", "point_facts", "point_terms", "point_listings", "contact_objections")
_V2_COLUMNS = (
    "seq, id, contact_point_id, type, occurred_at, recorded_at, schema_version, payload, sealed, "
    "prev_hash, hash"
)
_V1_COLUMNS = (
    "seq, id, contact_point_id, type, occurred_at, recorded_at, schema_version, payload, prev_hash, hash"
)


class UpgradeRefused(RuntimeError):
    """The upgrade cannot run on this database; nothing was changed (the transaction rolls back)."""


class _LedgerOnly(Writer):
    """The store's writer without its projection: 0009 writes the ledger into tables a later
    migration changes the projection of; `rebuild_emptied_projection` projects at the end."""

    def _digest_form(self) -> Callable[[str], Any]:
        return _same  # 0009's rows keep the chain's hex

    @contextmanager
    def _event_sink(self) -> Iterator[Callable[[list[Any]], None]]:
        """As 0009's `events` keep them: each row with its previous hash, both in hex (0015 made
        the hash 32 bytes and dropped the previous one, the row before's hash)."""
        prev = self._hash

        def put(rows: list[tuple[Any, ...]]) -> None:
            nonlocal prev
            stored: list[tuple[Any, ...]] = []
            for row in rows:
                digest = row[-1]  # the chain's hex (`_digest_form`)
                stored.append((*row[:-1], prev, digest))
                prev = digest
            if stored:
                bulk_insert(self.conn, "events", _V2_COLUMNS, stored)

        yield put

    def refresh(self, new: dict[str, list[Event]], fresh: Set[str]) -> None:
        return None


def _same(digest: str) -> str:
    return digest


def keys_to_project(conn: Connection, keys: Callable[[], Vault], now: datetime) -> Vault | None:
    """The keys a projection rebuild needs, checked; None when no contact point is left to project.

    A migration that empties the projection calls this before it changes anything (SQLite
    does not roll every schema change back), so a missing key leaves the database as it was.
    """
    live = "SELECT count(*) FROM contact_points WHERE lookup IS NOT NULL"
    n = int(conn.exec_driver_sql(live).scalar_one())
    if not n:
        return None
    why = (
        f"this upgrade rebuilds the search and audience projection of {n} contact points from the "
        "ledger, whose personal fields are sealed"
    )
    return checked_keys(conn, keys, now, why)


def checked_keys(conn: Connection, keys: Callable[[], Vault], now: datetime, why: str) -> Vault:
    """The store's keys, the master key checked against the database's; without them the
    upgrade is refused, saying `why` it needs them and which settings give them."""
    try:
        vault = keys()
    except KeySettingError as exc:
        raise UpgradeRefused(
            f"{why}: it needs the master key (CONSENTRY_MASTER_KEY or CONSENTRY_MASTER_KEY_FILE) and "
            "the blind index secret (CONSENTRY_BLIND_INDEX_KEY); see docs/privacy.md. Nothing was "
            f"changed. ({exc})"
        ) from None
    check_master_key(conn, vault.keys, now)
    return vault


def rebuild_emptied_projection(conn: Connection, keys: Callable[[], Vault], now: datetime) -> int:
    """Project every contact point again when the migrations just run left the projection empty.

    A migration that changes the projection's tables (0009, 0011) leaves them empty: the rows
    are the fold of the ledger, written here by today's code into today's tables, after the
    last migration and in the same transaction. Without the keys this is refused (and the
    whole upgrade rolls back). Returns how many points were projected (0: nothing to do).
    """
    if conn.exec_driver_sql("SELECT 1 FROM point_facts LIMIT 1").first() is not None:
        return 0
    vault = keys_to_project(conn, keys, now)
    if vault is None:
        return 0
    w = Writer(conn, now, vault)
    ids = w.point_ids()
    for i in range(0, len(ids), REBUILD):
        events = w.events_for_many(ids[i : i + REBUILD])
        w.write_states((fold(pid, evs) for pid, evs in events.items()), frozenset(events))
        w.drop_caches()
    return len(ids)


@dataclass(frozen=True, slots=True)
class Carried:
    """What `set_aside` found: the keys to seal with and the v1 chain's head."""

    vault: Vault
    events: int
    head_seq: int
    head_hash: str


def set_aside(conn: Connection, keys: Callable[[], Vault], now: datetime) -> Carried | None:
    """Prepare a populated v1 database for the schema changes; None when its ledger is empty.

    `keys` gives the store's keys (from the settings); without them the upgrade is refused
    with a message naming the settings, before anything is changed.
    """
    n = int(conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one())
    if not n:
        return None
    why = (
        f"storage v2 (revision 0009) seals the personal data of this database's {n} events under "
        "a key per contact and looks contact points up by a keyed blind index"
    )
    vault = checked_keys(conn, keys, now, why)
    head = conn.execute(sa.select(t.ledger_head.c.seq, t.ledger_head.c.hash)).first()
    if head is None:
        raise UpgradeRefused(
            "the ledger head row is missing: the ledger was wiped or damaged; run `consentry ledger "
            "verify` with the previous version before upgrading. Nothing was changed."
        )
    conn.exec_driver_sql(f"CREATE TABLE v1_events AS SELECT {_V1_COLUMNS} FROM events")
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_v1_events_seq ON v1_events (seq)")
    return Carried(vault, n, int(head.seq), str(head.hash))


def carry_over(conn: Connection, carried: Carried, now: datetime) -> None:
    """Append the v1 events again as storage v2 stores them, chained to the v1 head (see module doc)."""
    head = t.ledger_head
    conn.execute(head.update().where(head.c.id == 1).values(seq=0, hash=epoch_genesis(carried.head_hash)))
    # The v1 projection rows (with clear values) go; the writer writes every point's rows anew.
    for name in _PROJECTIONS:
        if name in t.metadata.tables:
            conn.execute(t.metadata.tables[name].delete())
    _blind_clear_registers(conn, carried.vault)
    w = _LedgerOnly(conn, now, carried.vault)
    sqlite = conn.dialect.name == "sqlite"
    select = sa.text(f"SELECT {_V1_COLUMNS} FROM v1_events WHERE seq > :after ORDER BY seq LIMIT {BATCH}")
    after, prev, waiting = 0, GENESIS, 0
    while rows := conn.execute(select, {"after": after}).all():
        events: list[Event] = []
        for seq, eid, pid, etype, occurred, recorded, version, payload, prev_hash, digest in rows:
            body: Any = orjson.loads(payload) if sqlite else payload
            ev = Event(eid, etype, pid, utc(occurred), utc(recorded), body, int(version), int(seq))
            if (
                seq != after + 1
                or prev_hash != prev
                or not _links(ev, prev_hash, digest, payload if sqlite else None)
            ):
                raise UpgradeRefused(
                    f"the v1 ledger's hash chain is broken at seq {seq} (event {eid}): the upgrade "
                    "would seal a chain that does not verify. Run `consentry ledger verify` with the "
                    "previous version and restore the ledger first. Nothing was changed."
                )
            events.append(ev)
            after, prev = int(seq), str(digest)
        w.append(events, project=False)
        waiting += len(events)
        if waiting >= STRETCH:
            w.project_pending()
            w.drop_caches()
            waiting = 0
    if (after, prev) != (carried.head_seq, carried.head_hash):
        raise UpgradeRefused(
            f"the v1 ledger head says seq {carried.head_seq} but its events end at seq {after}: events "
            "are missing. Run `consentry ledger verify` with the previous version. Nothing was changed."
        )
    w.project_pending()
    conn.execute(
        t.chain_epochs.insert().values(
            epoch=EPOCH,
            first_seq=1,
            previous_head_seq=carried.head_seq,
            previous_head_hash=carried.head_hash,
            started_at=now,
        )
    )
    conn.exec_driver_sql("DROP INDEX ix_v1_events_seq")
    conn.exec_driver_sql("DROP TABLE v1_events")


def _links(ev: Event, prev_hash: str, digest: str, stored_text: str | None) -> bool:
    """Whether a v1 event hashes, chained to `prev_hash`, to `digest` (the v1 canonical form).

    SQLite keeps the payload as v1 wrote it, its canonical JSON: that text is tried first,
    then (for text stored otherwise) the payload encoded anew, as v1's verify did.
    """
    seq = ev.seq or 0
    if stored_text is not None and chain_hash(prev_hash, canonical(ev, seq, stored_text)) == digest:
        return True
    return chain_hash(prev_hash, canonical(ev, seq)) == digest


def _blind_clear_registers(conn: Connection, vault: Vault) -> None:
    """Store the entries of clear (not hashed) registers as the blind index (hex) of the entry."""
    r, e = t.registers.c, t.register_entries.c
    for key, kind in conn.execute(sa.select(r.key, r.kind).where(r.hashed.is_(False))).all():
        entries = conn.execute(
            sa.select(e.entry, e.listed_from, e.listed_until).where(e.register == key)
        ).all()
        if not entries:
            continue
        conn.execute(t.register_entries.delete().where(e.register == key))
        blind = {clear_entry(vault, kind, entry): (start, end) for entry, start, end in entries}
        conn.execute(
            t.register_entries.insert(),
            [
                {"register": key, "entry": x, "listed_from": s, "listed_until": u}
                for x, (s, u) in blind.items()
            ],
        )
