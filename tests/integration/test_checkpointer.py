"""SQLite as consentry configures it: durable commits, and WAL checkpoints off the request path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import sqlalchemy as sa

from conftest import define_purposes, make_app
from consentry.adapters.sql.engine import Checkpointer, create_engine
from consentry.services import ledger


def test_the_background_checkpointer_folds_the_write_ahead_log_back_into_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    app = make_app(url)
    define_purposes(app)
    serving = create_engine(url, serving=True)
    with serving.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    app.store.engine = serving  # the app now writes as a server does: no checkpoint in its commits
    checkpointer = Checkpointer(serving, every_s=0.05)
    checkpointer.start()
    lines = [
        json.dumps({"type": "contact_point.registered", "kind": "email", "value": f"p{i}@example.nl",
                    "source": "web_form"})
        for i in range(300)
    ]  # fmt: skip
    ledger.append_lines(app, lines)
    checkpointer.stop()
    with serving.connect() as conn:
        busy, log, done = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        assert busy == 0 and log == done  # nothing left in the log that was not checkpointed
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == 300
    serving.dispose()


def test_every_sqlite_commit_is_flushed_to_disk_before_it_returns(tmp_path: Path) -> None:
    # An acknowledged unsubscribe must survive a power cut: WAL with synchronous=FULL
    # (2), for serving and for command-line processes alike.
    url = f"sqlite:///{tmp_path / 'd.db'}"
    for engine in (create_engine(url), create_engine(url, serving=True)):
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
            # and a log a bulk load grew is cut back once it starts over
            assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == 64 * 1024 * 1024
        engine.dispose()


def test_a_new_database_has_8_kib_pages_and_an_existing_one_keeps_its_own(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'new.db'}")
    with app.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 8192
    app.store.engine.dispose()
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as raw:  # made by an earlier consentry, with SQLite's default
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("CREATE TABLE t (x)")
    engine = create_engine(f"sqlite:///{old}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    engine.dispose()
