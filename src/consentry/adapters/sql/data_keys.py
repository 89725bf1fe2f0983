"""Per-contact data keys in the database: made, loaded by the thousand, destroyed, re-wrapped.

Destroying a contact's key (deleting its `data_keys` row) is crypto-shredding: every field
encrypted under it, in the ledger, the projections and any backup, can no longer be read.
On SQLite the engine turns `secure_delete` on (see `engine.create_engine`) so the row's bytes
are overwritten with zeros instead of staying in a free page; `scrub_destroyed_keys` then
empties the write-ahead log, which still holds the page as it was before the delete. On PostgreSQL
the deleted row's bytes stay in its page (even after a plain VACUUM) until VACUUM FULL
rewrites the table, and in the WAL and its archives (docs/privacy.md says what that means
for an erasure).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from consentry.adapters.crypto.fields import DATA_KEY_BYTES, ContactCipher, new_data_key
from consentry.adapters.crypto.keyring import Keyring
from consentry.adapters.crypto.keys import KeyManager, UnknownMasterKey, UnwrapFailed, WrappedKey
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.stored import bulk_insert, naive_utc

__all__ = [
    "DataKeyExists",
    "DataKeyStore",
    "Rotation",
    "WrongMasterKey",
    "check_at_start",
    "check_master_key",
    "rotate_master_key",
    "scrub_destroyed_keys",
]

#: The key check: this value wrapped under a master key, for a contact id no contact has
#: (contact ids hold no NUL), so it can never be mistaken for a data key.
_CHECK_CONTACT = "\x00master-key-check"
_CHECK_VALUE = bytes(32)


class DataKeyExists(ValueError):
    """A contact given a new data key already has one (the transaction must be rolled back)."""


class WrongMasterKey(RuntimeError):
    """The configured master key is not the one the database's data keys are wrapped under."""


#: The columns of a `data_keys` row as `DataKeyStore.made` gives it, and their PostgreSQL types.
KEY_COLUMNS = "contact_id, key_id, wrapped, created_at"
KEY_TYPES = ("text", "text", "bytea", "timestamp")


@contextmanager
def kept_once(count: int) -> Iterator[None]:
    """Storing `count` new data keys: a contact that has one already stops it (`DataKeyExists`)."""
    try:
        yield
    except (sa.exc.IntegrityError, psycopg.IntegrityError) as exc:
        # The driver's own error names the table: PostgreSQL in its diagnostics, SQLite in its
        # message ("UNIQUE constraint failed: data_keys.contact_id"), not SQLAlchemy's wrapper,
        # whose text carries the statement and its parameters too.
        cause = exc.orig if isinstance(exc, sa.exc.IntegrityError) else exc
        table = getattr(getattr(cause, "diag", None), "table_name", None) or str(cause)
        if "data_keys" not in table:  # another table's key, stored in the same block
            raise
        raise DataKeyExists(f"a contact among {count} already has a data key: {exc}") from None


class DataKeyStore(Connected):
    """The data keys of contacts, within the caller's transaction."""

    def __init__(self, conn: Connection, manager: KeyManager) -> None:
        super().__init__(conn)
        self.manager = manager

    def create_many(self, contact_ids: Sequence[str], now: datetime) -> dict[str, ContactCipher]:
        """New data keys for contacts that have none (`DataKeyExists` if one has), and their ciphers."""
        if not contact_ids:
            return {}
        rows, ciphers = self.made(contact_ids, now)
        # Through the driver (COPY on PostgreSQL): an import makes a key per new contact.
        with kept_once(len(rows)):
            bulk_insert(self.conn, "data_keys", KEY_COLUMNS, rows, times=(3,))
        return ciphers

    def made(
        self, contact_ids: Sequence[str], now: datetime
    ) -> tuple[list[tuple[str, str, bytes, datetime]], dict[str, ContactCipher]]:
        """New data keys for these contacts, not yet stored: their `data_keys` rows (`KEY_COLUMNS`,
        to be stored within `kept_once`) and their ciphers."""
        if len(set(contact_ids)) != len(contact_ids):
            raise ValueError("a contact is named twice among the contacts to give a data key")
        ciphers: dict[str, ContactCipher] = {}
        rows: list[tuple[str, str, bytes, datetime]] = []
        at = naive_utc(now)
        wrap = self.manager.wrap
        # One read of the system's random source for the batch's keys, not one a contact.
        fresh = new_data_key(len(contact_ids))
        for i, contact_id in enumerate(contact_ids):
            key = fresh[i * DATA_KEY_BYTES : (i + 1) * DATA_KEY_BYTES]
            wrapped = wrap(contact_id, key)
            rows.append((contact_id, wrapped.key_id, wrapped.wrapped, at))
            ciphers[contact_id] = ContactCipher(contact_id, key)
        return rows, ciphers

    def create(self, contact_id: str, now: datetime) -> ContactCipher:
        """A new data key for a contact that has none, and its cipher."""
        return self.create_many([contact_id], now)[contact_id]

    def wrapped(self, contact_ids: Iterable[str]) -> list[WrappedKey]:
        """The stored (wrapped) keys of those contacts that have one (one query on PostgreSQL,
        one per 500 on SQLite)."""
        wanted = list(dict.fromkeys(contact_ids))
        sql = "SELECT contact_id, key_id, wrapped FROM data_keys WHERE contact_id {set}"
        return [WrappedKey(c, k, bytes(w)) for c, k, w in self._rows_of(sql, wanted)]

    def load(self, contact_ids: Iterable[str]) -> Keyring:
        """The ciphers of those contacts that have a key; erased ones are absent from the keyring."""
        return Keyring.unwrapped(self.manager, self.wrapped(contact_ids))

    def cipher(self, contact_id: str) -> ContactCipher:
        """One contact's cipher; `KeyDestroyed` when it has no key."""
        return self.load([contact_id]).cipher(contact_id)

    def destroy(self, contact_ids: Iterable[str]) -> int:
        """Crypto-shred contacts: delete their data keys. How many were there."""
        # Set-wise: one statement for a retention batch's thousand contacts on PostgreSQL.
        return self._each("DELETE FROM data_keys WHERE contact_id {set}", list(dict.fromkeys(contact_ids)))


def _check(manager: KeyManager, key_id: str, stored: bytes) -> None:
    """Raise `WrongMasterKey` unless `stored` is `key_id`'s key check value, unwrapped by `manager`."""
    try:
        (value,) = manager.unwrap([WrappedKey(_CHECK_CONTACT, key_id, stored)])
    except UnwrapFailed:
        value = b""
    if value != _CHECK_VALUE:
        raise WrongMasterKey(
            f"the configured master key with id {key_id} is not the one this database's data keys are "
            "wrapped under: its key check value does not unwrap. Refusing to start; configure the "
            "master key the database was used with (docs/privacy.md)"
        )


def check_master_key(conn: Connection, manager: KeyManager, now: datetime) -> None:
    """Refuse (`WrongMasterKey`) a master key the database's data keys are not wrapped under.

    Run at start, in a write transaction. Each master key the database has seen left a key
    check value in `master_keys`; the configured ones must unwrap theirs, and every key
    still recorded there must be configured (the current one or one being rotated away
    from). A new current key is recorded, with its check value, once the others pass.
    """
    known = {
        k: bytes(v) for k, v in conn.execute(sa.select(t.master_keys.c.key_id, t.master_keys.c.key_check))
    }
    missing = sorted(k for k in known if not manager.knows(k))
    if missing:
        raise WrongMasterKey(
            f"this database's data keys are wrapped under master key(s) {', '.join(missing)}, which the "
            f"configured master key ({manager.key_id}) is not. Refusing to start: set the master key "
            "the database was used with, or, to rotate to a new one, keep the old one in "
            "CONSENTRY_MASTER_KEY_PREVIOUS (docs/privacy.md)"
        )
    for key_id, stored in known.items():
        _check(manager, key_id, stored)
    if not known:
        # A database from before the key check (or whose check rows were lost): its data keys say.
        sample = conn.execute(
            sa.select(t.data_keys.c.contact_id, t.data_keys.c.key_id, t.data_keys.c.wrapped).limit(1)
        ).first()
        if sample is not None:
            try:
                manager.unwrap([WrappedKey(sample[0], sample[1], bytes(sample[2]))])
            except (UnknownMasterKey, UnwrapFailed) as exc:
                raise WrongMasterKey(f"refusing to start: {exc}") from None
    if manager.key_id not in known:
        check = manager.wrap(_CHECK_CONTACT, _CHECK_VALUE)
        conn.execute(
            t.master_keys.insert().values(key_id=check.key_id, key_check=check.wrapped, created_at=now)
        )


def check_at_start(engine: Engine, manager: KeyManager, now: datetime) -> None:
    """`check_master_key` in a write transaction of its own: what a process runs before serving."""
    with _write(engine) as conn, conn.begin():
        check_master_key(conn, manager, now)


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a master key rotation did."""

    rewrapped: int
    retired: tuple[str, ...]


def _write(engine: Engine) -> Connection:
    return engine.connect().execution_options(consentry_write=True)


def rotate_master_key(engine: Engine, manager: KeyManager, now: datetime, batch: int = 2000) -> Rotation:
    """Re-wrap every data key not under the current master key, a batch a transaction; retire old keys.

    The encrypted fields are not touched: their data keys stay the same. Stopped halfway,
    the database holds keys under both master keys, both still configured; running it
    again finishes. Old master keys no data key uses any more are removed from
    `master_keys`, after which the start check no longer asks for them.
    """
    current = manager.key_id
    check_at_start(engine, manager, now)
    rewrapped = 0
    after = ""
    while True:
        with _write(engine) as conn, conn.begin():
            rows = conn.execute(
                sa.select(t.data_keys.c.contact_id, t.data_keys.c.key_id, t.data_keys.c.wrapped)
                .where(t.data_keys.c.contact_id > after, t.data_keys.c.key_id != current)
                .order_by(t.data_keys.c.contact_id)
                .limit(batch)
            ).all()
            if not rows:
                break
            old = [WrappedKey(c, k, bytes(w)) for c, k, w in rows]
            fresh = [manager.wrap(w.contact_id, key) for w, key in zip(old, manager.unwrap(old), strict=True)]
            dk = t.data_keys.c
            stmt = (
                t.data_keys.update()
                .where(dk.contact_id == sa.bindparam("c"), dk.key_id == sa.bindparam("old_key_id"))
                .values(key_id=sa.bindparam("new_key_id"), wrapped=sa.bindparam("w"))
            )
            conn.execute(
                stmt,
                [
                    {"c": n.contact_id, "old_key_id": o.key_id, "new_key_id": n.key_id, "w": n.wrapped}
                    for o, n in zip(old, fresh, strict=True)
                ],
            )
            rewrapped += len(rows)
            after = rows[-1][0]
    retired: list[str] = []
    with _write(engine) as conn, conn.begin():
        for (key_id,) in conn.execute(
            sa.select(t.master_keys.c.key_id).where(t.master_keys.c.key_id != current)
        ):
            in_use = conn.execute(
                sa.select(t.data_keys.c.contact_id).where(t.data_keys.c.key_id == key_id).limit(1)
            )
            if in_use.first() is None:
                retired.append(key_id)
        if retired:
            conn.execute(t.master_keys.delete().where(t.master_keys.c.key_id.in_(retired)))
    return Rotation(rewrapped, tuple(sorted(retired)))


def scrub_destroyed_keys(engine: Engine, rewrite: bool = False) -> bool:
    """Remove what destroyed keys leave in the database's files, beyond the delete itself.

    SQLite (whose deletes `secure_delete` already zeroes): empty the write-ahead log, which
    keeps pages as they were before the delete; False when a reader kept it (try again).
    PostgreSQL: VACUUM `data_keys`, which makes the dead rows' space reusable but does not
    overwrite it (a page's last row stays readable in its free space until new rows fill
    it), or with `rewrite` VACUUM FULL, which writes the table anew and drops the old file
    (it locks the table while it runs: a nightly job, not one per erasure). True when done.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            busy, _log, _done = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return int(busy) == 0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM FULL data_keys" if rewrite else "VACUUM data_keys")
    return True
