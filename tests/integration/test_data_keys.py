"""Per-contact data keys in the store, on SQLite and PostgreSQL: made, loaded, destroyed, rotated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from conftest import NOW
from consentry.adapters.crypto.keyring import KeyDestroyed
from consentry.adapters.crypto.keys import LocalKeyManager
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.data_keys import (
    DataKeyExists,
    DataKeyStore,
    WrongMasterKey,
    check_at_start,
    rotate_master_key,
    scrub_destroyed_keys,
)
from consentry.adapters.sql.engine import create_engine
from consentry.adapters.sql.schema import upgrade

OLD = LocalKeyManager(bytes(range(32)))
NEW = LocalKeyManager(bytes(range(100, 132)))


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    engine = create_engine(store_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def keys(engine: Engine, manager: LocalKeyManager = OLD) -> DataKeyStore:
    """A key store on a write transaction the caller ends (`ks.conn.commit()`)."""
    conn = engine.connect().execution_options(consentry_write=True)
    conn.begin()
    return DataKeyStore(conn, manager)


def started(engine: Engine, manager: LocalKeyManager) -> None:
    """What a start does: check the master key against the database."""
    check_at_start(engine, manager, NOW)


def test_a_created_key_is_loaded_back_and_decrypts_what_it_encrypted(engine: Engine) -> None:
    ks = keys(engine)
    blob = ks.create("ct_1", NOW).encrypt("email", "eva@example.nl")
    ks.conn.commit()
    ks.conn.close()
    ks = keys(engine)
    assert ks.cipher("ct_1").decrypt("email", blob) == "eva@example.nl"
    ks.conn.close()


def test_many_contacts_keys_load_in_one_keyring_and_missing_ones_are_absent(engine: Engine) -> None:
    ids = [f"ct_{i:05d}" for i in range(1200)]  # more than one IN chunk
    ks = keys(engine)
    made = ks.create_many(ids, NOW)
    ks.conn.commit()
    ring = ks.load([*ids, "ct_unknown"])
    assert len(ring) == 1200 and "ct_unknown" not in ring
    blob = made["ct_01100"].encrypt("name", "Henk Smit")
    assert ring.cipher("ct_01100").decrypt("name", blob) == "Henk Smit"
    ks.conn.close()


def test_a_contact_cannot_get_a_second_key(engine: Engine) -> None:
    ks = keys(engine)
    ks.create("ct_1", NOW)
    with pytest.raises(DataKeyExists, match="already has a data key"):
        ks.create("ct_1", NOW)
    ks.conn.close()


def test_a_contact_named_twice_in_one_batch_is_refused_before_anything_is_written(engine: Engine) -> None:
    ks = keys(engine)
    with pytest.raises(ValueError, match="named twice"):
        ks.create_many(["ct_1", "ct_2", "ct_1"], NOW)
    assert len(ks.load(["ct_1", "ct_2"])) == 0
    ks.conn.close()


def test_a_destroyed_key_is_gone_and_its_fields_can_no_longer_be_read(engine: Engine) -> None:
    ks = keys(engine)
    ks.create_many(["ct_1", "ct_2"], NOW)
    assert ks.destroy(["ct_1", "ct_9"]) == 1
    ks.conn.commit()
    with pytest.raises(KeyDestroyed, match="ct_1"):
        ks.cipher("ct_1")
    assert "ct_2" in ks.load(["ct_1", "ct_2"])
    ks.conn.close()


def test_the_first_start_records_the_master_key_and_the_same_key_starts_again(engine: Engine) -> None:
    started(engine, OLD)
    started(engine, OLD)
    with engine.connect() as conn:
        assert conn.execute(sa.select(t.master_keys.c.key_id)).scalars().all() == [OLD.key_id]


def test_a_wrong_master_key_refuses_to_start_with_a_clear_message(engine: Engine) -> None:
    started(engine, OLD)
    with pytest.raises(
        WrongMasterKey, match=f"wrapped under master key\\(s\\) {OLD.key_id}.*Refusing to start"
    ):
        started(engine, NEW)


def test_a_master_key_whose_check_value_does_not_unwrap_refuses_to_start(engine: Engine) -> None:
    started(engine, OLD)
    with engine.begin() as conn:  # the same id, another key: what a KMS key name pointing elsewhere gives
        conn.execute(t.master_keys.update().values(key_check=NEW.wrap("x", bytes(32)).wrapped))
    with pytest.raises(WrongMasterKey, match="key check value does not unwrap"):
        started(engine, OLD)


def test_a_database_with_data_keys_but_no_check_value_is_checked_against_a_data_key(engine: Engine) -> None:
    ks = keys(engine)
    ks.create("ct_1", NOW)
    ks.conn.commit()
    ks.conn.close()
    with pytest.raises(WrongMasterKey, match="not configured"):
        started(engine, NEW)
    started(engine, OLD)


def test_rotation_rewraps_every_key_without_changing_it_and_retires_the_old_master_key(
    engine: Engine,
) -> None:
    started(engine, OLD)
    ks = keys(engine)
    blobs = {
        c: cipher.encrypt("email", f"{c}@example.nl")
        for c, cipher in ks.create_many(["a", "b", "c"], NOW).items()
    }
    ks.conn.commit()
    ks.conn.close()
    rotating = LocalKeyManager(bytes(range(100, 132)), previous=[bytes(range(32))])
    done = rotate_master_key(engine, rotating, NOW, batch=2)
    assert done.rewrapped == 3 and done.retired == (OLD.key_id,)
    started(engine, NEW)  # the old key is no longer needed
    ks = keys(engine, NEW)
    ring = ks.load(blobs)
    assert {c: ring.cipher(c).decrypt("email", b) for c, b in blobs.items()} == {
        c: f"{c}@example.nl" for c in blobs
    }
    ks.conn.close()
    assert rotate_master_key(engine, NEW, NOW).rewrapped == 0


def test_a_rotation_stopped_halfway_leaves_both_keys_needed_and_finishes_when_run_again(
    engine: Engine,
) -> None:
    started(engine, OLD)
    ks = keys(engine)
    ks.create_many(["a", "b", "c"], NOW)
    ks.conn.commit()
    ks.conn.close()
    rotating = LocalKeyManager(bytes(range(100, 132)), previous=[bytes(range(32))])
    with engine.begin() as conn:  # one key re-wrapped, as a rotation stopped after its first batch leaves it
        wrapped = rotating.wrap("a", OLD.unwrap(DataKeyStore(conn, OLD).wrapped(["a"]))[0])
        conn.execute(
            t.data_keys.update()
            .where(t.data_keys.c.contact_id == "a")
            .values(key_id=wrapped.key_id, wrapped=wrapped.wrapped)
        )
    with pytest.raises(WrongMasterKey):
        started(engine, NEW)
    assert rotate_master_key(engine, rotating, NOW).rewrapped == 2
    started(engine, NEW)


def _file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_on_sqlite_a_destroyed_key_leaves_no_copy_in_the_file_or_its_log(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    ks = keys(engine)
    # Enough contacts that the doomed ones' rows fill pages of their own, freed by the delete.
    ks.create_many([f"ct_{i:05d}" for i in range(3000)], NOW)
    ks.conn.commit()
    doomed = [f"ct_{i:05d}" for i in range(1000, 1400)]
    stored = [w.wrapped for w in ks.wrapped(doomed)]
    ks.conn.close()
    assert all(w in _file_bytes(path) for w in stored[:5])
    ks = keys(engine)
    assert ks.destroy(doomed) == 400
    ks.conn.commit()
    ks.conn.close()
    assert scrub_destroyed_keys(engine)
    engine.dispose()
    left = _file_bytes(path)
    assert [w for w in stored if w in left] == []
    assert b"ct_01200" not in left


def test_secure_delete_is_on_for_every_sqlite_connection(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    engine.dispose()


def _pages_holding(conn: sa.Connection, values: list[bytes]) -> list[bytes]:
    """Those of `values` found anywhere in data_keys' pages, live or dead (pageinspect)."""
    pages = conn.exec_driver_sql("SELECT pg_relation_size('data_keys') / 8192").scalar_one()
    raw = b"".join(
        bytes(conn.execute(sa.text("SELECT get_raw_page('data_keys', :b)"), {"b": b}).scalar_one())
        for b in range(pages)
    )
    return [v for v in values if v in raw]


def test_on_postgresql_vacuum_full_removes_destroyed_keys_from_the_table_pages(pg_url: str) -> None:
    engine = create_engine(pg_url)
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
        except sa.exc.DBAPIError:
            pytest.skip("the pageinspect extension is not installed on this PostgreSQL server")
    upgrade(engine)
    ks = keys(engine)
    ks.create_many([f"ct_{i:05d}" for i in range(600)], NOW)
    ks.conn.commit()
    stored = {w.contact_id: w.wrapped for w in ks.wrapped([f"ct_{i:05d}" for i in range(600)])}
    # The last row written to each page: a plain VACUUM leaves its bytes in the page's free space.
    last_in_page = [
        c
        for (c,) in ks.conn.exec_driver_sql(
            "SELECT contact_id FROM data_keys WHERE ctid IN (SELECT max(ctid) FROM data_keys"
            " GROUP BY (ctid::text::point)[0])"
        )
    ]
    doomed = [*last_in_page, "ct_00100", "ct_00101"]
    ks.conn.commit()
    assert ks.destroy(doomed) == len(doomed)
    ks.conn.commit()
    ks.conn.close()
    assert scrub_destroyed_keys(engine)
    with engine.connect() as conn:
        assert _pages_holding(conn, [stored[c] for c in last_in_page]) != []  # what VACUUM leaves
    assert scrub_destroyed_keys(engine, rewrite=True)
    with engine.connect() as conn:
        assert _pages_holding(conn, [stored[c] for c in doomed]) == []
        alive = [stored[c] for c in stored if c not in doomed][:3]
        assert _pages_holding(conn, alive) == alive
    engine.dispose()
