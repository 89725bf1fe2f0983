"""Revision 0015 (the events table's lean stored form) on a populated database, on both stores.

The database is taken back to revision 0014 (each row's hash and the one before it as 64 hex
characters; on SQLite `seq` a BIGINT key beside a hidden rowid), then upgraded again: a row
keeps its own hash as 32 bytes, SQLite's `seq` is the rowid, and the chain, its verification
and a checkpoint signed before the upgrade hold as before. Without a stored previous hash, a
removed or reordered row still breaks the chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from attacks import sql
from conftest import define_purposes, make_app
from consentry.adapters import signing
from consentry.adapters.sql import schema
from consentry.bootstrap import App
from consentry.services import audit, checkpoints, integrity, ledger
from contact_people import people


@pytest.fixture
def populated(store_url: str) -> Iterator[App]:
    app = make_app(store_url)
    define_purposes(app)
    people(app)
    yield app
    app.store.engine.dispose()


def _stored(app: App, columns: str) -> list[tuple[object, ...]]:
    with app.store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(f"SELECT {columns} FROM events ORDER BY seq"))]


def _as_0014(app: App) -> None:
    cfg = schema.alembic_config(app.store.engine)
    with app.store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0014")


def _sqlite_keys(app: App) -> list[str]:
    """The b-trees SQLite keeps for `events` besides the table itself."""
    with app.store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE tbl_name = 'events' AND type = 'index'"
        )
        return sorted(row[0] for row in rows)


def test_a_populated_0014_ledger_keeps_its_chain_in_32_byte_hashes(populated: App, tmp_path: Path) -> None:
    app = populated
    with app.store.reader() as r:
        chain = [(row.seq, row.prev_hash, row.hash) for row in r.chain()]
        head = r.head()
    assert len(chain) >= 8 and chain[-1][0] == head[0] and chain[-1][2] == head[1]
    signer = signing.generate(tmp_path / "checkpoint.key")
    signed = checkpoints.make(app, signer)

    _as_0014(app)
    assert schema.current_revision(app.store.engine) == "0014"
    # As 0014 kept them: the same hashes, in hex.
    assert _stored(app, "seq, prev_hash, hash") == chain
    if app.store.engine.dialect.name == "sqlite":
        assert _sqlite_keys(app) == [
            "ix_events_point_time",
            "sqlite_autoindex_events_1",
            "sqlite_autoindex_events_2",
        ]

    app.store.migrate()
    assert schema.current_revision(app.store.engine) == schema.head_revision(app.store.engine)
    stored = _stored(app, "seq, hash")
    assert [(s, bytes(h).hex()) for s, h in stored] == [(s, h) for s, _, h in chain]  # type: ignore[arg-type]
    assert all(len(bytes(h)) == 32 for _, h in stored)  # type: ignore[arg-type]
    with app.store.engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("events")}
    assert "prev_hash" not in columns
    if app.store.engine.dialect.name == "sqlite":
        assert _sqlite_keys(app) == ["ix_events_point_time", "sqlite_autoindex_events_1"]
        with app.store.engine.connect() as conn:
            rowids = conn.exec_driver_sql("SELECT rowid, seq FROM events ORDER BY seq").all()
        assert all(rowid == seq for rowid, seq in rowids)

    with app.store.reader() as r:
        assert [(row.seq, row.prev_hash, row.hash) for row in r.chain()] == chain
    report = integrity.verify_ledger(app)
    assert report.ok and report.events == len(chain)
    assert audit.verify_checkpoints(app, [signed], signer.public).ok
    # The ledger goes on from the same head.
    ledger.append_records(
        app, [(1, {"type": "objection.recorded", "contact": "jan@example.nl", "scope": "direct_marketing"})]
    )
    assert integrity.verify_ledger(app).ok
    with app.store.reader() as r:
        last = list(r.chain())[-1]
    assert last.seq == head[0] + 1 and last.prev_hash == head[1]


def test_a_removed_row_still_breaks_the_chain(populated: App) -> None:
    sql(populated, "DELETE FROM events WHERE seq = 4")
    problems = integrity.verify_ledger(populated).problems
    assert [(p.seq, p.problem) for p in problems] == [
        (5, "expected seq 4: events missing"),
        (5, "content does not match its hash: edited"),
    ]


def test_reordered_rows_still_break_the_chain(populated: App) -> None:
    sql(
        populated,
        "UPDATE events SET seq = 1000 WHERE seq = 3",
        "UPDATE events SET seq = 3 WHERE seq = 4",
        "UPDATE events SET seq = 4 WHERE seq = 1000",
    )
    problems = integrity.verify_ledger(populated).problems
    assert {p.seq for p in problems} == {3, 4, 5}
    assert all(p.problem == "content does not match its hash: edited" for p in problems)
