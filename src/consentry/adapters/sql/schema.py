"""Bringing a database's schema up to date with Alembic."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from consentry.adapters.crypto.vault import Vault

#: The migrations stay beside the store package (`adapters/migrations`), where Alembic and
#: the package data expect them.
MIGRATIONS = Path(__file__).parents[1] / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our migrations and this engine's database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(
    engine: Engine, vault: Vault | None = None, now: datetime | None = None, to: str = "head"
) -> None:
    """Apply every migration not yet applied (up to revision `to`), in one transaction.

    `vault` and `now` are the store's keys and clock, for a migration that seals data
    (0009 upgrading a populated ledger); without them it reads the keys from the settings.
    """
    cfg = alembic_config(engine)
    with engine.connect().execution_options(consentry_write=True) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        cfg.attributes["vault"] = vault
        cfg.attributes["now"] = now
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(cfg, to)
        after = MigrationContext.configure(conn).get_current_revision()
        if after != before and after == ScriptDirectory.from_config(cfg).get_current_head():
            _project_again(conn, vault, now)
    if engine.dialect.name == "sqlite":
        # An upgrade that sealed clear data (0009) leaves the pages as they were in the
        # write-ahead log: empty it (the file's freed pages are zeroed by secure_delete).
        with engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _project_again(conn: Connection, given: Vault | None, now: datetime | None) -> None:
    """Rebuild the projection a migration emptied (`upgrade_v2.rebuild_emptied_projection`)."""
    from consentry.adapters.sql.upgrade_v2 import rebuild_emptied_projection

    def keys() -> Vault:
        if given is not None:
            return given
        from consentry.adapters.crypto.vault import vault
        from consentry.settings import Settings

        return vault(Settings(database_url=conn.engine.url.render_as_string(hide_password=False)))

    rebuild_emptied_projection(conn, keys, now or datetime.now(UTC))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
