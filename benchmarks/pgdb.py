"""A scratch PostgreSQL database for a benchmark: created empty, dropped afterwards.

The server is CONSENTRY_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
A PostgreSQL store needs its keys in the settings: see `benchkeys`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import benchkeys  # noqa: F401  (the stores' keys, before any store is built)
import sqlalchemy as sa

PG_URL = os.environ.get("CONSENTRY_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def backend_cpu(pid: int | None) -> float | None:
    """CPU seconds a local PostgreSQL backend has used (None without one, or when it cannot be read)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _reset(name: str, create: bool) -> bool:
    """Drop the database (and create it afresh); False when PostgreSQL cannot be reached."""
    try:
        engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if create:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return True
    except Exception as exc:  # no server here
        print(f"PostgreSQL not reachable ({type(exc).__name__}); skipped")
        return False


@contextmanager
def scratch_database(name: str) -> Iterator[str | None]:
    """The URL of a fresh database `name`, dropped on leaving; None when there is no server."""
    if not _reset(name, create=True):
        yield None
        return
    try:
        yield sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _reset(name, create=False)


def kept_database(name: str) -> str:
    """The URL of database `name`, created if missing and kept afterwards (a benchmark's --keep)."""
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if found is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
