"""Alembic environment: runs on the connection consentry hands it, or on the configured URL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from consentry.adapters.sql.engine import create_engine
from consentry.adapters.sql.tables import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # consentry's own engine, with its connection settings: on SQLite `secure_delete`, so
        # a migration that writes a table again (0020's `data_keys`) leaves no copy of what it
        # moved in the freed pages, when run as `alembic upgrade head` too.
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///consentry.db")
        with engine.begin() as conn:
            _configure_and_run(conn)
        return
    _configure_and_run(connection)


def _configure_and_run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run()
