"""SQLite binds bytes, None and bools as it always did, through the adapters `create_engine` registers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from consentry.adapters.sql.engine import create_engine


class _Blob(bytes):
    """A bytes subclass: no adapter of ours applies to it."""


def test_bytes_none_and_bools_are_stored_as_blobs_nulls_and_integers(tmp_path: Path) -> None:
    values = [b"", b"\x00\xff" * 16, _Blob(b"sub"), None, True, False, 0, 7, -(2**63), 1.5, "text", "é"]

    def stored(db: str) -> list[tuple[object, str]]:
        conn = sqlite3.connect(tmp_path / db)
        conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, v)")
        conn.executemany("INSERT INTO t (v) VALUES (?)", [(v,) for v in values])
        conn.execute("INSERT INTO t (v) VALUES (?)", (True,))
        rows = conn.execute("SELECT v, typeof(v) FROM t ORDER BY n").fetchall()
        conn.close()
        return rows

    expected = [
        (b"", "blob"),
        (b"\x00\xff" * 16, "blob"),
        (b"sub", "blob"),
        (None, "null"),
        (1, "integer"),
        (0, "integer"),
        (0, "integer"),
        (7, "integer"),
        (-(2**63), "integer"),
        (1.5, "real"),
        ("text", "text"),
        ("é", "text"),
        (1, "integer"),
    ]
    before = stored("before.db")  # without our adapters when this test runs first in its process
    engine = create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        after = stored("after.db")
    finally:
        engine.dispose()
    assert before == after == expected
    assert [type(v) for v, _ in after] == [type(v) for v, _ in expected]
